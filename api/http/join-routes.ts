/**
 * The operator's side of joining, on the Proxy's API (the exchange itself is on the join listener, switch/join/):
 * the listener's status, join tokens (create, list, revoke) and the hosts that joined (list, remove). Creating a
 * token lets a host into the overlay, so it is an operator's act: a policy's token is refused here as by the
 * auth middleware (its mutations are the primitives only), and a read-only token by the middleware.
 * A daemon without `join:` in its config answers 404 `join-off`.
 */
import type { Hono } from 'hono';
import { VswitchError } from '../../switch/errors.js';
import type { JoinAdmin } from '../../switch/join/join-admin.js';
import { isPolicyActor } from '../../switch/overlay/local-primitives.js';
import type { Actor } from '../../switch/overlay/primitives.js';
import type { components } from '../generated/openapi.js';
import type { ApiEnv } from './primitive-routes.js';

type Schemas = components['schemas'];

/** This daemon has no join listener (not a Proxy, or no `join:` in its config). HTTP 404. */
export class JoinOffError extends VswitchError {
  constructor() {
    super('join-off', 'this daemon takes no joins: joining is on the Proxy, with `join: { listen: "IP:PORT" }` in its config', { httpStatus: 404 });
  }
}

/** A policy asked to change who is in the overlay. HTTP 403. */
export class JoinForbiddenError extends VswitchError {
  constructor(actor: string) {
    super('policy-forbidden', `${actor} is a policy: only an operator creates and revokes join tokens and removes joined hosts`, { httpStatus: 403 });
  }
}

export function registerJoinRoutes(app: Hono<ApiEnv>, join: JoinAdmin | undefined): void {
  const admin = (): JoinAdmin => {
    if (!join) throw new JoinOffError();
    return join;
  };
  const operator = (actor: Actor): Actor => {
    if (isPolicyActor(actor.name)) throw new JoinForbiddenError(actor.name);
    return actor;
  };
  app.get('/v1/join', (c) => c.json(admin().status() satisfies Schemas['JoinStatus']));
  app.get('/v1/join-tokens', (c) => c.json({ tokens: admin().tokens() } satisfies Schemas['JoinTokenList']));
  app.post('/v1/join-tokens', (c) => {
    const join = admin();
    const body = c.get('request').body as Schemas['JoinTokenInput'];
    return c.json(join.createToken(body, operator(c.get('actor'))) satisfies Schemas['JoinTokenCreated'], 201);
  });
  app.delete('/v1/join-tokens/:id', (c) => {
    const join = admin();
    return c.json(join.revokeToken(String(c.get('request').params.id), operator(c.get('actor'))) satisfies Schemas['JoinToken']);
  });
  app.get('/v1/joined-hosts', (c) => c.json({ hosts: admin().hosts() } satisfies Schemas['JoinedHostList']));
  app.delete('/v1/joined-hosts/:name', async (c) => {
    const join = admin();
    await join.removeHost(String(c.get('request').params.name), operator(c.get('actor')));
    return c.body(null, 204);
  });
}

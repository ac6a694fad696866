/**
 * The VNET primitives as HTTP routes, registered twice: under `/v1` on this
 * daemon's own Primitives, and under `/v1/hosts/:host` on the Primitives the
 * Proxy relays to a named host. Handlers are thin: the request was already
 * authenticated and validated against openapi.yaml (middleware), so they
 * read the checked body and parameters, call one primitive with the actor,
 * and shape the answer. Errors are thrown and mapped in api/http/errors.ts.
 */
import type { Context, Hono } from 'hono';
import { VswitchError } from '../../switch/errors.js';
import { NotFoundError, type Actor, type LinkInput, type PortInput, type Primitives, type RuleInput } from '../../switch/overlay/primitives.js';
import type { MatchedRequest } from './request-validator.js';

export type ApiEnv = { Variables: { actor: Actor; request: MatchedRequest } };
export type PrimitivesResolver = (c: Context<ApiEnv>) => Primitives;

/** A /v1/hosts/… request to a daemon that is not the Proxy. HTTP 404. */
export class NotProxyError extends VswitchError {
  constructor() {
    super('not-proxy', 'this daemon is not the proxy: /v1/hosts/… is served by the daemon whose role is proxy', { httpStatus: 404 });
  }
}

export function registerPrimitiveRoutes(app: Hono<ApiEnv>, prefix: string, primitivesOf: PrimitivesResolver): void {
  app.get(`${prefix}/interfaces`, async (c) => c.json({ interfaces: await primitivesOf(c).interfaces() }));
  app.get(`${prefix}/ports`, async (c) => c.json({ ports: await primitivesOf(c).ports() }));
  app.post(`${prefix}/ports`, async (c) => c.json(await primitivesOf(c).addPort(bodyOf<PortInput>(c), c.get('actor')), 201));
  app.delete(`${prefix}/ports/:name`, async (c) => {
    await primitivesOf(c).deletePort(String(c.get('request').params.name), c.get('actor'));
    return c.body(null, 204);
  });
  app.get(`${prefix}/links`, async (c) => c.json({ links: await primitivesOf(c).links() }));
  app.post(`${prefix}/links`, async (c) => c.json(await primitivesOf(c).addLink(bodyOf<LinkInput>(c), c.get('actor')), 201));
  app.delete(`${prefix}/links/:name`, async (c) => {
    await primitivesOf(c).deleteLink(String(c.get('request').params.name), c.get('actor'));
    return c.body(null, 204);
  });
  app.get(`${prefix}/rules`, async (c) => c.json({ rules: await primitivesOf(c).rules() }));
  app.post(`${prefix}/rules`, async (c) => c.json(await primitivesOf(c).addRule(bodyOf<RuleInput>(c), c.get('actor')), 201));
  app.delete(`${prefix}/rules/:id`, async (c) => {
    await primitivesOf(c).deleteRule(Number(c.get('request').params.id), c.get('actor'));
    return c.body(null, 204);
  });
  app.get(`${prefix}/config-time`, async (c) => c.json(await primitivesOf(c).configTimeBound()));
  app.put(`${prefix}/config-time`, async (c) => {
    const { upperBoundMs } = bodyOf<{ upperBoundMs: number }>(c);
    return c.json(await primitivesOf(c).setConfigTimeBound(upperBoundMs, c.get('actor')));
  });
}

/** For /v1/hosts/:host/…: the relayed Primitives of that host, or 404 (not the Proxy, or no such host). */
export function hostResolver(host: ((name: string) => Primitives | undefined) | undefined): PrimitivesResolver {
  return (c) => {
    if (!host) throw new NotProxyError();
    const name = String(c.get('request').params.host);
    const primitives = host(name);
    if (!primitives) throw new NotFoundError('host', name);
    return primitives;
  };
}

function bodyOf<T>(c: Context<ApiEnv>): T {
  return c.get('request').body as T;
}

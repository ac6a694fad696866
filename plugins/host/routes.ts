/**
 * The plugins on the Proxy's API (the registry is plugins/host/registry.ts):
 *   GET /v1/plugins, POST /v1/plugins (register an HTTP policy; 201 with its token),
 *   GET|PATCH|DELETE /v1/plugins/{name}, GET /v1/plugins/{name}/events (the policy's SSE stream).
 * Who may do what: operators list, register, enable, disable and unregister; a policy (its token) reads, streams its
 * own events and unregisters itself (auth.ts lets it do no other change here).
 * A standby Proxy (HA) answers registering, changing and streaming with 421 `proxy-standby` naming the active one.
 */
import type { Context, Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { HttpPolicyEntry } from './http-policy.js';
import { POLICY_ACTOR_PREFIX } from '../../switch/overlay/local-primitives.js';
import { policyActorName, type PolicyRegistration } from './plugin.js';
import type { PluginRegistry } from './registry.js';
import { PolicyForbiddenError } from '../../api/http/auth.js';
import { NotProxyError, type ApiEnv } from '../../api/http/primitive-routes.js';
import type { ProxyStandbyError } from '../../switch/ha/proxy-standby-error.js';

const KEEPALIVE_MS = 15_000;

/** Mounted on every daemon; `registry` is the Proxy's (undefined elsewhere: 404 not-proxy). */
export function registerPluginRoutes(app: Hono<ApiEnv>, registry: () => PluginRegistry | undefined, standby: () => ProxyStandbyError | undefined = () => undefined): void {
  const registryOf = (): PluginRegistry => {
    const running = registry();
    if (!running) throw new NotProxyError();
    return running;
  };
  /** The registry, where it may act: not on a standby Proxy. */
  const activeRegistryOf = (): PluginRegistry => {
    const running = registryOf();
    const refused = standby();
    if (refused) throw refused;
    return running;
  };
  const isPolicy = (c: Context<ApiEnv>): boolean => c.get('actor').name.startsWith(POLICY_ACTOR_PREFIX);
  const operatorOnly = (c: Context<ApiEnv>, what: string): void => {
    if (isPolicy(c)) throw new PolicyForbiddenError('policy-forbidden', `only an operator may ${what}`);
  };

  app.get('/v1/plugins', async (c) => c.json({ plugins: await registryOf().list() }));
  app.post('/v1/plugins', async (c) => {
    const registry = activeRegistryOf();
    operatorOnly(c, 'register a policy');
    const { view, token } = await registry.register(c.get('request').body as PolicyRegistration, c.get('actor'));
    return c.json({ ...view, token }, 201);
  });
  app.get('/v1/plugins/:name', async (c) => c.json(await registryOf().get(c.req.param('name'))));
  app.patch('/v1/plugins/:name', async (c) => {
    const registry = activeRegistryOf();
    operatorOnly(c, 'enable or disable a plugin');
    const { enabled } = c.get('request').body as { enabled: boolean };
    return c.json(await registry.setEnabled(c.req.param('name'), enabled));
  });
  app.delete('/v1/plugins/:name', async (c) => {
    const registry = activeRegistryOf();
    const name = c.req.param('name');
    if (isPolicy(c) && c.get('actor').name !== policyActorName(name)) {
      throw new PolicyForbiddenError('policy-forbidden', `a policy may unregister only itself, not "${name}"`);
    }
    await registry.unregister(name);
    return c.body(null, 204);
  });
  app.get('/v1/plugins/:name/events', (c) => {
    const registry = activeRegistryOf();
    const name = c.req.param('name');
    const entry = registry.entry(name);
    if (!(entry instanceof HttpPolicyEntry) || c.get('actor').name !== entry.actor) {
      throw new PolicyForbiddenError('policy-forbidden', `only policy "${name}" itself, with its token, may read its events`);
    }
    return streamPolicyEvents(c, registry, entry);
  });
}

/** `event: hello`, then what is queued as it comes (`event: dropped` when some fell out); ends when either side goes. */
function streamPolicyEvents(c: Context<ApiEnv>, registry: PluginRegistry, entry: HttpPolicyEntry): Response {
  return streamSSE(c, async (stream) => {
    const policyStream = entry.openStream(registry.currentEventsFor(entry.events));
    stream.onAbort(() => policyStream.close());
    await stream.writeSSE({ event: 'hello', data: JSON.stringify(await registry.get(entry.name)) });
    while (!policyStream.closed) {
      const { dropped, events } = policyStream.take();
      if (dropped > 0) await stream.writeSSE({ event: 'dropped', data: JSON.stringify({ dropped }) });
      for (const event of events) await stream.writeSSE({ event: event.type, id: String(event.seq), data: JSON.stringify(event) });
      if (events.length > 0 || dropped > 0) continue;
      const woken = await policyStream.wait(KEEPALIVE_MS);
      if (!woken) await stream.write(': keepalive\n\n');
    }
  });
}

/**
 * createApp builds the daemon's HTTP API as a Hono app and never listens:
 * tests call `app.request(...)`, `server.ts` binds it to a socket. What the
 * routes act on comes in as `ApiDeps`, so the API knows nothing of ports or
 * sockets, only of the Primitives and views the daemon gives it.
 *
 * Request flow (one middleware chain, in this order):
 *   1. authenticate — bearer token → actor; 401/403 (api/http/auth.ts);
 *   2. validateRequests — path, query and body against openapi.yaml; 400
 *      naming the field, before any handler runs (api/http/request-validator.ts);
 *   3. the route — one primitive call (api/http/primitive-routes.ts);
 *   any thrown error → problem+json in one place (api/http/errors.ts).
 * openapi.yaml is the one source: the routes registered here and the spec's
 * paths must be the same set (test/api/http/routes-match-spec.test.ts).
 */
import { Hono } from 'hono';
import { authenticate } from './auth.js';
import { bodyLimit } from './body-limit.js';
import { requestGuard } from './request-guard.js';
import { limitEventStreams, SseGate, specEventStreams } from './sse-limits.js';
import { renderDocsPage } from './docs-page.js';
import { errorToResponse, notFoundResponse } from './errors.js';
import { hostResolver, NotProxyError, registerPrimitiveRoutes, type ApiEnv } from './primitive-routes.js';
import { createRequestValidator, validateRequests } from './request-validator.js';
import { registerTopologyRoutes } from './topology-routes.js';
import { registerDashboardRoutes } from './dashboard-routes.js';
import { registerJoinRoutes } from './join-routes.js';
import type { ApiDeps } from './deps.js';

import type { StateView } from '../wire/schemas.js';

export type { ApiDeps, RouteMount } from './deps.js';

/** What GET /v1/state says for an app whose daemon gave no state (tests): nothing saved. */
const MEMORY_ONLY_STATE: StateView = { persistent: false, records: 0, bytes: 0, entries: 0, compactions: 0, tornBytesDropped: 0, openMs: 0, items: [] };

export function createApp(deps: ApiDeps): Hono<ApiEnv> {
  const validator = createRequestValidator(deps.specText);
  // Rendered on the first GET /docs: it parses the spec again (0.13 s, 1 MB kept), which most daemons never need.
  let docsHtml: string | undefined;
  const app = new Hono<ApiEnv>();
  // First the guard (Host, Origin, content type) and the body bound, so a cross-origin or oversized request is
  // refused before anything else reads it; event streams are limited after validation, so a 401 takes no slot.
  app.use('*', requestGuard({ listen: deps.listen ?? '127.0.0.1:0', ...(deps.allowedHosts ? { allowedHosts: deps.allowedHosts } : {}), log: deps.log }));
  app.use('*', bodyLimit());
  app.use('*', authenticate(deps.auth, validator, deps.log));
  app.use('*', validateRequests(validator));
  app.use('*', limitEventStreams(deps.sseGate ?? new SseGate(), specEventStreams(validator), { ...deps.sseBounds, log: deps.log }));

  app.get('/openapi.yaml', (c) => c.body(deps.specText, 200, { 'content-type': 'application/yaml; charset=utf-8' }));
  app.get('/docs', (c) => c.html((docsHtml ??= renderDocsPage(deps.specText))));
  app.get('/metrics', async (c) =>
    c.body(deps.metrics ? await deps.metrics() : '', 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }),
  );
  app.get('/v1/status', (c) => c.json(deps.status()));
  app.get('/v1/macs', (c) => c.json({ macs: deps.macs() }));
  app.get('/v1/state', (c) => c.json(deps.state?.() ?? MEMORY_ONLY_STATE));
  app.get('/v1/hosts', (c) => {
    if (!deps.hosts) throw new NotProxyError();
    return c.json({ hosts: deps.hosts() });
  });
  registerPrimitiveRoutes(app, '/v1', () => deps.local);
  registerPrimitiveRoutes(app, '/v1/hosts/:host', hostResolver(deps.host?.bind(deps)));
  registerTopologyRoutes(app, deps);
  registerDashboardRoutes(app, deps, deps.dashboard);
  registerJoinRoutes(app, deps.join);
  for (const mount of deps.mounts ?? []) mount(app);

  app.notFound((c) => notFoundResponse(c));
  app.onError((err, c) => errorToResponse(err, c, deps.log));
  return app;
}

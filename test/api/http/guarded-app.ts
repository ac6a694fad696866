/**
 * Until app.ts wires them, the request guard, the body limit and the
 * event-stream limits are put in front of a createApp app here, in the order
 * the wiring will have: requestGuard → bodyLimit → (createApp: authenticate →
 * validateRequests) → limitEventStreams → routes. (In createApp the stream
 * limits go after validateRequests; here they run before authenticate, which
 * only means a refused token would take a slot for the length of its 401.)
 *
 * The tests also hand createApp the deps the wiring adds (`wiringDeps`:
 * listen, allowedHosts, sseGate, sseBounds); today it ignores them. Once
 * app.ts wires the middleware, `guarded` returns `app` and the cast in
 * `wiringDeps` goes.
 *
 * VSWITCH_GUARD_BASELINE=1 returns the app unguarded: the guard tests then
 * run against today's createApp and fail, which is what shows they test
 * something.
 */
import { Hono } from 'hono';
import type { ApiDeps } from '../../../api/http/app.js';
import { bodyLimit } from '../../../api/http/body-limit.js';
import { errorToResponse } from '../../../api/http/errors.js';
import type { ApiEnv } from '../../../api/http/primitive-routes.js';
import { requestGuard } from '../../../api/http/request-guard.js';
import { createRequestValidator } from '../../../api/http/request-validator.js';
import { limitEventStreams, SseGate, specEventStreams, type EventStreamBounds } from '../../../api/http/sse-limits.js';

export interface GuardWiring {
  /** ApiDeps.listen (config api.listen); default: loopback, the port a connection came to. */
  listen?: string;
  allowedHosts?: readonly string[];
  sseGate?: SseGate;
  sseBounds?: EventStreamBounds;
}

export const IS_BASELINE = process.env.VSWITCH_GUARD_BASELINE === '1';

/** The deps the wiring adds to ApiDeps, for the fixture's `overrides`. */
export function wiringDeps(wiring: GuardWiring): Partial<ApiDeps> {
  return { ...wiring } as Partial<ApiDeps>;
}

export function guarded(app: Hono<ApiEnv>, deps: ApiDeps, wiring: GuardWiring = {}): Hono<ApiEnv> {
  if (IS_BASELINE) return app;
  const validator = createRequestValidator(deps.specText);
  const outer = new Hono<ApiEnv>();
  outer.use('*', requestGuard({ listen: wiring.listen ?? '127.0.0.1:0', ...(wiring.allowedHosts ? { allowedHosts: wiring.allowedHosts } : {}), log: deps.log }));
  outer.use('*', bodyLimit());
  outer.use('*', limitEventStreams(wiring.sseGate ?? new SseGate(), specEventStreams(validator, deps.specText), { ...wiring.sseBounds, log: deps.log }));
  // Hono answers HEAD by running GET and dropping the body; inside createApp the middleware sees that body, so here too.
  outer.all('*', (c) => app.fetch(c.req.method === 'HEAD' ? new Request(c.req.raw, { method: 'GET' }) : c.req.raw, c.env));
  outer.onError((err, c) => errorToResponse(err, c, deps.log));
  return outer;
}

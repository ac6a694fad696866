/**
 * Until app.ts wires them, the request guard, the body limit and the
 * event-stream limits are put in front of a createApp app here, in the order
 * the wiring will have: requestGuard → bodyLimit → (createApp: authenticate →
 * validateRequests) → limitEventStreams → routes. (In createApp the stream
 * limits go after validateRequests; here they run before authenticate, which
 * only means a refused token would take a slot for the length of its 401.)
 *
 * VSWITCH_GUARD_BASELINE=1 returns the app unguarded: the guard tests then
 * run against today's createApp and fail, which is what shows they test
 * something. Once app.ts wires the middleware, `guarded` should return `app`.
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
  listen?: string;
  allowedHosts?: readonly string[];
  maxBodyBytes?: number;
  sseGate?: SseGate;
  streamBounds?: EventStreamBounds;
}

export const IS_BASELINE = process.env.VSWITCH_GUARD_BASELINE === '1';

export function guarded(app: Hono<ApiEnv>, deps: ApiDeps, wiring: GuardWiring = {}): Hono<ApiEnv> {
  if (IS_BASELINE) return app;
  const validator = createRequestValidator(deps.specText);
  const outer = new Hono<ApiEnv>();
  outer.use('*', requestGuard({ listen: wiring.listen ?? '127.0.0.1:0', ...(wiring.allowedHosts ? { allowedHosts: wiring.allowedHosts } : {}), log: deps.log }));
  outer.use('*', bodyLimit(wiring.maxBodyBytes === undefined ? {} : { maxBytes: wiring.maxBodyBytes }));
  outer.use('*', limitEventStreams(wiring.sseGate ?? new SseGate(), specEventStreams(validator, deps.specText), { ...wiring.streamBounds, log: deps.log }));
  // Hono answers HEAD by running GET and dropping the body; inside createApp the middleware sees that body, so here too.
  outer.all('*', (c) => app.fetch(c.req.method === 'HEAD' ? new Request(c.req.raw, { method: 'GET' }) : c.req.raw, c.env));
  outer.onError((err, c) => errorToResponse(err, c, deps.log));
  return outer;
}

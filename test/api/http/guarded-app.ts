/**
 * createApp wires the request guard, the body limit and the event-stream limits itself (api/http/app.ts):
 * requestGuard → bodyLimit → authenticate → validateRequests → limitEventStreams → routes. The guard tests pass the
 * deps that wiring reads (`wiringDeps`: listen, allowedHosts, sseGate, sseBounds) and use the app as createApp
 * builds it (`guarded` is the identity now; before the wiring landed it put the middleware in front, and the tests
 * were shown to fail against the unguarded app: see the guard commits).
 */
import type { Hono } from 'hono';
import type { ApiDeps } from '../../../api/http/app.js';
import type { ApiEnv } from '../../../api/http/primitive-routes.js';
import type { EventStreamBounds, SseGate } from '../../../api/http/sse-limits.js';

export interface GuardWiring {
  /** ApiDeps.listen (config api.listen); default: loopback, the port a connection came to. */
  listen?: string;
  allowedHosts?: readonly string[];
  sseGate?: SseGate;
  sseBounds?: EventStreamBounds;
}

/** The deps the wiring reads, for the fixture's `overrides`. */
export function wiringDeps(wiring: GuardWiring): Partial<ApiDeps> {
  return { ...wiring };
}

export function guarded(app: Hono<ApiEnv>, _deps: ApiDeps, _wiring: GuardWiring = {}): Hono<ApiEnv> {
  return app;
}

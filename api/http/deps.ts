/**
 * What the HTTP API acts on, given by the composition root (daemon/): the primitives and views of one daemon,
 * and the routes its plugins bring. Kept apart from app.ts so the route files can name it without a circle.
 */
import type { Hono } from 'hono';
import type { EventLog } from '../../switch/event-log.js';
import type { JoinAdmin } from '../../switch/join/join-admin.js';
import type { Logger } from '../../switch/log.js';
import type { Primitives } from '../../switch/overlay/primitives.js';
import type { HostSummary, MacEntry, StateView, Status } from '../wire/schemas.js';
import type { ApiAuth } from './auth.js';
import type { ApiEnv } from './primitive-routes.js';
import type { EventStreamBounds, SseGate } from './sse-limits.js';

export interface DashboardOptions {
  snapshotIntervalMs?: number;
  /** The page's script (compiled api/dashboard/client.ts); read from the build when not given. */
  clientJs?: string;
  clock?: { now(): number };
  wallClock?: () => number;
}

/** Registers routes on the app: how a plugin brings its own without the API knowing it. */
export type RouteMount = (app: Hono<ApiEnv>) => void;

export interface ApiDeps {
  /** The address the API listens on ("host:port" or "unix:/path"): the Host header must name it (request-guard.ts). */
  listen?: string;
  /** More names the Host header may carry (a tunnel, a DNS name): "name" or "name:port". */
  allowedHosts?: readonly string[];
  /** Tests: the event-stream gate and bounds (api/http/sse-limits.ts). */
  sseGate?: SseGate;
  sseBounds?: EventStreamBounds;
  /** The primitives acting on this daemon. */
  local: Primitives;
  status(): Status;
  macs(): MacEntry[];
  /** Proxy only: the relayed primitives of a named host (undefined = unknown host). */
  host?(name: string): Primitives | undefined;
  /** Proxy only: the hosts the Proxy knows. */
  hosts?(): HostSummary[];
  /** Proxy with `join:`: join tokens and joined hosts (api/http/join-routes.ts); absent: 404 join-off. */
  join?: JoinAdmin;
  /** Base64 public key of this daemon (the topology tools show it for the Proxy). */
  publicKey?: string;
  /** Routes the daemon's plugins bring (plugins/plugin.ts), each described in openapi.yaml; mounted after the core's. */
  mounts?: readonly RouteMount[];
  /** The daemon's event ring (switch/event-log.ts): replayed and streamed by GET /v1/events. */
  events?: EventLog;
  /** Tests: the dashboard's snapshot interval, script, clocks (api/http/dashboard-routes.ts). */
  dashboard?: DashboardOptions;
  /** The durable state: what is saved, where each thing comes from, what the last restore skipped (GET /v1/state). */
  state?(): StateView;
  /** Prometheus text exposition of this daemon's counters (api/http/metrics.ts). */
  metrics?(): Promise<string>;
  /** The text of openapi.yaml: served, rendered at /docs, and what requests are validated against. */
  specText: string;
  auth: ApiAuth;
  log: Logger;
}

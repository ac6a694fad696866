/**
 * The one plugin interface of the Proxy (issue #8). Everything that adapts the overlay is a plugin: the built-in
 * VTTIF (it publishes `app-topology`, `matrix` and `matrix-delta` events) and fast-path (it takes `app-topology` and acts through
 * the relayed primitives), modules named in the config (in-process), and third-party policies over HTTP
 * (out-of-process: plugins/host/routes.ts). All of them get the same events and act through the same primitives
 * under their own actor name, which is what makes ownership work: a plugin owns what it adds, and the hosts refuse
 * (409) a plugin that deletes what another actor added (switch/overlay/local-primitives.ts).
 *
 * In-process plugins are trusted code (like an Open vSwitch ofproto provider): an exception or a promise that never
 * settles is contained (counted, timed out, the plugin marked failed), a synchronous infinite loop is not — run
 * untrusted logic as an HTTP policy, which cannot stall the switch whatever it does.
 */
import type { TimerClock } from '../../switch/clock.js';
import type { components } from '../../api/generated/openapi.js';
import type { LinkStatus } from '../../switch/link/link-manager.js';
import type { Logger } from '../../switch/log.js';
import { POLICY_ACTOR_PREFIX } from '../../switch/overlay/local-primitives.js';
import type { HostSummary } from '../../switch/overlay/overlay.js';
import type { Actor, MacView, Primitives } from '../../switch/overlay/primitives.js';

export type PluginEventType = components['schemas']['PluginEventType'];
export type PluginEvent = components['schemas']['PluginEvent'];
export type PluginView = components['schemas']['Plugin'];
export type PluginKind = PluginView['kind'];
export type PluginState = PluginView['state'];
export type PolicyDelivery = components['schemas']['PolicyDelivery'];
export type PolicyRegistration = components['schemas']['PolicyRegistration'];

export const PLUGIN_EVENT_TYPES: readonly PluginEventType[] = ['app-topology', 'matrix', 'matrix-delta', 'link', 'host', 'vm-moved'];

/** What a plugin may use: primitives bound to its own actor, read-only views of the overlay, a clock and a log. */
export interface PluginContext {
  readonly name: string;
  /** The actor its changes carry; the owner of what it adds (on hosts: "proxy:" + actor). */
  readonly actor: Actor;
  /** A host's primitives, acting as this plugin (undefined: no such host). */
  host(name: string): Primitives | undefined;
  /** The Proxy's own primitives, acting as this plugin. */
  readonly proxy: Primitives;
  hosts(): HostSummary[];
  /** The Proxy's links: one per host, with its key and underlay endpoint. */
  proxyLinks(): LinkStatus[];
  proxyMacs(): MacView[];
  readonly clock: TimerClock;
  readonly log: Logger;
}

export interface VswitchPlugin {
  /** The events it wants delivered to onEvent. */
  readonly events: readonly PluginEventType[];
  readonly description?: string;
  /** Called when the plugin is enabled (at start when enabled, and after each enable). */
  start(ctx: PluginContext): void | Promise<void>;
  /** Called when it is disabled or the daemon stops; what it owns is removed by the host afterwards. */
  stop(): void | Promise<void>;
  /** The daemon stops (optional; default: stop()). The fast-path plugin leaves its links: hosts keep forwarding. */
  close?(): void | Promise<void>;
  /** One event at a time, in order; a returned promise is awaited (at most EVENT_TIMEOUT_MS) before the next. */
  onEvent?(event: PluginEvent): void | Promise<void>;
  /** Its own status, shown as `status` in GET /v1/plugins/{name}. */
  status?(): Record<string, unknown>;
}

/** What a plugin module exports (default or `createPlugin`): its options come from the config. */
export type PluginFactory = (options: Record<string, unknown>) => VswitchPlugin | Promise<VswitchPlugin>;

/** The actor of a module or HTTP policy named `name` (built-ins keep their historical names, e.g. "fastpath"). */
export const policyActorName = (name: string): string => `${POLICY_ACTOR_PREFIX}${name}`;

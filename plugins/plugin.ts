/**
 * The one interface through which a plugin brings all of its parts to a daemon (VTTIF and the fast-path plugin are
 * built in this way; plugins/builtin.ts lists them). The composition root (daemon/) loops over the list and names
 * none of them:
 *   - `config`: its section of the daemon's config file, read with the switch's reader (file:line:col errors);
 *   - `controlMessages`: message types it adds to the control channel, checked by the channel on arrival;
 *   - `routes`: its HTTP routes (described in openapi.yaml), mounted on every daemon — the handlers ask `running()`
 *     for the started parts and answer with the plugin's own error where it does not run;
 *   - `start`: its parts on one daemon (host or Proxy), or undefined where it has nothing to do: a datapath hook
 *     (the frame counter), control-message and primitive-change handlers, housekeeping, metrics, and on the Proxy
 *     its adaptation part and the events it makes for other plugins (plugins/host/registry.ts).
 * The adaptation part (VswitchPlugin, plugins/host/plugin.ts) is the same interface config modules and HTTP policies
 * use: events in, primitives out, under the plugin's own actor.
 */
import type { TimerClock } from '../switch/clock.js';
import type { Hono } from 'hono';
import type { ApiEnv } from '../api/http/primitive-routes.js';
import type { ConfigSection } from '../switch/config/config-section.js';
import type { Role } from '../switch/config/config.js';
import type { FrameCounter } from '../switch/datapath.js';
import type { EventSink } from '../switch/events.js';
import type { LinkStatus, ListenPorts } from '../switch/link/link-manager.js';
import type { Logger } from '../switch/log.js';
import type { ControlExtension } from '../switch/overlay/control-messages.js';
import type { HostSummary } from '../switch/overlay/overlay.js';
import type { VmMove } from '../switch/overlay/move-site.js';
import type { MacView, Primitives } from '../switch/overlay/primitives.js';
import type { DurableRecords } from '../switch/state/restore-report.js';
import type { ProxyActivity } from '../switch/ha/proxy-role.js';
import type { VswitchError } from '../switch/errors.js';
import type { VswitchPlugin } from './host/plugin.js';
import type { PluginEventSource } from './host/registry.js';

/** Where a control message came from: the Proxy (on a host), or a host (on the Proxy). */
export interface ControlSender {
  readonly fromProxy: boolean;
  readonly fromHost: boolean;
}

/** The Proxy's view of the overlay, for plugins that adapt it. */
export interface ProxyView {
  /** The relayed primitives of a host (undefined: no such host). */
  host(name: string): Primitives | undefined;
  hosts(): HostSummary[];
  /** The Proxy's own links: one per host, with its key and underlay endpoint. */
  proxyLinks(): LinkStatus[];
  proxyMacs(): MacView[];
  /** The ports a host last reported listening on. */
  listenPorts(host: string): ListenPorts | undefined;
}

/** What a daemon gives a plugin that starts on it. */
export interface PluginStartContext {
  /** The daemon's name and role. */
  readonly name: string;
  readonly role: Role;
  /** The daemon has VM ports (TAP or capture), not only links. */
  readonly hasLocalPorts: boolean;
  /** A host with a Proxy to report to. */
  readonly hasProxy: boolean;
  readonly clock: TimerClock;
  readonly wallClock: () => number;
  readonly log: Logger;
  /**
   * Where the plugin raises its own events (`pluginEvent(name, …)`, switch/events.ts): the daemon's bus, which the
   * dashboard's event log follows. The log is for people; only what is raised here is an event.
   */
  readonly events: EventSink;
  /** This daemon's own primitives. */
  readonly primitives: Primitives;
  /** Sends a control message of one of the plugin's types; undefined on a daemon without links. */
  readonly control: { toProxy(type: string, body: unknown): boolean; toHosts(type: string, body: unknown): void } | undefined;
  /** The datapath's per-frame counter hook (VTTIF's); undefined takes it off. */
  setFrameCounter(counter: FrameCounter | undefined): void;
  /** The flow offload reads its counters back at least this often (twice per report); a no-op without offload. */
  followReportRate(updateRateHz: () => number | undefined): void;
  /** On the Proxy: its view of the overlay; undefined on hosts. */
  readonly proxy: ProxyView | undefined;
  /** On a Proxy with `ha:`: whether it is the active one (only the active one's plugins act); absent: always active. */
  readonly activity?: ProxyActivity;
  /** The `exports` of a plugin started before this one on the same daemon (undefined: not started). */
  exportsOf(plugin: string): unknown;
  /**
   * The daemon's durable state (switch/state/): the plugin restores its own records at start (reporting what it
   * restored or skipped) and writes each run-time change before it answers it.
   */
  readonly state: DurableRecords;
}

/** The adaptation part a plugin registers with the Proxy's plugin registry. */
export interface AdaptationPart {
  readonly plugin: VswitchPlugin;
  /** Enabled at start. */
  readonly enabled: boolean;
  /** What the config says (the base a saved run-time enable or disable is layered on); default `enabled`. */
  readonly configEnabled?: boolean;
  /** Its actor name (default "policy:" + name). */
  readonly actor?: string;
  isEnabled?(): boolean;
}

/** A plugin's parts on one daemon. */
export interface PluginParts<TExports = unknown> {
  /** What other plugins, its routes and tests use of it. */
  readonly exports: TExports;
  /** A control message of one of its types (already checked by the channel). */
  onControl?(peer: string, type: string, body: unknown, from: ControlSender): void;
  /** A primitive changed on this daemon ("config-time", "link", "rule"). */
  onPrimitiveChange?(what: string): void | Promise<void>;
  /**
   * Proxy: a VM moved to another host (switch/overlay/proxy-moves.ts), at detection. The move's convergence waits
   * for the returned promise: settle it once nothing of the plugin's points at `move.from` any more.
   */
  onVmMoved?(move: VmMove): void | Promise<void>;
  /** Once a second, off the data path; `seconds` counts the calls. */
  housekeeping?(nowMs: number, seconds: number): void;
  /** Proxy: its adaptation part and the events it makes for other plugins. */
  readonly adaptation?: AdaptationPart;
  readonly eventSources?: readonly PluginEventSource[];
  /** Prometheus text lines of its own series (with HELP and TYPE). */
  metrics?(): string;
  /**
   * Proxy with `ha:`: its durable records changed underneath (it became active and took etcd's desired state):
   * take them as at start. Called before the plugin acts again.
   */
  reloadState?(): void | Promise<void>;
  stop(): void | Promise<void>;
}

/** Where a plugin's routes are mounted. */
export interface RouteWhere {
  readonly isProxy: boolean;
  /** On a standby Proxy (HA): the error naming the active one, for a route that changes what only it does; else undefined. */
  standby?(): VswitchError | undefined;
}

export interface DaemonPlugin<TConfig = unknown, TExports = unknown> {
  readonly name: string;
  readonly description: string;
  readonly config?: ConfigSection<TConfig>;
  readonly controlMessages?: readonly ControlExtension[];
  /** Mounts its routes; `running` is its parts on this daemon (undefined where it did not start). */
  routes?(app: Hono<ApiEnv>, running: () => TExports | undefined, where: RouteWhere): void;
  start(ctx: PluginStartContext, config: TConfig): PluginParts<TExports> | undefined | Promise<PluginParts<TExports> | undefined>;
}

/** A plugin of any config and exports type, as the root holds them in a list. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyDaemonPlugin = DaemonPlugin<any, any>;

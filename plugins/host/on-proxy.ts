/**
 * Builds the Proxy's PluginRegistry from its parts and registers what runs in process: the built-in plugins'
 * adaptation parts and event sources (plugins/plugin.ts), then the config's modules.
 * The daemon calls this once, after its links and plugins started.
 */
import type { TimerClock } from '../../switch/clock.js';
import { pluginEvent, type EventSink } from '../../switch/events.js';
import type { PluginModuleConfig } from '../../switch/config/config.js';
import type { LinkStatus } from '../../switch/link/link-manager.js';
import type { Logger } from '../../switch/log.js';
import type { ReportMessage } from '../../switch/overlay/control-messages.js';
import type { HostSummary } from '../../switch/overlay/overlay.js';
import type { MacView, Primitives } from '../../switch/overlay/primitives.js';
import { actingAs } from './acting-as.js';
import { loadPluginModule } from './module-loader.js';
import { snapshotOf, type SnapshotLink } from './overlay-watch.js';
import { PluginRegistry, type PluginEventSource } from './registry.js';
import type { AdaptationPart } from '../plugin.js';
import type { DurableRecords } from '../../switch/state/restore-report.js';
import type { ProxyActivity } from '../../switch/ha/proxy-role.js';

export interface PluginHostParts {
  /** The Proxy's name (its own links are reported under it). */
  name: string;
  /** The Proxy's own primitives (LocalPrimitives). */
  local: Primitives;
  /** The relayed primitives of a host. */
  host(name: string): Primitives | undefined;
  hosts(): HostSummary[];
  /** A host's last report (links and rules with their owners). */
  report(name: string): ReportMessage | undefined;
  /** The Proxy's links, with owners. */
  proxyLinks(): (LinkStatus & { owner?: string })[];
  proxyMacs(): MacView[];
  /** Rules on the Proxy with their owners. */
  proxyRuleOwners(): string[];
  /** The built-in plugins' adaptation parts and event sources (plugins/plugin.ts), in start order. */
  builtins: readonly BuiltinParts[];
  modules: readonly PluginModuleConfig[];
  /** The daemon's durable state: enabled states and HTTP policies are restored from it and saved to it. */
  state?: DurableRecords;
  clock: TimerClock;
  wallClock: () => number;
  log: Logger;
  /** Where the registry and the host raise their events (switch/events.ts); absent: nowhere. */
  events?: EventSink;
  /** Whether this Proxy is the active one (with `ha:`); absent: always. */
  activity?: ProxyActivity;
}

export interface BuiltinParts {
  readonly name: string;
  readonly adaptation?: AdaptationPart;
  readonly eventSources?: readonly PluginEventSource[];
}

export interface PluginHost {
  registry: PluginRegistry;
  stop(): Promise<void>;
}

export async function startPluginHost(parts: PluginHostParts): Promise<PluginHost> {
  const log = parts.log;
  const registry = new PluginRegistry({
    clock: parts.clock,
    wallClock: parts.wallClock,
    log,
    ...(parts.events ? { events: parts.events } : {}),
    context: (name, actor) => ({
      name,
      actor,
      host: (host) => {
        const p = parts.host(host);
        return p ? actingAs(p, actor) : undefined;
      },
      proxy: actingAs(parts.local, actor),
      hosts: () => parts.hosts(),
      proxyLinks: () => parts.proxyLinks(),
      proxyMacs: () => parts.proxyMacs(),
      clock: parts.clock,
      log: log.child({ plugin: name }),
    }),
    places: { proxy: parts.local, hostNames: () => parts.hosts().map((h) => h.name), host: (h) => parts.host(h) },
    countOwned: (actor) => countOwned(parts, actor),
    snapshot: () => overlaySnapshot(parts),
    ...(parts.state ? { state: parts.state } : {}),
    ...(parts.activity ? { activity: parts.activity } : {}),
  });
  for (const builtin of parts.builtins) {
    for (const source of builtin.eventSources ?? []) registry.addEventSource(source);
    const a = builtin.adaptation;
    if (a) {
      await registry.addInProcess(builtin.name, 'builtin', a.plugin, {
        enabled: a.enabled,
        ...(a.configEnabled === undefined ? {} : { configEnabled: a.configEnabled }),
        ...(a.actor ? { actor: a.actor } : {}),
        ...(a.isEnabled ? { isEnabled: a.isEnabled } : {}),
      });
    }
  }
  for (const module of parts.modules) {
    const plugin = await loadPluginModule(module);
    await registry.addInProcess(module.name, 'module', plugin, { enabled: module.enabled });
    log.info('plugin module loaded', { plugin: module.name, module: module.module });
    parts.events?.emit(pluginEvent('plugin-loaded', 'info', `plugin module ${module.name} loaded from ${module.module}`, { plugin: module.name, module: module.module }));
  }
  await registry.restorePolicies();
  registry.start();
  return { registry, stop: () => registry.stop() };
}

function overlaySnapshot(parts: PluginHostParts): ReturnType<typeof snapshotOf> {
  const hosts = parts.hosts();
  const links: SnapshotLink[] = parts.proxyLinks().map((l) => linkOf(parts.name, l));
  for (const h of hosts) for (const l of parts.report(h.name)?.links ?? []) links.push(linkOf(h.name, l));
  return snapshotOf(hosts, links);
}

function linkOf(host: string, l: LinkStatus & { owner?: string }): SnapshotLink {
  return { host, name: l.name, state: l.state, owner: l.owner ?? 'config', publicKey: l.publicKey };
}

/**
 * How many links and rules each actor owns. Each host is asked once, live (what the API answers must be exact),
 * whatever the number of actors; a host that does not answer within 1 s: its last report.
 */
async function countOwned(parts: PluginHostParts, actors: readonly string[]): Promise<Map<string, { links: number; rules: number }>> {
  const owners: { owner: string; links: number; rules: number }[][] = [
    [...parts.proxyLinks().map((l) => ({ owner: l.owner ?? 'config', links: 1, rules: 0 })), ...parts.proxyRuleOwners().map((o) => ({ owner: o, links: 0, rules: 1 }))],
  ];
  const hostLists = await Promise.all(
    parts.hosts().map(async (h) => {
      const primitives = parts.host(h.name);
      const report = parts.report(h.name);
      const fallback = { links: report?.links ?? [], rules: report?.rules ?? [] };
      if (!primitives || h.state !== 'up') return fallback;
      const live = Promise.all([primitives.links(), primitives.rules()]).then(([l, r]) => ({ links: l, rules: r }));
      return Promise.race([live, new Promise<typeof fallback>((resolve) => parts.clock.after(1000, () => resolve(fallback)))]).catch(() => fallback);
    }),
  );
  // On hosts what the Proxy's plugins add carries the relayed owner ("proxy:" + actor); anything else is not theirs.
  const actorOf = (owner: string | undefined): string => (owner?.startsWith('proxy:') ? owner.slice('proxy:'.length) : '');
  for (const c of hostLists) {
    owners.push([
      ...c.links.map((l) => ({ owner: actorOf((l as { owner?: string }).owner), links: 1, rules: 0 })),
      ...c.rules.map((r) => ({ owner: actorOf(r.owner), links: 0, rules: 1 })),
    ]);
  }
  const counts = new Map(actors.map((a) => [a, { links: 0, rules: 0 }]));
  for (const o of owners.flat()) {
    const c = counts.get(o.owner);
    if (c) {
      c.links += o.links;
      c.rules += o.rules;
    }
  }
  return counts;
}

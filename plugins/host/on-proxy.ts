/**
 * Builds the Proxy's PluginRegistry from its parts and registers what runs in process: VTTIF and fast-path (when
 * VTTIF is enabled) and the config's modules. The daemon calls this once, after its links and VTTIF started.
 */
import type { Clock } from '../../switch/clock.js';
import type { PluginModuleConfig } from '../../switch/config/config.js';
import type { LinkStatus } from '../../switch/link/link-manager.js';
import type { Logger } from '../../switch/log.js';
import type { ReportMessage } from '../../switch/overlay/control-messages.js';
import type { HostSummary } from '../../switch/overlay/overlay.js';
import type { MacView, Primitives } from '../../switch/overlay/primitives.js';
import { FastPathPlugin } from '../fastpath/plugin.js';
import type { FastPathSettings } from '../fastpath/fastpath.js';
import type { VttifService } from '../vttif/proxy-service.js';
import { VttifPlugin } from '../vttif/plugin.js';
import { actingAs } from './acting-as.js';
import { loadPluginModule } from './module-loader.js';
import { snapshotOf, type SnapshotLink } from './overlay-watch.js';
import type { PluginEvent } from './plugin.js';
import { PluginRegistry } from './registry.js';

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
  vttif: VttifService | undefined;
  fastpath: Partial<FastPathSettings>;
  modules: readonly PluginModuleConfig[];
  clock: Clock;
  wallClock: () => number;
  log: Logger;
}

export interface PluginHost {
  registry: PluginRegistry;
  /** The fast-path plugin's engine (its own API routes), when VTTIF runs. */
  fastpath: FastPathPlugin | undefined;
  stop(): Promise<void>;
}

export async function startPluginHost(parts: PluginHostParts): Promise<PluginHost> {
  const log = parts.log;
  const registry = new PluginRegistry({
    clock: parts.clock,
    wallClock: parts.wallClock,
    log,
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
    ...(parts.vttif ? vttifEvents(parts.vttif) : {}),
  });
  let fastpath: FastPathPlugin | undefined;
  if (parts.vttif) {
    const vttif = parts.vttif;
    await registry.addInProcess('vttif', 'builtin', new VttifPlugin(vttif), { enabled: true, actor: 'vttif', isEnabled: () => vttif.running });
    vttif.subscribe((topology) => registry.publish({ type: 'app-topology', topology: topology as NonNullable<PluginEvent['topology']> }));
    fastpath = new FastPathPlugin(
      {
        clock: parts.clock,
        log: log.child({ component: 'fastpath' }),
        currentEdges: () => vttif.topology().edges,
        host: (name) => parts.host(name),
        proxyLinks: () => parts.proxyLinks(),
        listenPorts: (name) => parts.report(name)?.listen,
        proxyMacs: () => parts.proxyMacs(),
      },
      parts.fastpath,
    );
    const plugin = fastpath;
    await registry.addInProcess('fastpath', 'builtin', plugin, { enabled: plugin.isEnabled(), actor: 'fastpath', isEnabled: () => plugin.isEnabled() });
  }
  for (const module of parts.modules) {
    const plugin = await loadPluginModule(module);
    await registry.addInProcess(module.name, 'module', plugin, { enabled: module.enabled });
    log.info('plugin module loaded', { event: 'plugin-loaded', plugin: module.name, module: module.module });
  }
  registry.start();
  return {
    registry,
    fastpath,
    stop: () => registry.stop(),
  };
}

function vttifEvents(vttif: VttifService): Pick<ConstructorParameters<typeof PluginRegistry>[0], 'currentTopology' | 'matrix'> {
  return {
    currentTopology: () => (vttif.running ? { type: 'app-topology', topology: vttif.currentEvent() as NonNullable<PluginEvent['topology']> } : undefined),
    matrix: () => {
      if (!vttif.running) return undefined;
      const matrix = vttif.matrix();
      return matrix.pairs.length === 0 ? undefined : { type: 'matrix', matrix: matrix as NonNullable<PluginEvent['matrix']> };
    },
  };
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
      return Promise.race([live, new Promise<typeof fallback>((resolve) => setTimeout(() => resolve(fallback), 1000).unref())]).catch(() => fallback);
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

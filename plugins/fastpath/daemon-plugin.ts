/**
 * The fast-path plugin as a daemon plugin (plugins/plugin.ts): on a Proxy where VTTIF runs, it takes VTTIF's
 * `app-topology` events through the plugin registry and adds direct links and rules between the hosts whose VMs
 * talk; its settings are its config section and PUT /v1/plugins/fastpath/settings.
 */
import { fastpathConfigSection, type FastPathConfig } from './config.js';
import type { FastPath } from './fastpath.js';
import { FastPathPlugin } from './plugin.js';
import { registerFastPathRoutes } from './routes.js';
import { restoreSettings, rewriteSettings, settingsRecords } from './saved-settings.js';
import type { VttifParts } from '../vttif/daemon-plugin.js';
import { RestoreReport } from '../../switch/state/restore-report.js';
import type { DaemonPlugin, PluginParts, PluginStartContext } from '../plugin.js';

export const fastpathPlugin: DaemonPlugin<FastPathConfig, FastPath> = {
  name: 'fastpath',
  description: 'Direct links and rules between the hosts whose VMs talk, heaviest first; the star stays.',
  config: fastpathConfigSection,
  routes: (app, running, where) => registerFastPathRoutes(app, running, where),
  start: startFastPath,
};

async function startFastPath(ctx: PluginStartContext, config: FastPathConfig): Promise<PluginParts<FastPath> | undefined> {
  const proxy = ctx.proxy;
  const vttif = (ctx.exportsOf('vttif') as VttifParts | undefined)?.service;
  if (proxy === undefined || vttif === undefined) return undefined; // it adapts to what VTTIF infers, on the Proxy
  const plugin = new FastPathPlugin(
    {
      clock: ctx.clock,
      log: ctx.log,
      events: ctx.events,
      currentEdges: () => vttif.topology().edges,
      host: (name) => proxy.host(name),
      proxyLinks: () => proxy.proxyLinks(),
      listenPorts: (name) => proxy.listenPorts(name),
      reachability: (name) => proxy.hosts().find((h) => h.name === name),
      proxyMacs: () => proxy.proxyMacs(),
      persist: (settings) => ctx.state.write(settingsRecords(settings, config)),
      ...(ctx.activity ? { isActive: () => ctx.activity!.isActive() } : {}),
    },
    restoreSettings(config, ctx.state),
  );
  // A standby's plugin is idle; it plans from the moment its Proxy wins, and forgets its books when it loses.
  const unfollow = ctx.activity?.onChange((active) => void (active ? plugin.fastpath.takeOver() : plugin.fastpath.standBy()));
  // Won before the plugin started (a restarted Proxy): the fast paths the hosts kept are adopted all the same.
  if (ctx.activity?.isActive()) void plugin.fastpath.takeOver();
  // What the config now overrides leaves the saved state (reported by restoreSettings), so it is not reported again.
  await rewriteSettings(plugin.fastpath.settings(), config, ctx.state);
  return {
    exports: plugin.fastpath,
    adaptation: { plugin, enabled: plugin.isEnabled(), configEnabled: config.enabled, actor: 'fastpath', isEnabled: () => plugin.isEnabled() },
    // The Proxy won and took etcd's desired state: its settings as saved there (the enabled state is the registry's).
    reloadState: async () => void (await plugin.fastpath.takeSettings(restoreSettings(config, { ...ctx.state, report: new RestoreReport() }))),
    // A VM moved: its rules toward the old host go at once (the move's convergence waits for it).
    onVmMoved: (move) => plugin.fastpath.vmMoved(move),
    // The registry closes the adaptation part (its watch ends; fast links stay while the Proxy restarts).
    stop() {
      unfollow?.();
    },
  };
}

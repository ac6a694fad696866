/**
 * VTTIF as a daemon plugin (plugins/plugin.ts): all of its parts in one place.
 *   - every daemon with VM ports and somewhere to report to counts their traffic (the datapath's frame counter) and
 *     reports its matrix: to the Proxy over the control channel (`matrix`), or, on the Proxy, to its own service;
 *   - the Proxy aggregates and infers (VttifService), follows the config-time bound for its smoothing, tells the
 *     hosts its update rate (`vttif-rate`, again every 5 s for hosts that joined since), serves /v1/vttif/… and
 *     publishes `app-topology`, `matrix` and `matrix-delta` (per subscriber: matrix-delta-source.ts) to the other plugins.
 * `vttif: { enabled: false }` starts nothing: the data path is untouched.
 */
import { MATRIX_MESSAGE, RATE_MESSAGE, VTTIF_CONTROL_EXTENSIONS } from './control-extensions.js';
import { vttifConfigSection, type VttifConfig } from './config.js';
import { VttifReporter } from './host-reporter.js';
import type { MatrixUpdate } from './matrix.js';
import { matrixDeltaSource } from './matrix-delta-source.js';
import { VttifPlugin } from './plugin.js';
import { VttifService } from './proxy-service.js';
import { registerVttifRoutes } from './routes.js';
import { createVttif, type VttifParameterChange, type VttifSettings } from './vttif.js';
import { SavedVttifParameters } from './saved-parameters.js';
import type { PluginEvent } from '../host/plugin.js';
import type { PluginEventSource } from '../host/registry.js';
import type { DaemonPlugin, PluginParts, PluginStartContext } from '../plugin.js';

/** What VTTIF's parts are on one daemon: the Proxy's service (inference) and the local reporter (counting). */
export interface VttifParts {
  readonly service: VttifService | undefined;
  readonly reporter: VttifReporter | undefined;
  /** On the Proxy: a run-time change of the parameters, saved before it is answered (plugins/vttif/saved-parameters.ts). */
  readonly setParameters: ((change: VttifParameterChange) => Promise<VttifSettings>) | undefined;
}

const RATE_RESEND_S = 5;

export const vttifPlugin: DaemonPlugin<VttifConfig, VttifParts> = {
  name: 'vttif',
  description: 'Infers the application topology from the traffic the hosts count; publishes app-topology and matrix.',
  config: vttifConfigSection,
  controlMessages: VTTIF_CONTROL_EXTENSIONS,
  routes: (app, running, where) => registerVttifRoutes(app, () => running()?.service, (change) => running()?.setParameters?.(change), where),
  start: startVttif,
};

async function startVttif(ctx: PluginStartContext, config: VttifConfig): Promise<PluginParts<VttifParts> | undefined> {
  if (!config.enabled) return undefined;
  const log = ctx.log;
  let reporter: VttifReporter | undefined;
  let service: VttifService | undefined;
  let saved: SavedVttifParameters | undefined;
  if (ctx.role === 'proxy') {
    const vttif = createVttif({
      updateRateHz: config.updateRateHz,
      threshold: config.threshold,
      ...(config.smoothingMs === undefined ? {} : { smoothingMs: config.smoothingMs }),
      configTimeBoundMs: (await ctx.primitives.configTimeBound()).upperBoundMs,
    });
    service = new VttifService({
      vttif,
      clock: ctx.clock,
      wallClock: ctx.wallClock,
      log,
      events: ctx.events,
      onUpdateRate: (updateRateHz) => {
        ctx.control?.toHosts(RATE_MESSAGE, updateRateHz);
        reporter?.setUpdateRate(updateRateHz);
      },
    });
    saved = new SavedVttifParameters(service, config, ctx.state);
    await saved.restore();
    service.start();
    log.info('vttif inference running', { ...vttif.settings() });
  }
  const proxyService = service;
  const rejected: Partial<Record<'invalid-update' | 'rate-limited', number>> = {};
  const send = proxyService
    ? (update: MatrixUpdate) => void proxyService.ingest(update)
    : ctx.hasProxy
      ? (update: MatrixUpdate) => void ctx.control?.toProxy(MATRIX_MESSAGE, update)
      : undefined;
  if (ctx.hasLocalPorts && send !== undefined) {
    const counting = new VttifReporter({ host: ctx.name, clock: ctx.clock, updateRateHz: config.updateRateHz, send });
    reporter = counting;
    ctx.followReportRate(() => counting.updateRateHz);
    ctx.setFrameCounter(counting.counter);
    counting.start();
    log.info('vttif counting', { updateRateHz: config.updateRateHz });
  }
  if (service === undefined && reporter === undefined) return undefined;
  const savedParameters = saved;
  const parts: VttifParts = { service, reporter, setParameters: savedParameters ? (change) => savedParameters.set(change) : undefined };
  return {
    exports: parts,
    onControl(peer, type, body, from) {
      // A host's matrix is taken under the name of the link it came over, never the name it claims.
      if (type === MATRIX_MESSAGE && from.fromHost && service) {
        const result = service.ingest({ ...(body as MatrixUpdate), host: peer });
        if (result.kind === 'rejected') {
          // Logged like the control channel's refusals: the first 10 of a reason, then the 16th, 32nd… (stats count all).
          const n = (rejected[result.reason] = (rejected[result.reason] ?? 0) + 1);
          if (n <= 10 || (n & (n - 1)) === 0) log.warn('vttif: matrix update rejected', { peer, reason: result.reason, count: n });
        }
      } else if (type === RATE_MESSAGE && from.fromProxy && reporter) {
        const updateRateHz = body as number;
        if (reporter.updateRateHz === updateRateHz) return;
        reporter.setUpdateRate(updateRateHz);
        log.info('vttif: update rate set by the proxy', { updateRateHz });
      }
    },
    async onPrimitiveChange(what) {
      // The config-time primitive feeds VTTIF's derived smoothing interval.
      if (what !== 'config-time' || !service) return;
      const { upperBoundMs } = await ctx.primitives.configTimeBound();
      const settings = service.setConfigTimeBound(upperBoundMs);
      log.info('vttif: config-time bound followed', { configTimeBoundMs: upperBoundMs, smoothingMs: settings.smoothingMs });
    },
    housekeeping(_nowMs, seconds) {
      // Hosts that (re)joined since a run-time rate change learn it here (a message per host every 5 s).
      if (service && seconds % RATE_RESEND_S === 0) ctx.control?.toHosts(RATE_MESSAGE, service.settings().updateRateHz);
    },
    ...(service ? proxyParts(service) : {}),
    stop() {
      reporter?.stop();
      ctx.setFrameCounter(undefined);
      service?.stop();
    },
  };
}

/** On the Proxy: VTTIF in the plugin registry, and the events it makes for the other plugins. */
function proxyParts(service: VttifService): Pick<PluginParts, 'adaptation' | 'eventSources'> {
  const topology: PluginEventSource = {
    type: 'app-topology',
    current: () => (service.running ? { type: 'app-topology', topology: service.currentEvent() as NonNullable<PluginEvent['topology']> } : undefined),
    subscribe: (publish) => service.subscribe((event) => publish({ type: 'app-topology', topology: event as NonNullable<PluginEvent['topology']> })),
  };
  const matrix: PluginEventSource = {
    type: 'matrix',
    periodic: () => {
      if (!service.running) return undefined;
      const m = service.matrix();
      return m.pairs.length === 0 ? undefined : { type: 'matrix', matrix: m as NonNullable<PluginEvent['matrix']> };
    },
  };
  return {
    adaptation: { plugin: new VttifPlugin(service), enabled: true, actor: 'vttif', isEnabled: () => service.running },
    eventSources: [topology, matrix, matrixDeltaSource(() => (service.running ? service.matrix() : undefined))],
  };
}

/** VTTIF's service on a daemon (the Proxy), from its started parts. */
export function vttifServiceOf(daemon: { pluginExports(name: string): unknown }): VttifService | undefined {
  return (daemon.pluginExports(vttifPlugin.name) as VttifParts | undefined)?.service;
}

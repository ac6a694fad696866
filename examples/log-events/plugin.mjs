/**
 * log-events: the smallest in-process plugin module for the vswitch Proxy (issue #8). It takes the events named
 * in its options (default: host, link, app-topology), writes one line per event to the daemon's log through
 * ctx.log, and counts them by type in status() (shown as `status` by GET /v1/plugins/log-events).
 *
 * In the Proxy's config (paths are relative to the config file):
 *
 *   plugins:
 *     - name: log-events
 *       module: ../examples/log-events/plugin.mjs
 *       options: { events: [host, link, app-topology] }
 *
 * A module is trusted code running inside the daemon (see docs/policies.md): keep onEvent short, never block.
 * It acts through ctx (ctx.host(name), ctx.proxy: the primitives as actor "policy:log-events"); this one only reads.
 */
const KNOWN = ['app-topology', 'matrix', 'link', 'host'];

/** @param {{ events?: string[], level?: 'info' | 'debug' }} options from the config's `options` */
export function createPlugin(options = {}) {
  const events = options.events ?? ['host', 'link', 'app-topology'];
  if (!Array.isArray(events) || events.some((e) => !KNOWN.includes(e))) {
    throw new Error(`options.events: a list of ${KNOWN.join(', ')}`);
  }
  const level = options.level === 'debug' ? 'debug' : 'info';
  /** @type {import('../../plugins/host/plugin.js').PluginContext | undefined} */
  let ctx;
  const counts = Object.fromEntries(events.map((e) => [e, 0]));
  let total = 0;
  let lastSeq = null;
  let startedAt = null;

  return {
    events,
    description: `logs every ${events.join('/')} event and counts them`,

    start(context) {
      ctx = context;
      startedAt = new Date().toISOString();
      ctx.log.info('log-events: started', { plugin: ctx.name, actor: ctx.actor.name, events: events.join(','), hosts: ctx.hosts().length });
    },

    stop() {
      ctx?.log.info('log-events: stopped', { total });
    },

    onEvent(event) {
      counts[event.type] = (counts[event.type] ?? 0) + 1;
      total++;
      lastSeq = event.seq;
      ctx?.log[level]('log-events: event', { seq: event.seq, type: event.type, ...summary(event) });
    },

    status() {
      return { startedAt, total, lastSeq, counts: { ...counts } };
    },
  };
}

/** A few flat fields per event type (log fields are scalars). */
function summary(event) {
  switch (event.type) {
    case 'host':
      return { host: event.host.name, change: event.host.change };
    case 'link':
      return { host: event.link.host, link: event.link.name, change: event.link.change, state: event.link.state, owner: event.link.owner };
    case 'app-topology':
      return { shape: event.topology?.shape ?? null, reason: event.topology?.reason ?? null, added: event.topology?.added?.length ?? 0, removed: event.topology?.removed?.length ?? 0 };
    case 'matrix':
      return { pairs: event.matrix?.pairs?.length ?? 0, windowMs: event.matrix?.windowMs ?? null };
    default:
      return {};
  }
}

export default createPlugin;

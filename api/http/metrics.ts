/**
 * /metrics: a daemon's counters — ports, links, rules, the MAC table, the offload, the plugins — in Prometheus
 * text format (0.0.4), through prom-client.
 *
 * - One Registry per daemon (DaemonMetrics), never prom-client's process-wide default registry: tests run several
 *   daemons in one process, and each must show only its own series.
 * - Nothing is counted twice: every family is collected at scrape time (prom-client's `collect()`), from ONE
 *   snapshot of the same views the API serves (status, rules, plugins), so /metrics never disagrees with
 *   /v1/status. A counter family is reset and set to the daemon's own running total on every scrape, so a port,
 *   link or rule that went away also leaves /metrics.
 * - Scrapes of one daemon run one at a time: the families read the snapshot their scrape took.
 * The families are a table (FAMILIES): name, type, help, labels, and how to read the samples off a snapshot.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { RuleView } from '../../switch/overlay/primitives.js';
import type { HostSummary, Status } from '../wire/schemas.js';

export interface MetricsSnapshot {
  status: Status;
  rules: RuleView[];
  /** Wall clock, for handshake ages. */
  nowMs: number;
  /** The Proxy's plugins (plugins/host/registry.ts summaries). */
  plugins?: readonly PluginSummary[];
  /** The Proxy's hosts (GET /v1/hosts). */
  hosts?: readonly HostSummary[];
}

/** What /metrics shows of a plugin. */
export interface PluginSummary {
  name: string;
  kind: string;
  state: string;
  counters: { delivered: number; dropped: number; errors: number; requests: number; rateLimited: number };
}

type Labels = Record<string, string>;
type Sample = readonly [labels: Labels, value: number];

interface Family {
  name: string;
  type: 'counter' | 'gauge';
  help: string;
  labelNames: readonly string[];
  samples(s: MetricsSnapshot): readonly Sample[];
}

const counter = (name: string, help: string, labelNames: readonly string[], samples: Family['samples']): Family => ({ name, type: 'counter', help, labelNames, samples });
const gauge = (name: string, help: string, labelNames: readonly string[], samples: Family['samples']): Family => ({ name, type: 'gauge', help, labelNames, samples });

const PORT = ['port', 'kind'] as const;
const LINK = ['link'] as const;
const RULE = ['rule', 'src', 'dst', 'target', 'owner'] as const;
const PLUGIN = ['plugin', 'kind'] as const;

const portSamples = (value: (p: Status['ports'][number]) => number) => (s: MetricsSnapshot) =>
  s.status.ports.map((p): Sample => [{ port: p.name, kind: p.kind }, value(p)]);
const linkSamples = (value: (k: Status['links'][number]) => number) => (s: MetricsSnapshot) => s.status.links.map((k): Sample => [{ link: k.name }, value(k)]);
const ruleSamples = (value: (r: RuleView) => number) => (s: MetricsSnapshot) =>
  s.rules.map((r): Sample => [{ rule: String(r.id), src: r.src, dst: r.dst, target: r.target, owner: r.owner }, value(r)]);
const pluginSamples = (value: (p: PluginSummary) => number) => (s: MetricsSnapshot) => (s.plugins ?? []).map((p): Sample => [{ plugin: p.name, kind: p.kind }, value(p)]);
const byReason = (counts: Record<string, number> | undefined, labels: Labels = {}): Sample[] => Object.entries(counts ?? {}).map(([reason, n]) => [{ ...labels, reason }, n]);
/** The addon's figures exist only while the offload runs: otherwise the family has no sample. */
const offloadSamples = (value: (o: NonNullable<Status['offload']>) => number | undefined, labels: Labels = {}) => (s: MetricsSnapshot): Sample[] =>
  s.status.offload?.enabled ? [[labels, value(s.status.offload) ?? 0]] : [];
const handshakeAt = (k: Status['links'][number]): number | undefined => (k.lastHandshakeAt ? Date.parse(k.lastHandshakeAt) : undefined);

const FAMILIES: readonly Family[] = [
  gauge('vswitch_info', 'Daemon identity (always 1).', ['name', 'role', 'version'], (s) => [[{ name: s.status.name, role: s.status.role, version: s.status.version }, 1]]),
  gauge('vswitch_uptime_seconds', 'Seconds since the daemon started.', [], (s) => [[{}, s.status.uptimeS]]),

  gauge('vswitch_port_up', 'Whether the port is up (1) or down (0).', PORT, portSamples((p) => (p.state === 'up' ? 1 : 0))),
  counter('vswitch_port_rx_frames_total', 'Frames received on the port.', PORT, portSamples((p) => p.rxFrames)),
  counter('vswitch_port_rx_bytes_total', 'Bytes received on the port.', PORT, portSamples((p) => p.rxBytes)),
  counter('vswitch_port_tx_frames_total', 'Frames sent out of the port.', PORT, portSamples((p) => p.txFrames)),
  counter('vswitch_port_tx_bytes_total', 'Bytes sent out of the port.', PORT, portSamples((p) => p.txBytes)),
  counter('vswitch_port_drops_total', 'Frames received on the port and dropped, by reason.', ['port', 'reason'], (s) => s.status.ports.flatMap((p) => byReason(p.drops, { port: p.name }))),

  gauge('vswitch_link_up', 'Whether the link has a current session (1) or not (0).', LINK, linkSamples((k) => (k.state === 'up' ? 1 : 0))),
  gauge('vswitch_link_transport_info', 'The transport the link uses now (always 1).', ['link', 'transport', 'mode'], (s) =>
    s.status.links.map((k): Sample => [{ link: k.name, transport: k.transport, mode: k.mode }, 1]),
  ),
  counter('vswitch_link_rx_bytes_total', 'Bytes received on the link (after decryption).', LINK, linkSamples((k) => k.rxBytes)),
  counter('vswitch_link_tx_bytes_total', 'Bytes sent on the link (before encryption).', LINK, linkSamples((k) => k.txBytes)),
  counter('vswitch_link_rx_packets_total', 'Transport packets received on the link.', LINK, linkSamples((k) => k.rxPackets)),
  counter('vswitch_link_tx_packets_total', 'Transport packets sent on the link.', LINK, linkSamples((k) => k.txPackets)),
  counter('vswitch_link_transport_switches_total', 'Changes between UDP and TCP.', LINK, linkSamples((k) => k.transportSwitches)),
  gauge('vswitch_link_last_handshake_timestamp_seconds', 'When the last handshake completed (Unix time).', LINK, (s) =>
    s.status.links.flatMap((k): Sample[] => {
      const at = handshakeAt(k);
      return at === undefined ? [] : [[{ link: k.name }, at / 1000]];
    }),
  ),
  gauge('vswitch_link_handshake_age_seconds', 'Seconds since the last handshake completed.', LINK, (s) =>
    s.status.links.flatMap((k): Sample[] => {
      const at = handshakeAt(k);
      return at === undefined ? [] : [[{ link: k.name }, Math.max(0, (s.nowMs - at) / 1000)]];
    }),
  ),
  counter('vswitch_link_drops_total', 'Packets dropped on the link, by reason.', ['link', 'reason'], (s) => s.status.links.flatMap((k) => byReason(k.drops, { link: k.name }))),

  // Whether the star works, from both ends: a session outlives a Proxy or host that went away by up to 180 s.
  gauge('vswitch_star_up', 'Host: whether it hears the Proxy over its star link (something authenticated within 3 s).', LINK, (s) =>
    s.status.star ? [[{ link: s.status.star.proxy }, s.status.star.alive ? 1 : 0]] : [],
  ),
  gauge('vswitch_star_silent_seconds', 'Host: seconds since it last heard from the Proxy.', LINK, (s) => (s.status.star ? [[{ link: s.status.star.proxy }, s.status.star.silentS]] : [])),
  counter('vswitch_star_reconnects_total', 'Host: re-handshakes with the Proxy started because the star was silent.', LINK, (s) =>
    s.status.star ? [[{ link: s.status.star.proxy }, s.status.star.reconnects]] : [],
  ),
  gauge('vswitch_host_up', 'Proxy: whether the host is up (its link up and heard within 3 heartbeats).', ['host'], (s) => (s.hosts ?? []).map((h): Sample => [{ host: h.name }, h.state === 'up' ? 1 : 0])),

  counter('vswitch_underlay_refused_total', 'Underlay datagrams and connections that belonged to no link, by reason.', ['reason'], (s) => byReason(s.status.refused?.underlay)),
  counter('vswitch_control_refused_total', 'Control messages refused by the channel, by reason.', ['reason'], (s) => byReason(s.status.refused?.control)),

  gauge('vswitch_offload_flows', "Flows in the addon's flow cache.", [], offloadSamples((o) => o.flows)),
  counter('vswitch_offload_flow_hits_total', 'Frames and link messages the flow cache forwarded natively.', ['path'], (s) => [
    ...offloadSamples((o) => o.txHits, { path: 'tap' })(s),
    ...offloadSamples((o) => o.rxHits, { path: 'link' })(s),
  ]),
  counter('vswitch_offload_flow_misses_total', 'Frames that found no flow (handed to the switch core).', [], offloadSamples((o) => o.txMisses)),
  counter('vswitch_offload_punts_total', 'Frames or messages a flow or slot handed to JS.', ['path'], (s) => [
    ...offloadSamples((o) => o.txPunts, { path: 'tap' })(s),
    ...offloadSamples((o) => o.rxPunts, { path: 'link' })(s),
  ]),
  counter('vswitch_offload_flow_installs_total', 'Flows installed.', [], offloadSamples((o) => o.installs)),
  counter('vswitch_offload_flow_flushes_total', 'Flow cache flushes.', [], offloadSamples((o) => o.flushes)),

  counter('vswitch_rule_hit_frames_total', 'Frames that matched the forwarding rule.', RULE, ruleSamples((r) => r.hitFrames)),
  counter('vswitch_rule_hit_bytes_total', 'Bytes that matched the forwarding rule.', RULE, ruleSamples((r) => r.hitBytes)),

  gauge('vswitch_mac_table_entries', 'Entries in the MAC learning table.', [], (s) => [[{}, s.status.macTable.entries]]),
  counter('vswitch_mac_learned_total', 'MAC addresses learned.', [], (s) => [[{}, s.status.macTable.learned]]),
  counter('vswitch_mac_moved_total', 'MAC addresses that moved to another port.', [], (s) => [[{}, s.status.macTable.moved]]),
  counter('vswitch_mac_expired_total', 'MAC entries aged out.', [], (s) => [[{}, s.status.macTable.expired]]),
  counter('vswitch_mac_evicted_total', 'MAC entries evicted because the table was full.', [], (s) => [[{}, s.status.macTable.evicted]]),

  // VM moves the Proxy followed (switch/overlay/proxy-moves.ts); a host shows none.
  counter('vswitch_vm_moves_total', 'VM moves detected and announced to the hosts.', [], proxyMoves((m) => [[{}, m.detected]])),
  counter('vswitch_vm_moves_incomplete_total', 'VM moves not followed by every host and plugin within the deadline.', [], proxyMoves((m) => [[{}, m.incomplete]])),
  counter('vswitch_vm_moves_refused_total', 'VM moves held back by a bound (per host, per MAC), by reason.', ['reason'], proxyMoves((m) => byReason(m.refused))),
  gauge('vswitch_vm_move_last_converge_seconds', 'Time from detecting the last VM move to every host and plugin having followed it.', [], proxyMoves((m) =>
    m.lastConvergeMs === null ? [] : [[{}, m.lastConvergeMs / 1000]],
  )),

  gauge('vswitch_plugin_info', 'A plugin and its state (always 1).', ['plugin', 'kind', 'state'], (s) =>
    (s.plugins ?? []).map((p): Sample => [{ plugin: p.name, kind: p.kind, state: p.state }, 1]),
  ),
  counter('vswitch_plugin_events_delivered_total', 'Events delivered to the plugin.', PLUGIN, pluginSamples((p) => p.counters.delivered)),
  counter('vswitch_plugin_events_dropped_total', 'Events dropped for the plugin (it fell behind, or failed).', PLUGIN, pluginSamples((p) => p.counters.dropped)),
  counter('vswitch_plugin_errors_total', "The plugin's errors (thrown, timed out, failed webhook deliveries).", PLUGIN, pluginSamples((p) => p.counters.errors)),
  counter('vswitch_plugin_requests_total', "API requests made with a policy's token.", PLUGIN, pluginSamples((p) => p.counters.requests)),
  counter('vswitch_plugin_rate_limited_total', "A policy's requests refused with 429.", PLUGIN, pluginSamples((p) => p.counters.rateLimited)),

  // The process the daemon runs in (prom-client's standard names, without its default collectors: see the README).
  gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', [], () => [[{}, process.memoryUsage.rss()]]),
  counter('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.', [], () => {
    const { user, system } = process.cpuUsage();
    return [[{}, (user + system) / 1e6]];
  }),
];

/** Samples of the Proxy's move statistics (none on a host, or before the overlay runs). */
function proxyMoves(read: (moves: NonNullable<Status['moves']>) => Sample[]): (s: MetricsSnapshot) => Sample[] {
  return (s) => (s.status.moves && s.status.role === 'proxy' ? read(s.status.moves) : []);
}

/** The series names /metrics exposes (docs, alert rules and their tests check against it). */
export const METRIC_FAMILIES: readonly { name: string; type: 'counter' | 'gauge'; labelNames: readonly string[] }[] = FAMILIES.map(({ name, type, labelNames }) => ({ name, type, labelNames }));

/** A value Prometheus can read: a counter never goes below zero, nothing is NaN or infinite. */
const finite = (value: number, type: Family['type']): number => (Number.isFinite(value) ? (type === 'counter' ? Math.max(0, value) : value) : 0);

/** One daemon's /metrics: its own Registry, collected at scrape time from the snapshot `take` returns. */
export class DaemonMetrics {
  readonly contentType: string = Registry.PROMETHEUS_CONTENT_TYPE;
  private readonly registry = new Registry();
  private current: MetricsSnapshot | undefined;
  private last: Promise<unknown> = Promise.resolve();

  constructor(private readonly take: () => MetricsSnapshot | Promise<MetricsSnapshot>) {
    for (const family of FAMILIES) this.register(family);
  }

  /** The text exposition of this daemon now. */
  scrape(): Promise<string> {
    const run = this.last.then(async () => {
      this.current = await this.take();
      try {
        return await this.registry.metrics();
      } finally {
        this.current = undefined;
      }
    });
    this.last = run.catch(() => undefined);
    return run;
  }

  private register(family: Family): void {
    const samples = (): readonly Sample[] => {
      if (!this.current) throw new Error(`metrics: ${family.name} collected outside a scrape`);
      return family.samples(this.current);
    };
    // A label-less family is born with one sample at 0: with nothing to show (the offload off) it has none.
    const isEmptyWithoutLabels = (list: readonly Sample[]) => list.length === 0 && family.labelNames.length === 0;
    const config = { name: family.name, help: family.help, labelNames: [...family.labelNames], registers: [this.registry] };
    if (family.type === 'counter') {
      new Counter({
        ...config,
        collect(this: Counter) {
          this.reset();
          const list = samples();
          for (const [labels, value] of list) this.inc(labels, finite(value, 'counter'));
          if (isEmptyWithoutLabels(list)) this.remove({});
        },
      });
    } else {
      new Gauge({
        ...config,
        collect(this: Gauge) {
          this.reset();
          const list = samples();
          for (const [labels, value] of list) this.set(labels, finite(value, 'gauge'));
          if (isEmptyWithoutLabels(list)) this.remove({});
        },
      });
    }
  }
}

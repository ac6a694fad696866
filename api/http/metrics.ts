/**
 * Prometheus text exposition (format 0.0.4) of a daemon's counters: ports,
 * links, rules, the MAC table. Rendered from the same views the API serves, so
 * /metrics never disagrees with /v1/status. Counter names end in _total;
 * label values are escaped as the format requires.
 */
import type { RuleView } from '../../switch/overlay/primitives.js';
import type { Status } from '../wire/schemas.js';

export interface MetricsSnapshot {
  status: Status;
  rules: RuleView[];
  /** Wall clock, for handshake ages. */
  nowMs: number;
  /** The Proxy's plugins (plugins/host/registry.ts summaries). */
  plugins?: readonly PluginSummary[];
}

/** What /metrics shows of a plugin. */
export interface PluginSummary {
  name: string;
  kind: string;
  state: string;
  counters: { delivered: number; dropped: number; errors: number; requests: number; rateLimited: number };
}

type Labels = Record<string, string>;

/** Samples grouped by family, as the format requires (one HELP/TYPE, then every sample of that name). */
class Exposition {
  private readonly families = new Map<string, { type: string; help: string; samples: string[] }>();

  metric(name: string, type: 'counter' | 'gauge', help: string, labels: Labels, value: number): void {
    let family = this.families.get(name);
    if (!family) this.families.set(name, (family = { type, help, samples: [] }));
    const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
    family.samples.push(`${name}${pairs.length ? `{${pairs.join(',')}}` : ''} ${Number.isFinite(value) ? value : 0}`);
  }

  text(): string {
    const lines: string[] = [];
    for (const [name, f] of this.families) lines.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`, ...f.samples);
    return lines.join('\n') + '\n';
  }
}

export function renderMetrics({ status, rules, nowMs, plugins = [] }: MetricsSnapshot): string {
  const m = new Exposition();
  m.metric('vswitch_info', 'gauge', 'Daemon identity (always 1).', { name: status.name, role: status.role, version: status.version }, 1);
  m.metric('vswitch_uptime_seconds', 'gauge', 'Seconds since the daemon started.', {}, status.uptimeS);

  for (const p of status.ports) {
    const l = { port: p.name, kind: p.kind };
    m.metric('vswitch_port_up', 'gauge', 'Whether the port is up (1) or down (0).', l, p.state === 'up' ? 1 : 0);
    m.metric('vswitch_port_rx_frames_total', 'counter', 'Frames received on the port.', l, p.rxFrames);
    m.metric('vswitch_port_rx_bytes_total', 'counter', 'Bytes received on the port.', l, p.rxBytes);
    m.metric('vswitch_port_tx_frames_total', 'counter', 'Frames sent out of the port.', l, p.txFrames);
    m.metric('vswitch_port_tx_bytes_total', 'counter', 'Bytes sent out of the port.', l, p.txBytes);
  }
  for (const p of status.ports) {
    for (const [reason, n] of Object.entries(p.drops)) {
      m.metric('vswitch_port_drops_total', 'counter', 'Frames received on the port and dropped, by reason.', { port: p.name, reason }, n);
    }
  }

  for (const k of status.links) {
    const l = { link: k.name };
    m.metric('vswitch_link_up', 'gauge', 'Whether the link has a current session (1) or not (0).', l, k.state === 'up' ? 1 : 0);
    m.metric('vswitch_link_transport_info', 'gauge', 'The transport the link uses now (always 1).', { ...l, transport: k.transport, mode: k.mode }, 1);
    m.metric('vswitch_link_rx_bytes_total', 'counter', 'Bytes received on the link (after decryption).', l, k.rxBytes);
    m.metric('vswitch_link_tx_bytes_total', 'counter', 'Bytes sent on the link (before encryption).', l, k.txBytes);
    m.metric('vswitch_link_rx_packets_total', 'counter', 'Transport packets received on the link.', l, k.rxPackets);
    m.metric('vswitch_link_tx_packets_total', 'counter', 'Transport packets sent on the link.', l, k.txPackets);
    m.metric('vswitch_link_transport_switches_total', 'counter', 'Changes between UDP and TCP.', l, k.transportSwitches);
    if (k.lastHandshakeAt) {
      const at = Date.parse(k.lastHandshakeAt);
      m.metric('vswitch_link_last_handshake_timestamp_seconds', 'gauge', 'When the last handshake completed (Unix time).', l, at / 1000);
      m.metric('vswitch_link_handshake_age_seconds', 'gauge', 'Seconds since the last handshake completed.', l, Math.max(0, (nowMs - at) / 1000));
    }
  }
  for (const k of status.links) {
    for (const [reason, n] of Object.entries(k.drops)) {
      m.metric('vswitch_link_drops_total', 'counter', 'Packets dropped on the link, by reason.', { link: k.name, reason }, n);
    }
  }

  for (const [reason, n] of Object.entries(status.refused?.underlay ?? {})) {
    m.metric('vswitch_underlay_refused_total', 'counter', 'Underlay datagrams and connections that belonged to no link, by reason.', { reason }, n);
  }
  for (const [reason, n] of Object.entries(status.refused?.control ?? {})) {
    m.metric('vswitch_control_refused_total', 'counter', 'Control messages refused by the channel, by reason.', { reason }, n);
  }
  const offload = status.offload;
  if (offload?.enabled) {
    m.metric('vswitch_offload_flows', 'gauge', "Flows in the addon's flow cache.", {}, offload.flows ?? 0);
    m.metric('vswitch_offload_flow_hits_total', 'counter', 'Frames and link messages the flow cache forwarded natively.', { path: 'tap' }, offload.txHits ?? 0);
    m.metric('vswitch_offload_flow_hits_total', 'counter', 'Frames and link messages the flow cache forwarded natively.', { path: 'link' }, offload.rxHits ?? 0);
    m.metric('vswitch_offload_flow_misses_total', 'counter', 'Frames that found no flow (handed to the switch core).', {}, offload.txMisses ?? 0);
    m.metric('vswitch_offload_punts_total', 'counter', 'Frames or messages a flow or slot handed to JS.', { path: 'tap' }, offload.txPunts ?? 0);
    m.metric('vswitch_offload_punts_total', 'counter', 'Frames or messages a flow or slot handed to JS.', { path: 'link' }, offload.rxPunts ?? 0);
    m.metric('vswitch_offload_flow_installs_total', 'counter', 'Flows installed.', {}, offload.installs ?? 0);
    m.metric('vswitch_offload_flow_flushes_total', 'counter', 'Flow cache flushes.', {}, offload.flushes ?? 0);
  }

  for (const r of rules) {
    const l = { rule: String(r.id), src: r.src, dst: r.dst, target: r.target, owner: r.owner };
    m.metric('vswitch_rule_hit_frames_total', 'counter', 'Frames that matched the forwarding rule.', l, r.hitFrames);
    m.metric('vswitch_rule_hit_bytes_total', 'counter', 'Bytes that matched the forwarding rule.', l, r.hitBytes);
  }

  const mac = status.macTable;
  m.metric('vswitch_mac_table_entries', 'gauge', 'Entries in the MAC learning table.', {}, mac.entries);
  m.metric('vswitch_mac_learned_total', 'counter', 'MAC addresses learned.', {}, mac.learned);
  m.metric('vswitch_mac_moved_total', 'counter', 'MAC addresses that moved to another port.', {}, mac.moved);
  m.metric('vswitch_mac_expired_total', 'counter', 'MAC entries aged out.', {}, mac.expired);
  m.metric('vswitch_mac_evicted_total', 'counter', 'MAC entries evicted because the table was full.', {}, mac.evicted);

  const moves = status.moves;
  if (moves && status.role === 'proxy') {
    // VM moves the Proxy followed (switch/overlay/proxy-moves.ts): self-contained, four families.
    m.metric('vswitch_vm_moves_total', 'counter', 'VM moves detected and announced to the hosts.', {}, moves.detected);
    m.metric('vswitch_vm_moves_incomplete_total', 'counter', 'VM moves not followed by every host and plugin within the deadline.', {}, moves.incomplete);
    for (const [reason, n] of Object.entries(moves.refused)) {
      m.metric('vswitch_vm_moves_refused_total', 'counter', 'VM moves held back by a bound (per host, per MAC), by reason.', { reason }, n);
    }
    if (moves.lastConvergeMs !== null) {
      m.metric('vswitch_vm_move_last_converge_seconds', 'gauge', 'Time from detecting the last VM move to every host and plugin having followed it.', {}, moves.lastConvergeMs / 1000);
    }
  }

  for (const p of plugins) {
    const l = { plugin: p.name, kind: p.kind };
    m.metric('vswitch_plugin_info', 'gauge', 'A plugin and its state (always 1).', { ...l, state: p.state }, 1);
    m.metric('vswitch_plugin_events_delivered_total', 'counter', 'Events delivered to the plugin.', l, p.counters.delivered);
    m.metric('vswitch_plugin_events_dropped_total', 'counter', 'Events dropped for the plugin (it fell behind, or failed).', l, p.counters.dropped);
    m.metric('vswitch_plugin_errors_total', 'counter', "The plugin's errors (thrown, timed out, failed webhook deliveries).", l, p.counters.errors);
    m.metric('vswitch_plugin_requests_total', 'counter', "API requests made with a policy's token.", l, p.counters.requests);
    m.metric('vswitch_plugin_rate_limited_total', 'counter', "A policy's requests refused with 429.", l, p.counters.rateLimited);
  }
  return m.text();
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { renderMetrics } from '../../../api/http/metrics.js';
import type { Status } from '../../../api/wire/schemas.js';

// A Prometheus text-format parser from outside the project: what we render must parse as Prometheus reads it.
const parsePrometheus = createRequire(import.meta.url)('parse-prometheus-text-format') as (
  text: string,
) => { name: string; type: string; metrics: { value: string; labels?: Record<string, string> }[] }[];

const status: Status = {
  name: 'h1',
  role: 'host',
  version: '0.1.0',
  uptimeS: 12.5,
  ports: [
    { name: 'tap-h1v1', kind: 'tap', state: 'up', rxFrames: 10, rxBytes: 1000, txFrames: 9, txBytes: 900, drops: { runt: 2, 'source-zero': 1 } },
    { name: 'proxy', kind: 'link', state: 'down', lastError: 'x', rxFrames: 0, rxBytes: 0, txFrames: 0, txBytes: 0, drops: {} },
  ],
  links: [
    {
      name: 'proxy',
      publicKey: 'k',
      state: 'up',
      mode: 'auto',
      transport: 'tcp',
      endpoint: 'tcp:198.18.1.1:51820#3',
      lastHandshakeAt: '2026-11-25T10:00:00.000Z',
      rxBytes: 5,
      txBytes: 6,
      rxPackets: 1,
      txPackets: 2,
      transportSwitches: 1,
      drops: { 'bad-packet-auth': 4 },
    },
  ],
  macTable: { entries: 2, learned: 3, expired: 1, evicted: 0, moved: 1 },
};

describe('renderMetrics', () => {
  const text = renderMetrics({
    status,
    rules: [{ id: 7, src: 'any', dst: 'none', target: 'proxy', priority: 0, owner: 'star', hitFrames: 4, hitBytes: 400 }],
    nowMs: Date.parse('2026-11-25T10:00:30.000Z'),
    plugins: [{ name: 'pin', kind: 'http', state: 'running', counters: { delivered: 12, dropped: 1, errors: 0, requests: 40, rateLimited: 3 } }],
  });
  const families = new Map(parsePrometheus(text).map((f) => [f.name, f]));
  const value = (name: string, labels: Record<string, string> = {}) =>
    Number(families.get(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value);

  it('parses as Prometheus text format, counters typed as counters', () => {
    expect(families.get('vswitch_port_rx_frames_total')?.type).toBe('COUNTER');
    expect(families.get('vswitch_mac_table_entries')?.type).toBe('GAUGE');
  });

  it('exposes port, link, rule and MAC-table figures with their labels', () => {
    expect(value('vswitch_port_rx_frames_total', { port: 'tap-h1v1' })).toBe(10);
    expect(value('vswitch_port_up', { port: 'proxy' })).toBe(0);
    expect(value('vswitch_port_drops_total', { port: 'tap-h1v1', reason: 'runt' })).toBe(2);
    expect(value('vswitch_link_transport_info', { link: 'proxy', transport: 'tcp', mode: 'auto' })).toBe(1);
    expect(value('vswitch_link_drops_total', { link: 'proxy', reason: 'bad-packet-auth' })).toBe(4);
    expect(value('vswitch_link_handshake_age_seconds', { link: 'proxy' })).toBe(30);
    expect(value('vswitch_rule_hit_frames_total', { rule: '7', owner: 'star' })).toBe(4);
    expect(value('vswitch_mac_moved_total')).toBe(1);
  });

  it("exposes the plugins' state and counters", () => {
    expect(value('vswitch_plugin_info', { plugin: 'pin', kind: 'http', state: 'running' })).toBe(1);
    expect(value('vswitch_plugin_events_delivered_total', { plugin: 'pin' })).toBe(12);
    expect(value('vswitch_plugin_rate_limited_total', { plugin: 'pin' })).toBe(3);
    expect(families.get('vswitch_plugin_requests_total')?.type).toBe('COUNTER');
  });

  it('escapes label values', () => {
    const odd = renderMetrics({ status: { ...status, name: 'a"b\\c' }, rules: [], nowMs: 0 });
    const info = parsePrometheus(odd).find((f) => f.name === 'vswitch_info')!;
    expect(info.metrics[0]!.labels!.name).toBe('a"b\\c');
  });
});

describe('refused input in /metrics', () => {
  it('counts underlay and control refusals by reason', async () => {
    const text = renderMetrics({
      status: {
        name: 'h1', role: 'host', version: 't', uptimeS: 1, ports: [], links: [],
        macTable: { entries: 0, learned: 0, expired: 0, evicted: 0, moved: 0 },
        refused: { underlay: { 'bad-mac1': 3, 'tcp:tcp-per-ip-limit': 1 }, control: { 'report-invalid': 2 } },
      },
      rules: [],
      nowMs: 0,
    });
    expect(text).toContain('vswitch_underlay_refused_total{reason="bad-mac1"} 3');
    expect(text).toContain('vswitch_underlay_refused_total{reason="tcp:tcp-per-ip-limit"} 1');
    expect(text).toContain('vswitch_control_refused_total{reason="report-invalid"} 2');
  });
});

describe('VM moves in /metrics', () => {
  const moves = { detected: 4, converged: 3, incomplete: 1, refused: { 'host-rate': 2, 'mac-rate': 5 }, lastConvergeMs: 12, applied: 0, forgotten: 0, arrivalsSent: 0, arrivalsSuppressed: 0 };
  const proxyStatus: Status = { ...status, name: 'proxy', role: 'proxy', moves };

  it('on the Proxy: moves, incomplete ones, refusals by reason, and the last convergence time', () => {
    const families = new Map(parsePrometheus(renderMetrics({ status: proxyStatus, rules: [], nowMs: 0 })).map((f) => [f.name, f]));
    const sample = (name: string, labels: Record<string, string> = {}) =>
      Number(families.get(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value);
    expect(families.get('vswitch_vm_moves_total')?.type).toBe('COUNTER');
    expect(sample('vswitch_vm_moves_total')).toBe(4);
    expect(sample('vswitch_vm_moves_incomplete_total')).toBe(1);
    expect(sample('vswitch_vm_moves_refused_total', { reason: 'mac-rate' })).toBe(5);
    expect(families.get('vswitch_vm_move_last_converge_seconds')?.type).toBe('GAUGE');
    expect(sample('vswitch_vm_move_last_converge_seconds')).toBe(0.012);
  });

  it('no convergence gauge before the first move converged; nothing of moves on a host', () => {
    expect(renderMetrics({ status: { ...proxyStatus, moves: { ...moves, lastConvergeMs: null } }, rules: [], nowMs: 0 })).not.toContain('vswitch_vm_move_last_converge_seconds');
    expect(renderMetrics({ status: { ...status, moves }, rules: [], nowMs: 0 })).not.toContain('vswitch_vm_moves');
  });
});

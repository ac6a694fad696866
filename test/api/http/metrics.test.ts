import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { register as defaultRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { DaemonMetrics, METRIC_FAMILIES, type MetricsSnapshot } from '../../../api/http/metrics.js';
import { SNAPSHOT, STATUS } from './metrics-fixture.js';

interface ParsedFamily {
  name: string;
  help: string;
  type: string;
  metrics: { value: string; labels?: Record<string, string> }[];
}
// A Prometheus text-format parser from outside the project: what we render must parse as Prometheus reads it.
const parsePrometheus = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => ParsedFamily[];

const scrape = (snapshot: MetricsSnapshot) => new DaemonMetrics(() => snapshot).scrape();
const familiesOf = (text: string) => new Map(parsePrometheus(text).map((f) => [f.name, f]));
const valueIn = (families: Map<string, ParsedFamily>) => (name: string, labels: Record<string, string> = {}) =>
  Number(families.get(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value);

/** name → help, type and the samples (labels and value) as sorted text: what Prometheus stores of a scrape. */
function meaning(text: string): Record<string, { help: string; type: string; samples: string[] }> {
  return Object.fromEntries(
    parsePrometheus(text).map((f) => [
      f.name,
      { help: f.help, type: f.type, samples: f.metrics.map((m) => `${JSON.stringify(Object.entries(m.labels ?? {}).sort())} ${m.value}`).sort() },
    ]),
  );
}

describe('/metrics through prom-client', () => {
  it('says what the hand-written exposition said: the same families, HELP, TYPE, labels and values', async () => {
    // metrics-before-prom-client.prom: what api/http/metrics.ts rendered for SNAPSHOT before the move to prom-client.
    const before = meaning(readFileSync(new URL('./metrics-before-prom-client.prom', import.meta.url), 'utf8'));
    const now = meaning(await scrape(SNAPSHOT));
    const added = Object.keys(now).filter((name) => !(name in before));
    expect(added).toEqual(['vswitch_star_up', 'vswitch_star_silent_seconds', 'vswitch_star_reconnects_total', 'vswitch_host_up', 'vswitch_vm_moves_total', 'vswitch_vm_moves_incomplete_total', 'vswitch_vm_moves_refused_total', 'vswitch_vm_move_last_converge_seconds', 'process_resident_memory_bytes', 'process_cpu_seconds_total']);
    for (const name of added) delete now[name];
    expect(now).toEqual(before);
  });

  it('serves the text format Prometheus asks for', () => {
    expect(new DaemonMetrics(() => SNAPSHOT).contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('exposes port, link, rule, MAC-table, offload and plugin figures with their labels', async () => {
    const families = familiesOf(await scrape(SNAPSHOT));
    const value = valueIn(families);
    expect(families.get('vswitch_port_rx_frames_total')?.type).toBe('COUNTER');
    expect(families.get('vswitch_mac_table_entries')?.type).toBe('GAUGE');
    expect(value('vswitch_port_rx_frames_total', { port: 'tap-h1v1' })).toBe(10);
    expect(value('vswitch_port_up', { port: 'proxy' })).toBe(0);
    expect(value('vswitch_port_drops_total', { port: 'tap-h1v1', reason: 'runt' })).toBe(2);
    expect(value('vswitch_link_transport_info', { link: 'proxy', transport: 'tcp', mode: 'auto' })).toBe(1);
    expect(value('vswitch_link_drops_total', { link: 'proxy', reason: 'bad-packet-auth' })).toBe(4);
    expect(value('vswitch_link_handshake_age_seconds', { link: 'proxy' })).toBe(30);
    expect(families.get('vswitch_link_handshake_age_seconds')?.metrics.map((m) => m.labels?.['link'])).toEqual(['proxy']); // h2 never shook hands
    expect(value('vswitch_rule_hit_frames_total', { rule: '7', owner: 'star' })).toBe(4);
    expect(value('vswitch_mac_moved_total')).toBe(1);
    expect(value('vswitch_underlay_refused_total', { reason: 'tcp:tcp-per-ip-limit' })).toBe(1);
    expect(value('vswitch_control_refused_total', { reason: 'report-invalid' })).toBe(2);
    expect(value('vswitch_offload_flow_hits_total', { path: 'link' })).toBe(38);
    expect(value('vswitch_plugin_info', { plugin: 'pin', kind: 'http', state: 'running' })).toBe(1);
    expect(value('vswitch_plugin_rate_limited_total', { plugin: 'pin' })).toBe(3);
    expect(value('vswitch_star_up', { link: 'proxy' })).toBe(0);
    expect(value('vswitch_star_silent_seconds', { link: 'proxy' })).toBe(4.2);
    expect(value('vswitch_star_reconnects_total', { link: 'proxy' })).toBe(2);
    expect([value('vswitch_host_up', { host: 'h2' }), value('vswitch_host_up', { host: 'h3' })]).toEqual([1, 0]);
    expect(value('process_resident_memory_bytes')).toBeGreaterThan(1e6);
  });

  it('escapes label values', async () => {
    const info = familiesOf(await scrape({ ...SNAPSHOT, status: { ...STATUS, name: 'a"b\\c\nd' } })).get('vswitch_info')!;
    expect(info.metrics[0]!.labels!['name']).toBe('a"b\\c\nd');
  });

  it('collects at scrape time: what went away leaves, the offload families are empty while it is off', async () => {
    let snapshot = SNAPSHOT;
    const metrics = new DaemonMetrics(() => snapshot);
    const first = familiesOf(await metrics.scrape());
    expect(first.get('vswitch_link_up')?.metrics).toHaveLength(2);
    expect(first.get('vswitch_offload_flows')?.metrics).toHaveLength(1);

    snapshot = { ...SNAPSHOT, status: { ...STATUS, links: STATUS.links.slice(0, 1), ports: [{ ...STATUS.ports[0]!, rxFrames: 25 }], offload: { enabled: false } } };
    const second = familiesOf(await metrics.scrape());
    expect(second.get('vswitch_link_up')?.metrics.map((m) => m.labels?.['link'])).toEqual(['proxy']);
    expect(second.get('vswitch_port_rx_frames_total')?.metrics).toEqual([{ value: '25', labels: { port: 'tap-h1v1', kind: 'tap' } }]);
    for (const name of ['vswitch_offload_flows', 'vswitch_offload_flow_hits_total', 'vswitch_offload_flow_misses_total']) expect(second.get(name)?.metrics ?? []).toEqual([]);
  });

  it('gives Prometheus nothing it cannot read: a negative or non-finite counter is 0', async () => {
    const odd = { ...SNAPSHOT, status: { ...STATUS, uptimeS: Number.NaN, macTable: { ...STATUS.macTable, learned: -3, moved: Number.POSITIVE_INFINITY } } };
    const value = valueIn(familiesOf(await scrape(odd)));
    expect([value('vswitch_uptime_seconds'), value('vswitch_mac_learned_total'), value('vswitch_mac_moved_total')]).toEqual([0, 0, 0]);
  });

  it('keeps each daemon to its own registry: two in one process, and nothing in the default one', async () => {
    const a = new DaemonMetrics(() => SNAPSHOT);
    const b = new DaemonMetrics(() => ({ ...SNAPSHOT, status: { ...STATUS, name: 'h2' } }));
    const [textA, textB] = await Promise.all([a.scrape(), b.scrape()]);
    expect(familiesOf(textA).get('vswitch_info')?.metrics.map((m) => m.labels?.['name'])).toEqual(['h1']);
    expect(familiesOf(textB).get('vswitch_info')?.metrics.map((m) => m.labels?.['name'])).toEqual(['h2']);
    expect(defaultRegistry.getMetricsAsArray()).toEqual([]);
  });

  it('runs scrapes of one daemon one at a time, each on the snapshot it took', async () => {
    let n = 0;
    const metrics = new DaemonMetrics(async () => {
      const uptimeS = ++n;
      await Promise.resolve();
      return { ...SNAPSHOT, status: { ...STATUS, uptimeS } };
    });
    const texts = await Promise.all([metrics.scrape(), metrics.scrape(), metrics.scrape()]);
    expect(texts.map((t) => valueIn(familiesOf(t))('vswitch_uptime_seconds'))).toEqual([1, 2, 3]);
  });

  it('keeps serving after a snapshot that failed', async () => {
    let fail = true;
    const metrics = new DaemonMetrics(() => {
      if (fail) throw new Error('status unavailable');
      return SNAPSHOT;
    });
    await expect(metrics.scrape()).rejects.toThrow('status unavailable');
    fail = false;
    expect(await metrics.scrape()).toContain('vswitch_info{');
  });

  it('lists its families for the docs and the alert rules', () => {
    expect(METRIC_FAMILIES.map((f) => f.name)).toContain('vswitch_link_handshake_age_seconds');
    expect(METRIC_FAMILIES.every((f) => f.type === 'gauge' || f.name.endsWith('_total'))).toBe(true);
  });
});

describe('VM moves in /metrics', () => {
  const moves = { detected: 4, converged: 3, incomplete: 1, refused: { 'host-rate': 2, 'mac-rate': 5 }, lastConvergeMs: 12, applied: 0, forgotten: 0, arrivalsSent: 0, arrivalsSuppressed: 0 };
  const proxyStatus = { ...STATUS, name: 'proxy', role: 'proxy' as const, moves };

  it('on the Proxy: moves, incomplete ones, refusals by reason, and the last convergence time', async () => {
    const families = familiesOf(await scrape({ status: proxyStatus, rules: [], nowMs: 0 }));
    const sample = valueIn(families);
    expect(families.get('vswitch_vm_moves_total')?.type).toBe('COUNTER');
    expect(sample('vswitch_vm_moves_total')).toBe(4);
    expect(sample('vswitch_vm_moves_incomplete_total')).toBe(1);
    expect(sample('vswitch_vm_moves_refused_total', { reason: 'mac-rate' })).toBe(5);
    expect(families.get('vswitch_vm_move_last_converge_seconds')?.type).toBe('GAUGE');
    expect(sample('vswitch_vm_move_last_converge_seconds')).toBe(0.012);
  });

  it('no convergence sample before the first move converged; no move samples on a host', async () => {
    const samples = (text: string, name: string) => familiesOf(text).get(name)?.metrics.length ?? 0;
    expect(samples(await scrape({ status: { ...proxyStatus, moves: { ...moves, lastConvergeMs: null } }, rules: [], nowMs: 0 }), 'vswitch_vm_move_last_converge_seconds')).toBe(0);
    expect(samples(await scrape({ status: { ...STATUS, moves }, rules: [], nowMs: 0 }), 'vswitch_vm_moves_total')).toBe(0);
  });
});

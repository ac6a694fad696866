/**
 * A real Prometheus scrapes a lab overlay — the Proxy and 2 hosts, one VM each — and sees what an operator would.
 *
 * Reaching the daemons: each runs in its own namespace, and its API normally listens on 127.0.0.1 there, where no
 * other namespace can reach it. The lab's --api-on-underlay puts each API on the daemon's underlay address instead
 * (the lab's WAN bridge, in a namespace of its own: nothing outside the lab reaches it), and a non-loopback API
 * requires tokens (api/http/auth.ts): Prometheus runs in the Proxy's namespace and scrapes all three with the lab's
 * READ-ONLY token (`authorization.credentials_file`) — as a Prometheus on another machine would in production.
 * Prometheus listens on 127.0.0.1 inside the Proxy's namespace only; its storage is a temporary directory; it is
 * stopped by PID at the end.
 *
 * Checked through Prometheus's HTTP API: every target up; the link and port series there; their counters move
 * with a ping between the VMs (two queries, and increase()); docs/alerts.yaml loaded and evaluated without error;
 * with the Proxy's daemon stopped, VswitchDaemonDown (Proxy) and VswitchProxyUnreachable (both hosts) go pending
 * while the hosts' links still have a current session.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Status } from '../../api/wire/schemas.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_DIR, ROOT, lab, labDownSync, labExec, labJson, labNs, requireRoot, vmIp } from './support/lab.js';
import { waitFor } from './support/netns.js';
import { requirePrometheus, startPrometheus, type PromSample, type RunningPrometheus } from './support/prometheus.js';

const NODES = { proxy: '198.18.1.1', h1: '198.18.0.1', h2: '198.18.0.2' } as const;
const PROM_PORT = 9090;

function prometheusConfig(): string {
  const targets = Object.entries(NODES)
    .map(([node, ip]) => `      - { targets: ["${ip}:7000"], labels: { node: ${node} } }`)
    .join('\n');
  return `global: { scrape_interval: 1s, scrape_timeout: 900ms, evaluation_interval: 1s }
rule_files: ["${join(ROOT, 'docs/alerts.yaml')}"]
scrape_configs:
  - job_name: vswitch
    authorization: { type: Bearer, credentials_file: "${join(LAB_DIR, 'metrics.token')}" }
    static_configs:
${targets}
`;
}

let prom: RunningPrometheus | undefined;
const byNode = (samples: PromSample[]) => Object.fromEntries(samples.map((s) => [`${s.metric['node']}/${s.metric['link'] ?? s.metric['port'] ?? ''}`, Number(s.value[1])]));
const one = (expr: string): number => {
  const samples = prom!.query(expr);
  if (samples.length !== 1) throw new Error(`${expr}: ${samples.length} samples, expected 1`);
  return Number(samples[0]!.value[1]);
};

describe('a real Prometheus scraping the overlay (Proxy + 2 hosts)', () => {
  beforeAll(async () => {
    requireRoot();
    requirePrometheus();
    labDownSync();
    await lab('up', '--hosts', '2', '--vms-per-host', '1', '--proxy', '--api-on-underlay');
    prom = await startPrometheus(labNs('proxy'), prometheusConfig(), PROM_PORT);
  });
  afterAll(async () => {
    await prom?.stop();
    labDownSync();
  });

  it('scrapes every daemon with the read-only token', async () => {
    await waitFor(() => prom!.query('up{job="vswitch"} == 1').length === 3, 20_000, 'all 3 targets up');
    const { activeTargets } = prom!.api<{ activeTargets: { labels: Record<string, string>; health: string; lastError: string }[] }>('targets?state=active');
    expect(activeTargets.map((t) => [t.labels['node'], t.health, t.lastError]).sort()).toEqual([
      ['h1', 'up', ''],
      ['h2', 'up', ''],
      ['proxy', 'up', ''],
    ]);
    expect(prom!.query('vswitch_info').map((s) => [s.metric['node'], s.metric['name'], s.metric['role']]).sort()).toEqual([
      ['h1', 'h1', 'host'],
      ['h2', 'h2', 'host'],
      ['proxy', 'proxy', 'proxy'],
    ]);
  });

  it("gives Prometheus a token that reads but changes nothing; the lab's own commands use the read-write one", async () => {
    expect((await labJson<Status>('h1', 'status')).name).toBe('h1'); // scripts/lab vswitch: VSWITCH_API + VSWITCH_TOKEN
    const token = readFileSync(join(LAB_DIR, 'metrics.token'), 'utf8').trim();
    const post = `fetch("http://${NODES.h1}:7000/v1/config-time", { method: "PUT", headers: { authorization: "Bearer " + process.argv[1], "content-type": "application/json" }, body: JSON.stringify({ upperBoundMs: 900 }) }).then((r) => process.stdout.write(String(r.status)))`;
    expect(labExec('proxy', ['node', '-e', post, token]).stdout).toBe('403');
    expect(labExec('proxy', ['node', '-e', post, 'not-a-token-at-all']).stdout).toBe('401');
  });

  it('has the link and port series of every daemon', async () => {
    await waitFor(() => prom!.query('vswitch_link_up == 1').length === 4, 20_000, 'the star up in Prometheus');
    expect(byNode(prom!.query('vswitch_link_up'))).toEqual({ 'proxy/h1': 1, 'proxy/h2': 1, 'h1/proxy': 1, 'h2/proxy': 1 });
    expect(byNode(prom!.query('vswitch_port_up{kind="tap"}'))).toEqual({ 'h1/tap-h1v1': 1, 'h2/tap-h2v1': 1 });
    expect(prom!.query('vswitch_link_handshake_age_seconds').length).toBe(4);
    await waitFor(() => prom!.query('vswitch_host_up == 1').length === 2, 10_000, 'the Proxy hears both hosts');
    expect(byNode(prom!.query('vswitch_star_up'))).toEqual({ 'h1/proxy': 1, 'h2/proxy': 1 });
    expect(prom!.query('vswitch_rule_hit_frames_total{owner="star", dst="none"}').map((s) => [s.metric['node'], s.metric['target']]).sort()).toEqual([
      ['h1', 'proxy'],
      ['h2', 'proxy'],
    ]);
  });

  it('sees the port and link counters move with a ping between the VMs', async () => {
    const figures = () => ({
      vmRx: one('vswitch_port_rx_frames_total{node="h1", port="tap-h1v1"}'),
      hostLinkTx: one('vswitch_link_tx_bytes_total{node="h1", link="proxy"}'),
      proxyLinkRx: one('vswitch_link_rx_bytes_total{node="proxy", link="h1"}'),
      otherVmTx: one('vswitch_port_tx_frames_total{node="h2", port="tap-h2v1"}'),
    });
    const before = figures();
    await lab('exec', 'h1v1', 'ping', '-c', '20', '-i', '0.05', '-W', '2', vmIp(2, 1));
    // The next scrapes (1 s apart) carry the traffic.
    await waitFor(() => figures().vmRx - before.vmRx >= 20, 10_000, 'the ping in Prometheus');
    const after = figures();
    expect(after.vmRx - before.vmRx).toBeGreaterThanOrEqual(20);
    expect(after.otherVmTx - before.otherVmTx).toBeGreaterThanOrEqual(20);
    expect(after.hostLinkTx - before.hostLinkTx).toBeGreaterThan(20 * 98);
    expect(after.proxyLinkRx - before.proxyLinkRx).toBeGreaterThan(20 * 98);
    expect(one('increase(vswitch_port_rx_frames_total{node="h1", port="tap-h1v1"}[1m])')).toBeGreaterThanOrEqual(19);
    expect(one('increase(vswitch_link_tx_packets_total{node="h2", link="proxy"}[1m])')).toBeGreaterThanOrEqual(19);
  });

  it('loads docs/alerts.yaml and evaluates every rule without error', async () => {
    type Rules = { groups: { name: string; rules: { name: string; health: string; lastError?: string; lastEvaluation: string }[] }[] };
    await waitFor(() => prom!.api<Rules>('rules').groups.every((g) => g.rules.every((r) => !r.lastEvaluation.startsWith('0001'))), 10_000, 'every rule evaluated');
    const rules = prom!.api<Rules>('rules').groups.flatMap((g) => g.rules);
    expect(rules.length).toBeGreaterThan(10);
    expect(rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.health} ${r.lastError ?? ''}`)).toEqual([]);
    expect(prom!.query('ALERTS')).toEqual([]); // a healthy overlay raises nothing
  });

  it('raises the Proxy-down alerts when the Proxy daemon stops: daemon down, and unreachable from both hosts', async () => {
    await lab('stop', 'proxy');
    const pending = () => prom!.query('ALERTS{alertstate="pending"}').map((s) => `${s.metric['alertname']} ${s.metric['node']}${s.metric['link'] ? ` ${s.metric['link']}` : ''}`);
    await waitFor(() => ['VswitchDaemonDown proxy', 'VswitchProxyUnreachable h1 proxy', 'VswitchProxyUnreachable h2 proxy'].every((a) => pending().includes(a)), 20_000, 'the Proxy-down alerts pending');
    expect(pending().filter((a) => !/^VswitchDaemonDown proxy$|^VswitchProxyUnreachable h[12] proxy$/.test(a))).toEqual([]);
    // What the hosts' links say meanwhile: their sessions are still current (hence vswitch_star_up, not link_up).
    expect(byNode(prom!.query('vswitch_link_up{node=~"h."}'))).toEqual({ 'h1/proxy': 1, 'h2/proxy': 1 });
  });
});

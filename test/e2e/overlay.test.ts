/**
 * The VNET overlay on the lab: a Proxy and 4 hosts with one VM each, the
 * resilient star between them, h4's UDP blocked by nftables. Every VM pair
 * pings through the Proxy; h4 joins over TCP; the Proxy killed and restarted →
 * every pair pings again within 5 s of its return.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Status } from '../../api/wire/schemas.js';
import { lab, labDownSync, labJson, requireRoot, vmIp, vmMac } from './support/lab.js';
import { waitFor } from './support/netns.js';
import { createRequire } from 'node:module';

const parsePrometheus = createRequire(import.meta.url)('parse-prometheus-text-format') as (
  text: string,
) => { name: string; metrics: { value: string; labels?: Record<string, string> }[] }[];

const HOSTS = 4;
const vms = Array.from({ length: HOSTS }, (_, i) => ({ node: `h${i + 1}v1`, ip: vmIp(i + 1, 1) }));
const pairs = vms.flatMap((a, i) => vms.slice(i + 1).map((b) => [a, b] as const));

/** Pings every pair once, in parallel; returns the pairs that failed. */
async function failingPairs(timeoutS = 1): Promise<string[]> {
  const results = await Promise.all(
    pairs.map(async ([a, b]) => {
      const r = await lab('exec', a.node, 'ping', '-c', '1', '-W', String(timeoutS), b.ip).then(
        () => 0,
        () => 1,
      );
      return r === 0 ? undefined : `${a.node}→${b.node}`;
    }),
  );
  return results.filter((x): x is string => x !== undefined);
}

describe('the overlay: a Proxy and 4 hosts', () => {
  beforeAll(async () => {
    requireRoot();
    labDownSync();
    await lab('up', '--hosts', String(HOSTS), '--vms-per-host', '1', '--proxy', '--block-udp', 'h4');
  });
  afterAll(() => labDownSync());

  it('links every host to the Proxy (the resilient star)', async () => {
    await waitFor(async () => {
      const s = await labJson<Status>('proxy', 'status');
      return s.links.length === HOSTS && s.links.every((l) => l.state === 'up');
    }, 10_000, 'star up');
  });

  it('lets every VM pair ping through the Proxy', async () => {
    // ARP first: a pair's first ping may need a broadcast round trip through the star.
    await waitFor(async () => (await failingPairs(2)).length === 0, 15_000, 'all pairs ping');
    const proxy = await labJson<Status>('proxy', 'status');
    expect(proxy.links.every((l) => l.rxBytes > 0 && l.txBytes > 0)).toBe(true);
  });

  it('hears every host and has its report (interfaces, links, rules)', async () => {
    type Host = { name: string; state: string; interfaces: number; links: number; rules: number };
    await waitFor(async () => {
      const hosts = await labJson<Host[]>('proxy', 'hosts');
      return hosts.length === HOSTS && hosts.every((h) => h.state === 'up' && h.interfaces === 2 && h.links === 1 && h.rules === 1);
    }, 10_000, 'all hosts reported');
  });

  it('joins the host whose UDP is blocked over TCP', async () => {
    const h4 = await labJson<Status>('h4', 'status');
    expect(h4.links[0]).toMatchObject({ name: 'proxy', state: 'up', transport: 'tcp' });
    const h1 = await labJson<Status>('h1', 'status');
    expect(h1.links[0]).toMatchObject({ name: 'proxy', state: 'up', transport: 'udp' });
  });

  it('comes back within 5 s of the Proxy returning after a restart', async () => {
    await lab('stop', 'proxy');
    expect(await failingPairs()).not.toHaveLength(0);
    await new Promise((r) => setTimeout(r, 2000));
    await lab('start', 'proxy');
    const returnedAt = Date.now();
    await waitFor(async () => (await failingPairs(1)).length === 0, 15_000, 'all pairs ping after the restart');
    const tookMs = Date.now() - returnedAt;
    expect(tookMs).toBeLessThan(5000);
  });

  it('runs each primitive through the CLI, on a host and relayed by the Proxy', async () => {
    const key = (await lab('exec', 'h1', 'cat', `${process.env['VSWITCH_LAB_DIR'] ?? '/run/vswitch-lab'}/h2.pub`)).stdout.trim();
    for (const where of [['h1'], ['proxy', '--host', 'h1']] as const) {
      const [node, ...host] = where;
      const cli = (...args: string[]) => labJson<unknown>(node, ...args, ...host);
      const rule = (await cli('rule', 'add', '--src', vmMac(1, 1), '--dst', vmMac(3, 1), '--target', 'proxy', '--priority', '7')) as { id: number };
      expect(rule).toMatchObject({ src: vmMac(1, 1), dst: vmMac(3, 1), target: 'proxy', priority: 7 });
      expect((await cli('rule', 'list')) as { id: number }[]).toEqual(expect.arrayContaining([expect.objectContaining({ id: rule.id })]));
      await lab('vswitch', node, 'rule', 'del', String(rule.id), ...host);
      expect(((await cli('rule', 'list')) as { id: number }[]).map((r) => r.id)).not.toContain(rule.id);

      const link = await cli('link', 'add', 'extra', '--public-key', key, '--endpoint', '198.18.0.2:51820', '--transport', 'udp');
      expect(link).toMatchObject({ name: 'extra', mode: 'udp' });
      expect(((await cli('link', 'list')) as { name: string }[]).map((l) => l.name)).toEqual(['proxy', 'extra']);
      await lab('vswitch', node, 'link', 'del', 'extra', ...host);
      expect(((await cli('link', 'list')) as { name: string }[]).map((l) => l.name)).toEqual(['proxy']);

      expect(((await cli('iface', 'list')) as { name: string }[]).map((i) => i.name)).toEqual(['tap-h1v1', 'proxy']);
      expect(await cli('config-time', 'set', '3000')).toEqual({ upperBoundMs: 3000 });
      expect(await cli('config-time', 'get')).toEqual({ upperBoundMs: 3000 });
    }
  });

  it('answers a bad API body with a 400 naming the field, and changes nothing', async () => {
    const script = [
      'const post = (path, body) => fetch("http://127.0.0.1:7000" + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })',
      '  .then(async (r) => ({ status: r.status, type: r.headers.get("content-type"), body: await r.json() }));',
      'Promise.all([',
      '  post("/v1/rules", { src: "not-a-mac", dst: "any", target: "proxy" }),',
      '  post("/v1/hosts/h2/rules", { src: "any", dst: "any" }),',
      '  post("/v1/hosts/h2/links", { name: "x", publicKey: "short", extra: 1 }),',
      ']).then((r) => console.log(JSON.stringify(r)));',
    ].join('\n');
    const rulesBefore = await labJson<unknown[]>('h2', 'rule', 'list');
    const ownBefore = await labJson<unknown[]>('proxy', 'rule', 'list');
    const { stdout } = await lab('exec', 'proxy', 'node', '-e', script);
    const answers = JSON.parse(stdout) as { status: number; type: string; body: { detail: string } }[];
    for (const a of answers) {
      expect(a.status).toBe(400);
      expect(a.type).toContain('application/problem+json');
    }
    expect(answers[0]!.body.detail).toContain('src');
    expect(answers[1]!.body.detail).toContain('target');
    expect(answers[2]!.body.detail).toMatch(/publicKey|extra/);
    expect(await labJson<unknown[]>('h2', 'rule', 'list')).toEqual(rulesBefore);
    expect(await labJson<unknown[]>('proxy', 'rule', 'list')).toEqual(ownBefore);
  });

  it('exposes Prometheus metrics whose counters move with real traffic', async () => {
    const scrape = async () => {
      const { stdout } = await lab('exec', 'h1', 'node', '-e', 'fetch("http://127.0.0.1:7000/metrics").then((r) => r.text()).then((t) => process.stdout.write(t))');
      const families = parsePrometheus(stdout);
      const sample = (name: string, labels: Record<string, string>) =>
        Number(families.find((f) => f.name === name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value);
      return {
        vmRx: sample('vswitch_port_rx_frames_total', { port: 'tap-h1v1' }),
        linkTx: sample('vswitch_link_tx_bytes_total', { link: 'proxy' }),
        defaultRuleHits: sample('vswitch_rule_hit_frames_total', { owner: 'star' }),
      };
    };
    const before = await scrape();
    await lab('exec', 'h1v1', 'ping', '-c', '10', '-i', '0.05', vmIp(3, 1));
    const after = await scrape();
    expect(after.vmRx - before.vmRx).toBeGreaterThanOrEqual(10);
    expect(after.linkTx - before.linkTx).toBeGreaterThan(10 * 98);
    expect(after.defaultRuleHits).toBeGreaterThanOrEqual(before.defaultRuleHits);
  });

  it('shows no pair traffic bypassing the Proxy: hosts only have the star link', async () => {
    for (let h = 1; h <= HOSTS; h++) {
      const s = await labJson<Status>(`h${h}`, 'status');
      expect(s.links.map((l) => l.name)).toEqual(['proxy']);
    }
  });
});

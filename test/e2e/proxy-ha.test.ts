/**
 * Proxy high availability on etcd (issue 19 part 3; docs/ha.md): a real 3-member etcd cluster (Debian's
 * etcd-server) in lab namespaces, two Proxies that elect the active one on it, three hosts that link to both.
 * - The active Proxy is SIGKILLed while the VMs ping: every VM pair pings again within 5 s, no host restarted,
 *   the fast path h1 → h2 kept.
 * - An etcd member is SIGKILLed: nothing changes (same active, same epoch, pings).
 * - Both Proxies are cut from etcd (nftables in their namespaces): the active keeps serving, neither promotes
 *   itself, the hosts keep following one; after reconnection exactly one is active and every host follows it.
 * - The desired state in etcd: fast-path settings set on the active Proxy only are in force on the new active one
 *   after the kill, and its fast-path plugin lists the fast link h1–h2 the hosts kept as its own (adopted, not
 *   re-added); the restarted Proxy, a standby, answers a policy registration with 421 proxy-standby naming the
 *   active one.
 * Its own namespaces (prefix vs-ha-, or VSWITCH_LAB_NS / VSWITCH_LAB_DIR when set).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

process.env['VSWITCH_LAB_NS'] ??= 'vs-ha-';
process.env['VSWITCH_LAB_DIR'] ??= '/run/vswitch-lab-ha';

type LabSupport = typeof import('./support/lab.js');
let support: LabSupport;
let waitFor: typeof import('./support/netns.js').waitFor;

interface HaStatus {
  ha?: {
    election?: { role: 'active' | 'standby'; epoch?: number; leader?: { name: string; epoch: number }; etcdReachable: boolean; promotions: number };
    following?: { active: string; epoch: number; switches: number; refused: number };
  };
}

interface FastPathStatus {
  settings: { enabled: boolean; maxLinks: number };
  links: { a: string; b: string; state: string }[];
  counters: { linksAdded: number; linkFailures: number };
}

const HOSTS = ['h1', 'h2', 'h3'];
const PROXIES = ['proxy', 'proxy2'];
const status = (node: string): HaStatus => support.labApi<HaStatus>(node, 'GET', '/v1/status');
const election = (node: string) => status(node).ha?.election;
const followed = (): string[] => HOSTS.map((h) => status(h).ha?.following?.active ?? '?');
const actives = (): string[] => PROXIES.filter((p) => election(p)?.role === 'active');
const pairs: [number, number][] = [
  [1, 2],
  [1, 3],
  [2, 3],
];
const pings = (a: number, b: number): boolean => support.labExec(`h${a}v1`, ['ping', '-c', '1', '-W', '1', support.vmIp(b, 1)]).code === 0;
const everyPairPings = (): boolean => pairs.every(([a, b]) => pings(a, b));
/** h1's fast-path rules toward h2v1 (the fast-path plugin's, relayed by a Proxy). */
const fastRulesH1toH2 = (): string[] =>
  support.labApi<{ rules: { dst: string; target: string; owner: string }[] }>('h1', 'GET', '/v1/rules')
    .rules.filter((r) => r.owner === 'proxy:fastpath' && r.dst === support.vmMac(2, 1))
    .map((r) => r.target);

describe('Proxy HA on etcd: two Proxies, three etcd members, three hosts', () => {
  beforeAll(async () => {
    support = await import('./support/lab.js');
    ({ waitFor } = await import('./support/netns.js'));
    support.requireRoot();
    support.labDownSync();
    await support.lab('up', '--hosts', '3', '--vms-per-host', '1', '--proxies', '2', '--etcd', '3');
  }, 180_000);
  afterAll(() => support?.labDownSync());

  it('elects one Proxy; every host follows it; every VM pair pings', async () => {
    await waitFor(() => actives().length === 1 && new Set(followed()).size === 1 && followed()[0] === actives()[0], 15_000, 'one active Proxy, followed by every host');
    expect(actives()).toEqual(['proxy']); // the first to start wins
    expect(election('proxy2')).toMatchObject({ role: 'standby', leader: { name: 'proxy' } });
    await waitFor(everyPairPings, 15_000, 'every VM pair pinging');
  }, 60_000);

  it('has a fast path h1 → h2 (the plugin turned on at the active Proxy only: the setting goes to etcd)', async () => {
    support.labApi('proxy', 'PUT', '/v1/plugins/fastpath/settings', { enabled: true, maxLinks: 50 });
    await waitFor(() => (pings(1, 2), fastRulesH1toH2().includes('fp-h2')), 45_000, 'a fast rule on h1 toward h2');
  }, 60_000);

  it('the active Proxy SIGKILLed mid-traffic: every pair pings again within 5 s, through the standby, no host restarted', async () => {
    const uptimes = HOSTS.map((h) => support.labApi<{ uptimeS: number }>(h, 'GET', '/v1/status').uptimeS);
    const epoch = election('proxy')!.epoch!;
    // Counted from before the kill: `lab kill` returns only once the process is gone (here up to 2 s more).
    const killedAt = Date.now();
    await support.lab('kill', 'proxy');
    const back = new Map<string, number>();
    while (back.size < pairs.length && Date.now() - killedAt < 15_000) {
      for (const [a, b] of pairs) if (!back.has(`${a}-${b}`) && pings(a, b)) back.set(`${a}-${b}`, Date.now() - killedAt);
    }
    console.log(`active Proxy killed: pairs pinging again after ${JSON.stringify(Object.fromEntries(back))} ms`);
    expect(back.size).toBe(pairs.length);
    for (const ms of back.values()) expect(ms).toBeLessThanOrEqual(5000);
    expect(followed()).toEqual(['proxy2', 'proxy2', 'proxy2']);
    expect(election('proxy2')!.epoch!).toBeGreaterThan(epoch);
    // The fast path stayed: its link and rules are the hosts', and traffic on them never touched a Proxy.
    for (let i = 0; i < 5; i++) {
      expect(fastRulesH1toH2()).toContain('fp-h2');
      expect(pings(1, 2)).toBe(true);
    }
    // The new active one took the settings from etcd, and the fast link the hosts kept as its own (not re-added).
    const fp = support.labApi<FastPathStatus>('proxy2', 'GET', '/v1/plugins/fastpath/status');
    expect(fp.settings).toMatchObject({ enabled: true, maxLinks: 50 });
    expect(fp.links).toEqual(expect.arrayContaining([expect.objectContaining({ a: 'h1', b: 'h2' })]));
    expect(fp.counters.linkFailures).toBe(0);
    console.log(`proxy2's fast path after the takeover: ${JSON.stringify(fp.links.map((l) => [l.a, l.b, l.state]))}, counters ${JSON.stringify(fp.counters)}`);
    // No host restarted: their uptimes only grew.
    HOSTS.forEach((h, i) => expect(support.labApi<{ uptimeS: number }>(h, 'GET', '/v1/status').uptimeS).toBeGreaterThan(uptimes[i]!));
  }, 60_000);

  it('the killed Proxy restarts as the standby', async () => {
    await support.lab('start', 'proxy');
    await waitFor(() => election('proxy')?.role === 'standby' && election('proxy')?.etcdReachable === true, 10_000, 'proxy standing by');
    expect(actives()).toEqual(['proxy2']);
    // A policy that comes to the standby is sent to the active one.
    const r = support.labExec('proxy', ['curl', '-s', '-i', '-X', 'POST', 'http://127.0.0.1:7000/v1/plugins', '-H', 'content-type: application/json', '-d', JSON.stringify({ name: 'mon', events: ['host'] })]);
    expect(r.stdout).toMatch(/^HTTP\/1\.1 421/);
    expect(r.stdout).toMatch(/vswitch-active-proxy: proxy2/i);
    expect(r.stdout).toContain('"code":"proxy-standby"');
  }, 30_000);

  it('an etcd member SIGKILLed: nothing changes', async () => {
    const before = { epoch: election('proxy2')!.epoch, followed: followed() };
    await support.lab('kill', 'etcd1');
    for (let i = 0; i < 6; i++) {
      expect(everyPairPings()).toBe(true);
      expect(actives()).toEqual(['proxy2']);
      expect(election('proxy2')!.epoch).toBe(before.epoch);
      expect(followed()).toEqual(before.followed);
    }
  }, 60_000);

  it('both Proxies cut from etcd: the active keeps serving, nobody promotes itself; after reconnection one active', async () => {
    const promotions = PROXIES.map((p) => election(p)!.promotions);
    for (const p of PROXIES) await support.lab('cut-etcd', p);
    await waitFor(() => PROXIES.every((p) => election(p)?.etcdReachable === false), 10_000, 'both Proxies cut');
    const cutAt = Date.now();
    while (Date.now() - cutAt < 8000) {
      expect(actives()).toEqual(['proxy2']); // the active keeps serving: nobody is elected without etcd
      expect(new Set(followed())).toEqual(new Set(['proxy2']));
      expect(everyPairPings()).toBe(true);
    }
    expect(PROXIES.map((p) => election(p)!.promotions)).toEqual(promotions); // neither promoted itself again
    for (const p of PROXIES) await support.lab('uncut-etcd', p);
    await waitFor(() => PROXIES.every((p) => election(p)?.etcdReachable === true), 10_000, 'both Proxies back on etcd');
    await waitFor(() => actives().length === 1 && followed().every((f) => f === actives()[0]), 10_000, 'one active, followed by every host');
    const active = actives()[0]!;
    const epoch = election(active)!.epoch!;
    for (let i = 0; i < 4; i++) {
      expect(actives()).toEqual([active]);
      expect(HOSTS.map((h) => status(h).ha?.following?.epoch)).toEqual([epoch, epoch, epoch]);
    }
    await waitFor(everyPairPings, 5_000, 'every VM pair pinging after reconnection');
    console.log(`after reconnection: ${active} active with epoch ${epoch}`);
  }, 90_000);
});

/**
 * VM↔VM through the Proxy (h1 → Proxy → h2, the star; the lab's fast-path plugin is off), every VM on a TAP with
 * offloads: the Proxy relays link → link inside the addon — each message opened straight into the seal slot it is
 * re-sealed from, sent on with UDP GSO — so almost every relayed message is a native hit and none wakes the Proxy's
 * JS; h1 cuts before sealing, h2 glues back before its TAP write. TCP both ways over IPv4 and IPv6, UDP. Needs root.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Status } from '../../api/wire/schemas.js';
import { lab, labDownSync, labExec, labJson, labNs, requireRoot, vmIp } from './support/lab.js';
import { startIperfServer } from './support/netns.js';

const ip6 = (h: number): string => `fd00:198:19:${h}::1`;

function iperf(from: string, toVm: string, to: string, args: string[] = []): number {
  const server = startIperfServer(labNs(toVm), to);
  const client = labExec(from, ['iperf3', '-c', to, '-t', '2', '-J', ...args], 30_000);
  server.stop();
  expect(client.code, client.stdout + client.stderr).toBe(0);
  const end = (JSON.parse(client.stdout) as { end: { sum_received?: { bits_per_second: number }; sum?: { bits_per_second: number } } }).end;
  return (end.sum_received ?? end.sum)!.bits_per_second / 1e9;
}

function vmRxPackets(vm: string): number {
  const r = labExec(vm, ['ip', '-s', '-j', 'link', 'show', 'eth0']);
  return (JSON.parse(r.stdout) as { stats64: { rx: { packets: number } } }[])[0]!.stats64.rx.packets;
}

interface Hits {
  /** Link messages each daemon's fast path opened and forwarded (offload.rxHits), and the Proxy's punts to JS. */
  proxy: number;
  hosts: number;
  proxyPunts: number;
}

async function rxHits(node: string): Promise<{ hits: number; punts: number }> {
  const offload = (await labJson<Status>(node, 'status')).offload;
  return { hits: offload?.rxHits ?? 0, punts: offload?.rxPunts ?? 0 };
}

async function hitsNow(): Promise<Hits> {
  const [proxy, h1, h2] = await Promise.all([rxHits('proxy'), rxHits('h1'), rxHits('h2')]);
  return { proxy: proxy.hits, hosts: h1.hits + h2.hits, proxyPunts: proxy.punts };
}

/**
 * The fast paths' hits around `run`. Every message the hosts' fast paths took came through the Proxy; had the Proxy
 * relayed one in JS (opened and re-sealed there), the host would still take it natively but the Proxy would not
 * count a hit: so Proxy hits ≈ the hosts' hits means the relay stayed in the addon.
 */
async function aroundRun(run: () => void): Promise<Hits> {
  const before = await hitsNow();
  run();
  const after = await hitsNow();
  return { proxy: after.proxy - before.proxy, hosts: after.hosts - before.hosts, proxyPunts: after.proxyPunts - before.proxyPunts };
}

async function allOnUdp(): Promise<boolean> {
  const statuses = await Promise.all(['proxy', 'h1', 'h2'].map((n) => labJson<Status>(n, 'status')));
  return statuses.every(
    (st) => st.links.length > 0 && st.links.every((l) => l.state === 'up' && l.transport === 'udp') && st.offload?.boundLinks === st.links.length,
  );
}

async function txFrames(host: string, port: string): Promise<number> {
  const status = await labJson<Status>(host, 'status');
  return status.ports.find((p) => p.name === port)!.txFrames;
}

describe('VM↔VM relayed by the Proxy, VMs with offloads', () => {
  beforeAll(async () => {
    requireRoot();
    labDownSync();
    await lab('up', '--hosts', '2', '--vms-per-host', '1', '--proxy', '--offloads', 'all');
    for (const h of [1, 2]) {
      labExec(`h${h}v1`, ['sysctl', '-qw', 'net.ipv6.conf.eth0.disable_ipv6=0']);
      labExec(`h${h}v1`, ['ip', 'addr', 'add', `${ip6(h)}/48`, 'dev', 'eth0', 'nodad']);
    }
    let ping = labExec('h1v1', ['ping', '-c', '1', '-W', '1', vmIp(2, 1)]);
    for (let i = 0; i < 5 && ping.code !== 0; i++) ping = labExec('h1v1', ['ping', '-c', '1', '-W', '1', vmIp(2, 1)]);
    expect(ping.code, ping.stdout).toBe(0);
    // A link that fell back to TCP while the Proxy was starting (transport auto) runs in JS until its next UDP probe
    // (12 s): wait until all three daemons' links are up over UDP and bound to their offloads.
    for (let i = 0; i < 60 && !(await allOnUdp()); i++) {
      labExec('h1v1', ['ping', '-c', '1', '-W', '1', vmIp(2, 1)]);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(await allOnUdp()).toBe(true);
  });
  afterAll(() => labDownSync());

  it('relays link → link natively: what the hosts took from the Proxy, its fast path forwarded', async () => {
    const rxBefore = vmRxPackets('h2v1');
    const txBefore = await txFrames('h2', 'tap-h2v1');
    let gbit = 0;
    const hits = await aroundRun(() => (gbit = iperf('h1v1', 'h2v1', vmIp(2, 1))));
    expect(gbit).toBeGreaterThan(0.2);
    expect(hits.hosts).toBeGreaterThan(20_000);
    // The first transfer after the lab came up read 89 % and 94 % here (twice), every later one ≥ 99 % (the next
    // test): some of the first seconds' frames still take the Proxy's JS path, cause not found yet (docs/offloads.md).
    expect(hits.proxy).toBeGreaterThan(hits.hosts * 0.85);
    expect(hits.proxyPunts).toBeLessThan(hits.hosts * 0.01);
    // Glued back on h2 after the relay, as over one link.
    const wire = (await txFrames('h2', 'tap-h2v1')) - txBefore;
    expect((vmRxPackets('h2v1') - rxBefore) * 3).toBeLessThan(wire);
  });

  it('carries the reverse direction, IPv6 and UDP the same way', async () => {
    const hits = await aroundRun(() => {
      expect(iperf('h1v1', 'h2v1', vmIp(2, 1), ['-R'])).toBeGreaterThan(0.2);
      expect(iperf('h1v1', 'h2v1', ip6(2))).toBeGreaterThan(0.2);
      expect(iperf('h2v1', 'h1v1', ip6(1))).toBeGreaterThan(0.2);
      expect(iperf('h1v1', 'h2v1', vmIp(2, 1), ['-u', '-b', '200M', '-l', '1300'])).toBeGreaterThan(0.05);
    });
    expect(hits.proxy).toBeGreaterThan(hits.hosts * 0.99);
    const ping = labExec('h1v1', ['ping', '-c', '20', '-i', '0.01', '-q', vmIp(2, 1)]);
    expect(ping.code, ping.stdout).toBe(0);
  });
});

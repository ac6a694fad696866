/**
 * Two hosts over one encrypted link, every VM on a TAP with offloads: a VM's super-frames are cut into wire frames
 * just before sealing (each sealed message still fits the 1500-byte underlay: no IP fragment is ever made), and on
 * the far side the wire frames are glued back into super-frames before the TAP write — the receiving VM counts
 * several times fewer packets than the switch wrote wire frames. TCP over IPv4 and IPv6 both ways, and UDP. Needs root.
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

/** IP fragments a host's namespace made (Ip: FragCreates in /proc/net/snmp). */
function fragmentsMade(host: string): number {
  const snmp = labExec(host, ['cat', '/proc/net/snmp']).stdout.split('\n').filter((l) => l.startsWith('Ip:'));
  const names = snmp[0]!.split(/\s+/);
  const values = snmp[1]!.split(/\s+/);
  return Number(values[names.indexOf('FragCreates')]);
}

async function txFrames(host: string, port: string): Promise<number> {
  const status = await labJson<Status>(host, 'status');
  return status.ports.find((p) => p.name === port)!.txFrames;
}

describe('two hosts over a link, VMs with offloads', () => {
  beforeAll(async () => {
    requireRoot();
    labDownSync();
    await lab('up', '--hosts', '2', '--vms-per-host', '1', '--no-proxy', '--offloads', 'all');
    for (const h of [1, 2]) {
      labExec(`h${h}v1`, ['sysctl', '-qw', 'net.ipv6.conf.eth0.disable_ipv6=0']);
      labExec(`h${h}v1`, ['ip', 'addr', 'add', `${ip6(h)}/48`, 'dev', 'eth0', 'nodad']);
    }
    // The link comes up with the first frame that needs it: ping until it answers (5 s at most).
    let ping = labExec('h1v1', ['ping', '-c', '1', '-W', '1', vmIp(2, 1)]);
    for (let i = 0; i < 5 && ping.code !== 0; i++) ping = labExec('h1v1', ['ping', '-c', '1', '-W', '1', vmIp(2, 1)]);
    expect(ping.code, ping.stdout).toBe(0);
  });
  afterAll(() => labDownSync());

  it('cuts before sealing and glues back before the TAP write (IPv4, both ways)', async () => {
    const fragments = fragmentsMade('h1');
    const rxBefore = vmRxPackets('h2v1');
    const txBefore = await txFrames('h2', 'tap-h2v1');
    expect(iperf('h1v1', 'h2v1', vmIp(2, 1))).toBeGreaterThan(0.2);
    const wire = (await txFrames('h2', 'tap-h2v1')) - txBefore;
    expect(wire).toBeGreaterThan(20_000);
    expect((vmRxPackets('h2v1') - rxBefore) * 3).toBeLessThan(wire);
    expect(iperf('h1v1', 'h2v1', vmIp(2, 1), ['-R'])).toBeGreaterThan(0.2);
    expect(fragmentsMade('h1')).toBe(fragments);
    expect(fragmentsMade('h2')).toBe(0);
  });

  it('carries IPv6 and UDP the same way', () => {
    expect(iperf('h1v1', 'h2v1', ip6(2))).toBeGreaterThan(0.2);
    expect(iperf('h2v1', 'h1v1', ip6(1))).toBeGreaterThan(0.2);
    expect(iperf('h1v1', 'h2v1', vmIp(2, 1), ['-u', '-b', '200M', '-l', '1300'])).toBeGreaterThan(0.05);
  });
});

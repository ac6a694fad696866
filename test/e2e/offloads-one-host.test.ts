/**
 * One daemon, three VMs: h1v1 and h1v2 on TAPs with offloads, h1v3 on one without. Super-frames cross between the
 * first two unsegmented — the receiving VM's kernel counts far fewer packets than the switch counts wire frames —
 * on the flow offload's native path and, with it off, through the switch core; toward h1v3 they are cut into wire
 * frames. TCP over IPv4 and IPv6 and UDP; port and rule counters count what the VM sent, in wire frames. Needs root.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Status } from '../../api/wire/schemas.js';
import { lab, labDownSync, labExec, labJson, labNs, requireRoot, vmIp, vmMac } from './support/lab.js';
import { startIperfServer } from './support/netns.js';

const ip6 = (v: number): string => `fd00:198:19:1::${v}`;

function iperf(from: string, to: string, args: string[] = []): number {
  const server = startIperfServer(labNs(`h1v${to.at(-1)}`), to);
  const client = labExec(from, ['iperf3', '-c', to, '-t', '2', '-J', ...args], 30_000);
  server.stop();
  expect(client.code, client.stdout + client.stderr).toBe(0);
  const end = (JSON.parse(client.stdout) as { end: { sum_received?: { bits_per_second: number }; sum?: { bits_per_second: number } } }).end;
  return (end.sum_received ?? end.sum)!.bits_per_second / 1e9;
}

/** Packets the VM's eth0 received (a super-frame written to its TAP is one). */
function vmRxPackets(vm: string): number {
  const r = labExec(vm, ['ip', '-s', '-j', 'link', 'show', 'eth0']);
  return (JSON.parse(r.stdout) as { stats64: { rx: { packets: number } } }[])[0]!.stats64.rx.packets;
}

async function port(name: string): Promise<Status['ports'][number]> {
  const status = await labJson<Status>('h1', 'status');
  return status.ports.find((p) => p.name === name)!;
}

describe('one host with offload TAPs beside a plain one', () => {
  beforeAll(async () => {
    requireRoot();
    labDownSync();
    await lab('up', '--hosts', '1', '--vms-per-host', '3', '--vm-mtu', '1500', '--offloads', 'h1v1,h1v2');
    for (let v = 1; v <= 3; v++) {
      labExec(`h1v${v}`, ['sysctl', '-qw', 'net.ipv6.conf.eth0.disable_ipv6=0']);
      labExec(`h1v${v}`, ['ip', 'addr', 'add', `${ip6(v)}/64`, 'dev', 'eth0', 'nodad']);
    }
    const ping = labExec('h1v1', ['ping', '-c', '2', '-i', '0.2', '-W', '2', vmIp(1, 2)]);
    expect(ping.code, ping.stdout).toBe(0);
  });
  afterAll(() => labDownSync());

  it('carries TCP super-frames whole between the two offload VMs, counted in wire frames (IPv4, IPv6)', async () => {
    const rxBefore = vmRxPackets('h1v2');
    const txBefore = (await port('tap-h1v2')).txFrames;
    expect(iperf('h1v1', vmIp(1, 2))).toBeGreaterThan(0.5);
    expect(iperf('h1v1', ip6(2))).toBeGreaterThan(0.5);
    const vmPackets = vmRxPackets('h1v2') - rxBefore;
    const wireFrames = (await port('tap-h1v2')).txFrames - txBefore;
    // Wire frames of ≤ 1514 bytes for gigabytes: hundreds of thousands; the VM saw super-frames, several times fewer.
    expect(wireFrames).toBeGreaterThan(100_000);
    expect(vmPackets * 3).toBeLessThan(wireFrames);
    const status = await labJson<Status>('h1', 'status');
    expect(status.offload).toMatchObject({ enabled: true });
    expect((status.offload as { txHits: number }).txHits).toBeGreaterThan(0);
  });

  it('cuts them into wire frames toward the VM without offloads, both ways (IPv4, IPv6, UDP)', async () => {
    const rxBefore = vmRxPackets('h1v3');
    const txBefore = (await port('tap-h1v3')).txFrames;
    expect(iperf('h1v1', vmIp(1, 3))).toBeGreaterThan(0.3);
    const vmPackets = vmRxPackets('h1v3') - rxBefore;
    const wireFrames = (await port('tap-h1v3')).txFrames - txBefore;
    expect(vmPackets).toBeGreaterThanOrEqual(wireFrames * 0.99); // one packet per wire frame: it was cut
    expect(iperf('h1v1', ip6(3), ['-R'])).toBeGreaterThan(0.3);
    expect(iperf('h1v1', vmIp(1, 3), ['-u', '-b', '300M', '-l', '1400'])).toBeGreaterThan(0.1);
    expect(iperf('h1v3', vmIp(1, 1))).toBeGreaterThan(0.3);
    expect((await port('tap-h1v1')).drops).not.toHaveProperty('vnet-gso-headers');
  });

  it('counts rule hits in wire frames with super-frames through the core (flow offload off)', async () => {
    await lab('stop', 'h1');
    process.env['VSWITCH_OFFLOAD'] = '0';
    try {
      await lab('start', 'h1');
    } finally {
      delete process.env['VSWITCH_OFFLOAD'];
    }
    const status = await labJson<Status>('h1', 'status');
    expect(status.offload).toEqual({ enabled: false });
    await lab('vswitch', 'h1', 'rule', 'add', '--src', vmMac(1, 1), '--dst', vmMac(1, 2), '--target', 'tap-h1v2');
    const rxBefore = vmRxPackets('h1v2');
    expect(iperf('h1v1', vmIp(1, 2))).toBeGreaterThan(0.3);
    const rules = await labJson<{ src: string; hitFrames: number; hitBytes: number }[]>('h1', 'rule', 'list');
    const rule = rules.find((r) => r.src === vmMac(1, 1))!;
    const from = await port('tap-h1v1');
    // Every frame h1v1 sent to h1v2 hit the rule: as many wire frames as the port received from it, give or take
    // the ARP and the iperf3 control connection's first segments.
    expect(rule.hitFrames).toBeGreaterThan(50_000);
    expect(rule.hitFrames).toBeLessThanOrEqual(from.rxFrames);
    expect(rule.hitBytes / rule.hitFrames).toBeLessThanOrEqual(1514);
    expect((vmRxPackets('h1v2') - rxBefore) * 3).toBeLessThan(rule.hitFrames);
  });
});

/**
 * One host, two VMs, one daemon: ARP, ping and iperf3 through the switch, and
 * malformed frames written into a TAP are dropped, counted, and harmless.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Status } from '../../api/wire/schemas.js';
import { lab, labDownSync, labExec, labJson, labNs, requireRoot, vmIp, vmMac } from './support/lab.js';
import { startIperfServer } from './support/netns.js';

const sendRaw = (frameHex: string[]): string[] => [
  'python3',
  '-c',
  [
    'import socket,sys',
    's = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)',
    's.bind(("eth0", 0))',
    'for h in sys.argv[1:]: s.send(bytes.fromhex(h))',
  ].join('\n'),
  ...frameHex,
];

describe('one host, two VMs', () => {
  beforeAll(async () => {
    requireRoot();
    labDownSync();
    await lab('up', '--hosts', '1', '--vms-per-host', '2');
  });
  afterAll(() => labDownSync());

  it('resolves ARP and pings between the VMs', () => {
    const r = labExec('h1v1', ['ping', '-c', '3', '-i', '0.2', '-W', '2', vmIp(1, 2)]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const neigh = labExec('h1v1', ['ip', 'neigh', 'show', vmIp(1, 2)]);
    expect(neigh.stdout).toContain(vmMac(1, 2));
  });

  it('learns both VM MACs on their ports', async () => {
    const macs = await labJson<{ mac: string; port: string }[]>('h1', 'macs');
    expect(macs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ mac: vmMac(1, 1), port: 'tap-h1v1' }),
        expect.objectContaining({ mac: vmMac(1, 2), port: 'tap-h1v2' }),
      ]),
    );
  });

  it('carries iperf3 TCP between the VMs', () => {
    const server = startIperfServer(labNs('h1v2'), vmIp(1, 2));
    const client = labExec('h1v1', ['iperf3', '-c', vmIp(1, 2), '-t', '2', '-J'], 30_000);
    server.stop();
    expect(client.code, client.stderr).toBe(0);
    const bps = (JSON.parse(client.stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received
      .bits_per_second;
    expect(bps).toBeGreaterThan(10e6);
  });

  it('drops runt, oversize and garbage frames, counts them, and keeps switching', async () => {
    const before = await labJson<Status>('h1', 'status');
    const mac1 = vmMac(1, 1).replaceAll(':', '');
    const mac2 = vmMac(1, 2).replaceAll(':', '');
    // A 9000-byte MTU inside the VM lets it send a frame larger than the switch accepts (1518).
    expect(labExec('h1v1', ['ip', 'link', 'set', 'eth0', 'mtu', '9000']).code).toBe(0);
    const frames = [
      mac2 + mac1 + '0800' + '00'.repeat(3000), // oversize: 3014 bytes
      mac2 + 'ffffffffffff' + '0800' + '00'.repeat(46), // garbage: broadcast source MAC
      mac2 + '000000000000' + '0800' + '00'.repeat(46), // garbage: all-zero source MAC
      // A runt: an 802.1Q TPID with the tag cut off (14 bytes). Shorter frames cannot be sent: the kernel's
      // packet socket refuses anything below an Ethernet header, so those runts are covered by unit tests.
      mac2 + mac1 + '8100',
    ];
    const sent = labExec('h1v1', sendRaw(frames));
    expect(sent.code, sent.stderr).toBe(0);
    labExec('h1v1', ['ip', 'link', 'set', 'eth0', 'mtu', '1500']);

    const after = await labJson<Status>('h1', 'status');
    const port = (s: Status) => s.ports.find((p) => p.name === 'tap-h1v1')!;
    const dropped = (reason: string) => (port(after).drops[reason] ?? 0) - (port(before).drops[reason] ?? 0);
    expect(dropped('oversize')).toBe(1);
    expect(dropped('source-multicast')).toBe(1);
    expect(dropped('source-zero')).toBe(1);
    expect(dropped('truncated-vlan-tag')).toBe(1);

    const r = labExec('h1v1', ['ping', '-c', '2', '-i', '0.2', '-W', '2', vmIp(1, 2)]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it('removes its TAPs when stopped', async () => {
    await lab('stop', 'h1');
    const links = labExec('h1v1', ['ip', '-o', 'link', 'show']);
    expect(links.stdout).not.toContain('eth0');
    await lab('start', 'h1');
    const r = labExec('h1v1', ['ping', '-c', '2', '-i', '0.2', '-W', '2', vmIp(1, 2)]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });
});

/**
 * A "VM" whose NIC is one end of a veth pair, the other end attached to the
 * daemon as a capture port, talks with a VM on a TAP port of the same daemon
 * and with a VM on another host across a link. Injected frames are not
 * re-captured, and the port recovers when its interface is deleted and
 * re-created.
 *
 *   vs-cp-vm1 eth0 ═veth═ cvm1 [capture]┐                      ┌ tap-cp3 → vs-cp-vm3
 *                                       vs-cp-a ══ u0 link u0 ══ vs-cp-b
 *   vs-cp-vm2 eth0 = tap-cp2 [tap] ─────┘ 198.18.20.1   198.18.20.2
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Status } from '../../api/wire/schemas.js';
import { encodeKeyBase64, generatePrivateKey, publicKey } from '../../switch/link/noise/crypto.js';
import { requireRoot } from './support/lab.js';
import { addNamespace, deleteNamespaces, inNs, ip, startDaemon, startIperfServer, waitFor, type RunningDaemon } from './support/netns.js';

const NS = ['vs-cp-a', 'vs-cp-b', 'vs-cp-vm1', 'vs-cp-vm2', 'vs-cp-vm3'] as const;
const VM_IP = { vm1: '198.19.20.1', vm2: '198.19.20.2', vm3: '198.19.20.3' };
let a: RunningDaemon | undefined;
let b: RunningDaemon | undefined;

function plugCapturedVm(): void {
  ip('-n', 'vs-cp-a', 'link', 'add', 'cvm1', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', 'vs-cp-vm1');
  inNs('vs-cp-a', ['sysctl', '-qw', 'net.ipv6.conf.cvm1.disable_ipv6=1']);
  ip('-n', 'vs-cp-a', 'link', 'set', 'cvm1', 'up');
  ip('-n', 'vs-cp-vm1', 'link', 'set', 'eth0', 'address', '02:00:c6:13:14:01');
  ip('-n', 'vs-cp-vm1', 'addr', 'add', `${VM_IP.vm1}/16`, 'dev', 'eth0');
  ip('-n', 'vs-cp-vm1', 'link', 'set', 'eth0', 'up');
  // A veth hands the capture socket whole TSO/GSO super-frames with checksums left to offload; the switch
  // carries Ethernet-sized, finished frames (as VNET did on VMware's host-only NIC).
  inNs('vs-cp-vm1', ['ethtool', '-K', 'eth0', 'tx', 'off', 'tso', 'off', 'gso', 'off']);
}

function moveTap(hostNs: string, tap: string, vmNs: string, ipAddress: string, mac: string): void {
  ip('-n', hostNs, 'link', 'set', tap, 'netns', vmNs);
  ip('-n', vmNs, 'link', 'set', tap, 'name', 'eth0');
  ip('-n', vmNs, 'link', 'set', 'eth0', 'address', mac);
  ip('-n', vmNs, 'addr', 'add', `${ipAddress}/16`, 'dev', 'eth0');
  ip('-n', vmNs, 'link', 'set', 'eth0', 'up');
}

const ping = (from: string, to: string, count = 3) => inNs(from, ['ping', '-c', String(count), '-i', '0.2', '-W', '2', to]);
const portOf = (d: RunningDaemon, name: string) => d.json<Status>(['status']).ports.find((p) => p.name === name)!;
const txPackets = (ns: string) => Number(inNs(ns, ['cat', '/sys/class/net/eth0/statistics/tx_packets']).stdout);

describe('capture ports', () => {
  beforeAll(async () => {
    requireRoot();
    deleteNamespaces(NS);
    for (const n of NS) addNamespace(n);
    ip('-n', 'vs-cp-a', 'link', 'add', 'u0', 'type', 'veth', 'peer', 'name', 'u0', 'netns', 'vs-cp-b');
    ip('-n', 'vs-cp-a', 'addr', 'add', '198.18.20.1/24', 'dev', 'u0');
    ip('-n', 'vs-cp-b', 'addr', 'add', '198.18.20.2/24', 'dev', 'u0');
    ip('-n', 'vs-cp-a', 'link', 'set', 'u0', 'up');
    ip('-n', 'vs-cp-b', 'link', 'set', 'u0', 'up');
    plugCapturedVm();

    const random = (n: number) => new Uint8Array(randomBytes(n));
    const [keyA, keyB] = [generatePrivateKey(random), generatePrivateKey(random)];
    const peer = (name: string, key: Uint8Array, host: string) =>
      `peers:\n  - { name: ${name}, publicKey: "${encodeKeyBase64(publicKey(key))}", endpoint: "${host}:51820", transport: udp }\n`;
    a = await startDaemon(
      'vs-cp-a',
      `name: a\nprivateKey: "${encodeKeyBase64(keyA)}"\nports:\n  - { name: cap1, type: capture, interface: cvm1 }\n  - { name: tap-cp2, type: tap }\n` +
        // An interface that does not exist yet, as a VM's NIC before the VM runs.
        `  - { name: cap9, type: capture, interface: cvm9 }\n` +
        peer('b', keyB, '198.18.20.2'),
    );
    b = await startDaemon(
      'vs-cp-b',
      `name: b\nprivateKey: "${encodeKeyBase64(keyB)}"\nports:\n  - { name: tap-cp3, type: tap }\n` + peer('a', keyA, '198.18.20.1'),
    );
    moveTap('vs-cp-a', 'tap-cp2', 'vs-cp-vm2', VM_IP.vm2, '02:00:c6:13:14:02');
    moveTap('vs-cp-b', 'tap-cp3', 'vs-cp-vm3', VM_IP.vm3, '02:00:c6:13:14:03');
  });

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    deleteNamespaces(NS);
  });

  it('lets the captured VM ping a TAP VM on the same daemon', () => {
    const r = ping('vs-cp-vm1', VM_IP.vm2);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it('lets the captured VM ping a VM on another host across the link', async () => {
    await waitFor(() => a!.json<Status>(['status']).links[0]?.state === 'up', 5000, 'link up');
    const r = ping('vs-cp-vm1', VM_IP.vm3);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it('carries iperf3 TCP from the captured VM to both other VMs', () => {
    for (const [ns, addr] of [
      ['vs-cp-vm2', VM_IP.vm2],
      ['vs-cp-vm3', VM_IP.vm3],
    ] as const) {
      const server = startIperfServer(ns, addr);
      const client = inNs('vs-cp-vm1', ['iperf3', '-c', addr, '-t', '2', '-J'], 30_000);
      server.stop();
      expect(client.code, client.stderr).toBe(0);
      const bps = (JSON.parse(client.stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received
        .bits_per_second;
      expect(bps, `iperf3 to ${addr}`).toBeGreaterThan(10e6);
    }
  });

  it('does not re-capture the frames it injects', () => {
    const rxBefore = portOf(a!, 'cap1').rxFrames;
    const txBefore = portOf(a!, 'cap1').txFrames;
    const vmTxBefore = txPackets('vs-cp-vm1');
    const r = inNs('vs-cp-vm2', ['ping', '-c', '50', '-i', '0.01', '-q', VM_IP.vm1]);
    expect(r.code, r.stdout).toBe(0);
    const injected = portOf(a!, 'cap1').txFrames - txBefore;
    const captured = portOf(a!, 'cap1').rxFrames - rxBefore;
    const sentByVm = txPackets('vs-cp-vm1') - vmTxBefore;
    expect(injected).toBeGreaterThanOrEqual(50);
    // Everything captured was sent by the VM itself: none of the injected frames came back in.
    expect(captured).toBe(sentByVm);
  });

  it('starts a capture port whose interface is missing as down, and brings it up when the interface appears', async () => {
    expect(portOf(a!, 'cap9')).toMatchObject({ state: 'down' });
    expect(portOf(a!, 'cap9').lastError).toContain('cvm9');
    ip('-n', 'vs-cp-a', 'link', 'add', 'cvm9', 'type', 'veth', 'peer', 'name', 'cvm9p');
    ip('-n', 'vs-cp-a', 'link', 'set', 'cvm9', 'up');
    ip('-n', 'vs-cp-a', 'link', 'set', 'cvm9p', 'up');
    await waitFor(() => portOf(a!, 'cap9').state === 'up', 5000, 'late capture port up');
  });

  it('reports the port down when its interface is deleted, and recovers when it returns', async () => {
    ip('-n', 'vs-cp-a', 'link', 'del', 'cvm1');
    await waitFor(() => portOf(a!, 'cap1').state === 'down', 5000, 'capture port down');
    expect(portOf(a!, 'cap1').lastError).toBeDefined();
    plugCapturedVm();
    await waitFor(() => portOf(a!, 'cap1').state === 'up', 5000, 'capture port recovered');
    const r = ping('vs-cp-vm1', VM_IP.vm2);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });
});

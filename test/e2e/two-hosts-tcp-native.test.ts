/**
 * Two hosts whose link falls back to TCP (h2's UDP blocked from the start), with the flow offload on: the TCP
 * connection runs on the addon's native stream, the VMs' traffic takes the fast path over it (offload hits, the
 * link bound), garbage connections to the link's TCP port end with counted reasons while the link keeps carrying
 * traffic, and UDP → TCP → UDP still switches with offload on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Status } from '../../api/wire/schemas.js';
import { lab, labDownSync, labExec, labJson, labNs, requireRoot, vmIp } from './support/lab.js';
import { startIperfServer } from './support/netns.js';

type Link = Status['links'][number];
interface OffloadView {
  enabled: boolean;
  txHits: number;
  rxHits: number;
  boundLinks: number;
}

async function status(host: string): Promise<Status & { offload?: OffloadView }> {
  return labJson<Status & { offload?: OffloadView }>(host, 'status');
}

async function link(host: string): Promise<Link> {
  const l = (await status(host)).links[0];
  if (!l) throw new Error(`${host} has no link`);
  return l;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

const ping = (count = 5) => labExec('h1v1', ['ping', '-c', String(count), '-i', '0.2', '-W', '2', vmIp(2, 1)]);

describe('two hosts over a TCP link on the native stream datapath', () => {
  beforeAll(async () => {
    requireRoot();
    labDownSync();
    await lab('up', '--hosts', '2', '--vms-per-host', '1', '--no-proxy', '--block-udp', 'h2');
  });
  afterAll(() => labDownSync());

  it('comes up on TCP, and the VMs traffic takes the fast path over the native stream', async () => {
    await waitFor(async () => {
      const l = await link('h1');
      return l.state === 'up' && l.transport === 'tcp';
    }, 15_000);
    const r = ping();
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const server = startIperfServer(labNs('h2v1'), vmIp(2, 1));
    const client = labExec('h1v1', ['iperf3', '-c', vmIp(2, 1), '-t', '2', '-J'], 30_000);
    server.stop();
    expect(client.code, client.stderr).toBe(0);
    const bps = (JSON.parse(client.stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received
      .bits_per_second;
    expect(bps).toBeGreaterThan(10e6);
    for (const host of ['h1', 'h2']) {
      const offload = (await status(host)).offload;
      expect(offload, host).toMatchObject({ enabled: true, boundLinks: 1 });
      // Most of a bulk transfer's frames never reached JS: sealed onto and opened off the stream natively.
      expect(offload!.txHits, host).toBeGreaterThan(1000);
      expect(offload!.rxHits, host).toBeGreaterThan(1000);
    }
  });

  it('ends garbage connections to the link port with counted reasons and keeps the link', async () => {
    const before = await link('h1');
    const refused = async () => (await status('h1')).refused?.underlay ?? {};
    const refusedBefore = await refused();
    const garbage = labExec('h2', [
      'python3',
      '-c',
      'import socket, os\n' +
        "for p in [b'\\x00\\x00', b'\\x00\\x0f'+b'x'*40, b'\\x01\\x00'+b'y'*50, os.urandom(3000), b'\\xff\\xff'+os.urandom(100)]:\n" +
        "  s=socket.create_connection(('198.18.0.1',51820)); s.sendall(p); s.close()",
    ]);
    expect(garbage.code, garbage.stderr).toBe(0);
    const r = ping();
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const after = await link('h1');
    expect(after.state).toBe('up');
    expect(after.transport).toBe('tcp');
    expect(after.lastHandshakeAt).toBe(before.lastHandshakeAt); // the good session was never touched
    // Each garbage stream ended by a reason of its own, counted: a length under 16, or cut inside a frame.
    const refusedAfter = await refused();
    const grew = (reason: string) => (refusedAfter[reason] ?? 0) - (refusedBefore[reason] ?? 0);
    expect(grew('tcp:tcp-frame-too-short')).toBeGreaterThanOrEqual(2);
    expect(grew('tcp:tcp-frame-too-short') + grew('tcp:tcp-truncated-frame')).toBeGreaterThanOrEqual(4);
  });

  it('moves back to UDP when it is unblocked, and to TCP again, with offload on', async () => {
    await lab('unblock-udp', 'h2');
    await waitFor(async () => (await link('h1')).transport === 'udp', 30_000);
    let r = ping();
    expect(r.code, r.stdout + r.stderr).toBe(0);
    await lab('block-udp', 'h2');
    try {
      await lab('stop', 'h1');
      await lab('start', 'h1');
      await waitFor(async () => {
        const l = await link('h1');
        return l.state === 'up' && l.transport === 'tcp';
      }, 15_000);
      r = ping();
      expect(r.code, r.stdout + r.stderr).toBe(0);
    } finally {
      await lab('unblock-udp', 'h2');
    }
  });
});

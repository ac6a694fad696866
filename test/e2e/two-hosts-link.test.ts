/**
 * Two hosts whose daemons link over a veth underlay (the lab's WAN), one VM each:
 * ping and iperf3 over UDP; UDP blocked by nftables in one host → TCP takes
 * over within 5 s, and back to UDP once the rule is gone; a daemon restarted →
 * the link comes back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Status } from '../../api/wire/schemas.js';
import { lab, labDownSync, labExec, labJson, labNs, requireRoot, vmIp } from './support/lab.js';
import { startIperfServer } from './support/netns.js';

type Link = Status['links'][number];

async function link(host: string): Promise<Link> {
  const status = await labJson<Status>(host, 'status');
  const l = status.links[0];
  if (!l) throw new Error(`${host} has no link`);
  return l;
}

/** Polls until `check` passes or `timeoutMs` runs out; returns the elapsed ms. */
async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (await check()) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

const ping = (count = 3) => labExec('h1v1', ['ping', '-c', String(count), '-i', '0.2', '-W', '2', vmIp(2, 1)]);

describe('two hosts over a link', () => {
  beforeAll(async () => {
    requireRoot();
    labDownSync();
    await lab('up', '--hosts', '2', '--vms-per-host', '1', '--no-proxy');
  });
  afterAll(() => labDownSync());

  it('brings the link up over UDP and pings across it', async () => {
    await waitFor(async () => (await link('h1')).state === 'up', 5000);
    const r = ping();
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const l = await link('h1');
    expect(l).toMatchObject({ state: 'up', transport: 'udp', endpoint: 'udp:198.18.0.2:51820' });
    expect(l.lastHandshakeAt).toBeDefined();
    expect(l.rxBytes).toBeGreaterThan(0);
  });

  it('carries iperf3 TCP across the link', () => {
    const server = startIperfServer(labNs('h2v1'), vmIp(2, 1));
    const client = labExec('h1v1', ['iperf3', '-c', vmIp(2, 1), '-t', '2', '-J'], 30_000);
    server.stop();
    expect(client.code, client.stderr).toBe(0);
    const bps = (JSON.parse(client.stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received
      .bits_per_second;
    expect(bps).toBeGreaterThan(10e6);
  });

  it('moves to TCP within 5 s when UDP is blocked, and back to UDP when it is unblocked', async () => {
    await lab('block-udp', 'h2');
    try {
      // The link notices when a handshake goes unanswered: force one by restarting h1's session owner.
      await lab('stop', 'h1');
      await lab('start', 'h1');
      const tookMs = await waitFor(async () => {
        const l = await link('h1');
        return l.state === 'up' && l.transport === 'tcp';
      }, 8000);
      expect(tookMs).toBeLessThan(6000); // 5 s to fall back, plus the CLI's own start-up per poll
      const r = ping();
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect((await link('h2')).transport).toBe('tcp');
    } finally {
      await lab('unblock-udp', 'h2');
    }
    await waitFor(async () => (await link('h1')).transport === 'udp', 20_000);
    const r = ping();
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it('comes back after a daemon restart', async () => {
    await lab('stop', 'h2');
    await lab('start', 'h2');
    await waitFor(async () => (await link('h2')).state === 'up', 5000);
    const r = ping();
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it('drops garbage sent to the link port and keeps the session', async () => {
    const before = await link('h1');
    const refusedBefore = (await labJson<Status>('h1', 'status')).refused?.underlay ?? {};
    const garbage = labExec('h2', [
      'python3',
      '-c',
      'import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n' +
        "for p in [b'\\x04\\0\\0\\0'+b'\\xff'*40, b'\\x01'*148, b'\\x09'*60, b'\\x04']: s.sendto(p,('198.18.0.1',51820))",
    ]);
    expect(garbage.code, garbage.stderr).toBe(0);
    const r = ping();
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const after = await link('h1');
    expect(after.lastHandshakeAt).toBe(before.lastHandshakeAt); // no reset of the good session
    // What belonged to no link is counted by reason in status (and /metrics), not lost silently.
    const refusedAfter = (await labJson<Status>('h1', 'status')).refused?.underlay ?? {};
    const total = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
    expect(total(refusedAfter) - total(refusedBefore)).toBeGreaterThanOrEqual(3);
  });
});

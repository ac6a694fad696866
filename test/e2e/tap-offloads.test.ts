/**
 * TapPort with offloads (IFF_VNET_HDR + TUNSETOFFLOAD) against real TAPs: two namespaces joined by a JS hub that
 * hands each batch, headers and all, to the other port. Between two offload TAPs the VMs' TCP super-frames cross
 * as they are (IPv4, IPv6); toward a TAP without offloads the addon cuts them into wire frames with their
 * checksums complete — the receiving kernel checks every one, so TCP working at all says they are right — and
 * its wire frames are glued back into super-frames on their way to the offload TAP. (This
 * kernel has no 802.1Q devices to tag with: tagged super-frames are covered by native-gso.test.ts.) Needs root.
 */
import { execFile, spawnSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TUN_OFFLOAD_CSUM, TUN_OFFLOAD_TSO4, TUN_OFFLOAD_TSO6 } from '../../switch/port/addon.js';
import { isSuperFrame } from '../../switch/frame/vnet-header.js';
import type { PortSink } from '../../switch/port/port.js';
import { TapPort } from '../../switch/port/tap-port.js';

const NS = ['vs-tapo-a', 'vs-tapo-b'] as const;
const IP4 = ['198.19.251.1', '198.19.251.2'];
const IP6 = ['fd00:198:19:251::1', 'fd00:198:19:251::2'];

function ip(...args: string[]): string {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

function run(ns: string, command: string[], timeoutMs = 30_000): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', ns, ...command], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, output: stdout + stderr });
    });
  });
}

function cleanup(): void {
  for (const ns of NS) spawnSync('ip', ['netns', 'del', ns]);
  for (const tap of ['vstapo0', 'vstapo1', 'vstapo2', 'vstapo3']) spawnSync('ip', ['link', 'del', tap]);
}

function moveIntoNamespace(tap: string, i: 0 | 1): void {
  const ns = NS[i];
  ip('link', 'set', tap, 'netns', ns);
  ip('-n', ns, 'link', 'set', 'lo', 'up');
  ip('-n', ns, 'addr', 'add', `${IP4[i]}/24`, 'dev', tap);
  ip('-n', ns, 'addr', 'add', `${IP6[i]}/64`, 'dev', tap, 'nodad');
  ip('-n', ns, 'link', 'set', tap, 'up');
}

/** iperf3 TCP from namespace a to b for `seconds`: Gbit/s received. */
async function iperf(server: string, args: string[] = [], seconds = 2): Promise<number> {
  const daemon = await run(NS[1], ['iperf3', '-s', '-D', '-1', '-B', server]);
  expect(daemon.code, daemon.output).toBe(0);
  await new Promise((r) => setTimeout(r, 200));
  const client = await run(NS[0], ['iperf3', '-c', server, '-t', String(seconds), '-J', ...args], 30_000);
  expect(client.code, client.output).toBe(0);
  const result = JSON.parse(client.output) as { end: { sum_received?: { bits_per_second: number }; sum?: { bits_per_second: number } } };
  return (result.end.sum_received ?? result.end.sum)!.bits_per_second / 1e9;
}

function rxPackets(ns: string, dev: string): number {
  const r = spawnSync('ip', ['-n', ns, '-s', '-j', 'link', 'show', dev], { encoding: 'utf8' });
  return (JSON.parse(r.stdout) as { stats64: { rx: { packets: number } } }[])[0]!.stats64.rx.packets;
}

interface Seen {
  superFrames: number;
  largest: number;
}

/** A hub from one port to the other, headers passed along; counts the super-frames it saw. */
function hub(to: TapPort, seen: Seen, errors: Error[]): PortSink {
  return {
    frames: (frames, vnet) => {
      if (vnet) {
        for (let i = 0; i < frames.length; i++) {
          if (isSuperFrame(vnet, 10 * i)) seen.superFrames++;
          seen.largest = Math.max(seen.largest, frames[i]!.length);
        }
      }
      to.send(frames, vnet);
    },
    error: (err) => errors.push(err),
  };
}

describe('TapPort with offloads (e2e, root)', () => {
  const opened: TapPort[] = [];
  const open = (name: string, offloads: boolean): TapPort => {
    const port = TapPort.open({ name, offloads });
    opened.push(port);
    return port;
  };
  const closeAll = (): void => {
    for (const port of opened.splice(0)) port.close();
    for (const ns of NS) spawnSync('ip', ['netns', 'del', ns]);
    for (const ns of NS) ip('netns', 'add', ns);
  };

  beforeAll(() => {
    if (process.getuid?.() !== 0) throw new Error('tap-offloads e2e test needs root (TAP devices, network namespaces)');
    cleanup();
    for (const ns of NS) ip('netns', 'add', ns);
  });

  afterEach(closeAll);

  afterAll(() => {
    for (const port of opened) port.close();
    cleanup();
  });

  it('takes checksum, TSO4 and TSO6 (and says which); a TAP without offloads takes none', () => {
    const a = open('vstapo0', true);
    expect(a.offloads & (TUN_OFFLOAD_CSUM | TUN_OFFLOAD_TSO4 | TUN_OFFLOAD_TSO6)).toBe(TUN_OFFLOAD_CSUM | TUN_OFFLOAD_TSO4 | TUN_OFFLOAD_TSO6);
    const b = open('vstapo1', false);
    expect(b.offloads).toBe(0);
  });

  it('carries TCP super-frames as they are between two offload TAPs: IPv4, IPv6', async () => {
    const a = open('vstapo0', true);
    const b = open('vstapo1', true);
    const seen: Seen = { superFrames: 0, largest: 0 };
    const errors: Error[] = [];
    a.start(hub(b, seen, errors));
    b.start(hub(a, { superFrames: 0, largest: 0 }, errors));
    moveIntoNamespace('vstapo0', 0);
    moveIntoNamespace('vstapo1', 1);

    expect(await iperf(IP4[1]!)).toBeGreaterThan(0.2);
    const afterV4 = seen.superFrames;
    expect(afterV4).toBeGreaterThan(100);
    expect(seen.largest).toBeGreaterThan(8000);
    expect(await iperf(IP6[1]!)).toBeGreaterThan(0.2);
    expect(seen.superFrames).toBeGreaterThan(afterV4 + 100);
    // UDP rides along as plain frames (iperf3 does not ask for UDP GSO).
    expect(await iperf(IP4[1]!, ['-u', '-b', '200M', '-l', '1400'], 1)).toBeGreaterThan(0.05);
    expect(a.drops()).toEqual({});
    expect(errors).toEqual([]);
  });

  it('cuts super-frames into checksummed wire frames toward a TAP without offloads (both ways)', async () => {
    const a = open('vstapo0', true);
    const b = open('vstapo1', false);
    const seen: Seen = { superFrames: 0, largest: 0 };
    const errors: Error[] = [];
    a.start(hub(b, seen, errors));
    b.start(hub(a, { superFrames: 0, largest: 0 }, errors));
    moveIntoNamespace('vstapo0', 0);
    moveIntoNamespace('vstapo1', 1);

    expect(await iperf(IP4[1]!)).toBeGreaterThan(0.2);
    expect(seen.superFrames).toBeGreaterThan(100);
    // The other way, b's wire frames are glued back into super-frames for a's VM: it receives far fewer packets.
    const readBefore = b.stats().readFrames;
    const rxBefore = rxPackets(NS[0], 'vstapo0');
    expect(await iperf(IP6[1]!, ['-R'])).toBeGreaterThan(0.2);
    const wire = b.stats().readFrames - readBefore;
    expect(wire).toBeGreaterThan(10_000);
    expect((rxPackets(NS[0], 'vstapo0') - rxBefore) * 3).toBeLessThan(wire);
    // b wrote wire frames only: each within the MTU.
    expect(b.stats().writeErrors).toBe(0);
    expect(errors).toEqual([]);
  });

  it('drops a frame handed a header it refuses, counted by reason', () => {
    const a = open('vstapo0', true);
    const b = open('vstapo1', false);
    const frame = new Uint8Array(60);
    frame.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00]);
    const header = new Uint8Array(10);
    header[1] = 3; // UFO: never taken
    for (const port of [a, b]) {
      const before = port.stats().writeErrors;
      port.send([frame, frame], Uint8Array.from([...header, ...new Uint8Array(10)]));
      expect(port.stats().writeErrors).toBe(before + 1);
    }
  });
});

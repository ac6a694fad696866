/**
 * CapturePort on a real veth end, bridged in JS to a TapPort:
 *
 *   ns vs-capt-vm: vscapa 198.19.251.1 ══ vscapb (root ns, captured)
 *       ⇅ JS hub in this process ⇅
 *   ns vs-capt-other: vscapt0 (TAP) 198.19.251.2
 *
 * Checks ping both ways, that injected frames are never re-captured, that a
 * deleted interface is reported, and that reopen() recovers. Needs root.
 */
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CapturePort } from '../../switch/port/capture-port.js';
import type { PortSink } from '../../switch/port/port.js';
import { TapPort } from '../../switch/port/tap-port.js';

const NS_VM = 'vs-capt-vm';
const NS_OTHER = 'vs-capt-other';
const VETH_VM = 'vscapa';
const VETH_CAPTURED = 'vscapb';
const VETH_DOWN = 'vscapc';
const TAP = 'vscapt0';
const IP_VM = '198.19.251.1';
const IP_OTHER = '198.19.251.2';

// ldh [12]; jeq #0x0806 → accept, else drop (`tcpdump -dd arp`, shortened)
const ARP_ONLY = [
  { code: 0x28, jt: 0, jf: 0, k: 12 },
  { code: 0x15, jt: 0, jf: 1, k: 0x0806 },
  { code: 0x06, jt: 0, jf: 0, k: 0x40000 },
  { code: 0x06, jt: 0, jf: 0, k: 0 },
];

function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new Error('capture-port e2e test needs root (packet sockets, namespaces)');
}

function ip(...args: string[]): string {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** Traffic commands run asynchronously so the hub in this process keeps running. */
function run(ns: string, command: string[], timeoutMs = 30_000): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', ns, ...command], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, output: stdout + stderr });
    });
  });
}

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The captured end's rx counter = frames the VM end transmitted. */
function capturedRxPackets(): number {
  return Number(readFileSync(`/sys/class/net/${VETH_CAPTURED}/statistics/rx_packets`, 'utf8'));
}

function createVeth(): void {
  ip('link', 'add', VETH_CAPTURED, 'type', 'veth', 'peer', 'name', VETH_VM, 'netns', NS_VM);
  ip('link', 'set', VETH_CAPTURED, 'up');
  ip('-n', NS_VM, 'addr', 'add', `${IP_VM}/24`, 'dev', VETH_VM);
  ip('-n', NS_VM, 'link', 'set', VETH_VM, 'up');
}

function cleanup(): void {
  for (const ns of [NS_VM, NS_OTHER]) spawnSync('ip', ['netns', 'del', ns]);
  for (const link of [VETH_CAPTURED, VETH_DOWN, TAP]) spawnSync('ip', ['link', 'del', link]);
}

describe('CapturePort (e2e, root)', () => {
  let capture: CapturePort | undefined;
  let arpCapture: CapturePort | undefined;
  let tap: TapPort | undefined;
  const errors: Error[] = [];
  const arpFrames: number[] = [];

  beforeAll(() => {
    requireRoot();
    cleanup();
    ip('netns', 'add', NS_VM);
    ip('netns', 'add', NS_OTHER);
    ip('-n', NS_VM, 'link', 'set', 'lo', 'up');
    ip('-n', NS_OTHER, 'link', 'set', 'lo', 'up');
    createVeth();
  });

  afterAll(() => {
    capture?.close();
    arpCapture?.close();
    tap?.close();
    cleanup();
  });

  it('bridges a veth end and a TAP: ping both ways, injected frames not re-captured', async () => {
    capture = CapturePort.open({ interface: VETH_CAPTURED });
    tap = TapPort.open({ name: TAP });
    expect(capture.name).toBe(VETH_CAPTURED);
    expect(capture.kind).toBe('capture');
    const c = capture;
    const t = tap;
    const sink = (to: () => { send(frames: readonly Uint8Array[]): void }): PortSink => ({
      frames: (frames) => to().send(frames),
      error: (err) => errors.push(err),
    });
    c.start(sink(() => t));
    t.start(sink(() => c));
    ip('link', 'set', TAP, 'netns', NS_OTHER);
    ip('-n', NS_OTHER, 'addr', 'add', `${IP_OTHER}/24`, 'dev', TAP);
    ip('-n', NS_OTHER, 'link', 'set', TAP, 'up');

    // A second socket on the same interface with the classic-BPF hook: ARP only.
    arpCapture = CapturePort.open({ interface: VETH_CAPTURED, bpf: ARP_ONLY, promiscuous: false });
    arpCapture.start({
      frames: (frames) => frames.forEach((f) => arpFrames.push(((f[12] ?? 0) << 8) | (f[13] ?? 0))),
      error: (err) => errors.push(err),
    });

    const rx0 = capturedRxPackets();
    const read0 = c.stats().readFrames;
    const ping = await run(NS_VM, ['ping', '-c', '3', '-i', '0.2', '-W', '2', IP_OTHER]);
    expect(ping.code, ping.output).toBe(0);
    const back = await run(NS_OTHER, ['ping', '-c', '3', '-i', '0.2', '-W', '2', IP_VM]);
    expect(back.code, back.output).toBe(0);
    const burst = await run(NS_VM, ['ping', '-f', '-l', '16', '-c', '500', '-q', '-W', '1', IP_OTHER]);
    expect(burst.code, burst.output).toBe(0);
    await new Promise((r) => setTimeout(r, 100));

    const stats = c.stats();
    const vmSent = capturedRxPackets() - rx0;
    // Every frame the VM sent is read once; the ~equal number we injected toward it is not read back.
    expect(stats.outgoingIgnored).toBe(0);
    expect(vmSent).toBeGreaterThanOrEqual(506);
    expect(Math.abs(stats.readFrames - read0 - vmSent)).toBeLessThanOrEqual(2);
    expect(stats.writeFrames).toBeGreaterThanOrEqual(506);
    expect(stats.writeErrors).toBe(0);
    expect(stats.readFrames).toBeGreaterThan(stats.readBatches);

    expect(arpFrames.length).toBeGreaterThan(0);
    expect(arpFrames.every((type) => type === 0x0806)).toBe(true);
    expect(errors).toEqual([]);
  });

  it('reports a deleted interface through sink.error, and reopen() recovers when it is back', async () => {
    const c = capture!;
    ip('-n', NS_VM, 'link', 'del', VETH_VM); // takes its peer, the captured end, with it
    await waitFor(() => errors.length >= 2); // the hub socket and the ARP socket
    expect(errors[0]).toMatchObject({ code: 'device-gone', name: 'DeviceGoneError', device: VETH_CAPTURED });
    errors.length = 0;

    // Failed ports count sends as errors instead of throwing.
    const before = c.stats().writeErrors;
    c.send([new Uint8Array(60)]);
    expect(c.stats().writeErrors).toBe(before + 1);

    expect(() => c.reopen()).toThrow(expect.objectContaining({ code: 'interface-not-found' }));
    createVeth();
    c.reopen();
    expect(c.ifindex).toBeGreaterThan(0);

    const ping = await run(NS_VM, ['ping', '-c', '3', '-i', '0.2', '-W', '2', IP_OTHER]);
    expect(ping.code, ping.output).toBe(0);
    const back = await run(NS_OTHER, ['ping', '-c', '2', '-i', '0.2', '-W', '2', IP_VM]);
    expect(back.code, back.output).toBe(0);
    expect(c.stats().outgoingIgnored).toBe(0);
    expect(errors).toEqual([]);
  });

  it('reports a down interface at run time as InterfaceDownError', async () => {
    const c = capture!;
    ip('link', 'set', VETH_CAPTURED, 'down');
    await waitFor(() => errors.length >= 1);
    expect(errors[0]).toMatchObject({ code: 'interface-down', name: 'InterfaceDownError' });
    errors.length = 0;
    ip('link', 'set', VETH_CAPTURED, 'up');
    c.reopen();
    const ping = await run(NS_VM, ['ping', '-c', '2', '-i', '0.2', '-W', '2', IP_OTHER]);
    expect(ping.code, ping.output).toBe(0);
  });

  it('refuses a missing or down interface with typed errors', () => {
    expect(() => CapturePort.open({ interface: 'vscap-none' })).toThrow(
      expect.objectContaining({ code: 'interface-not-found', name: 'InterfaceNotFoundError' }),
    );
    ip('link', 'add', VETH_DOWN, 'type', 'veth', 'peer', 'name', 'vscapd');
    expect(() => CapturePort.open({ interface: VETH_DOWN })).toThrow(
      expect.objectContaining({ code: 'interface-down', name: 'InterfaceDownError' }),
    );
    expect(() => CapturePort.open({ interface: 'vs-way-too-long-name' })).toThrow(
      expect.objectContaining({ code: 'interface-name-invalid' }),
    );
  });
});

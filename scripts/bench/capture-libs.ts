/**
 * Capture-library benchmark: our AF_PACKET CapturePort (variant A) against the
 * npm package `cap` 0.2.1 on libpcap (variant B), attaching the same veth end.
 *
 * Run (root): `scripts/bench/capture-libs [--runs 3] [--seconds 2] [--json]`, which
 * installs libpcap-dev and cap into .bench-deps/ and then runs
 * `node dist/scripts/bench/capture-libs.js` (cap is loaded from there with
 * createRequire; it is not a dependency of vswitch).
 *
 * Method (as scripts/bench/ports-io.ts, with a faster blaster): a blaster in
 * namespace vs-cl-a writes 106-byte UDP frames (64-byte payloads) to
 * 198.19.253.2 with sendmmsg() for `--seconds`, through a veth whose other end
 * (vsclcap, in this process's namespace) is captured. Two modes:
 *   capture  the sink only counts frames: the cost of the capture library alone;
 *   hub      a JS 2-port hub injects every captured frame into a TAP in
 *            vs-cl-b and every TAP frame into the veth, while vs-cl-b pings
 *            vs-cl-a (100/s) so frames are injected into the captured interface
 *            too; a capture that sees its own injections ("loop") shows them as
 *            frames whose source MAC is the TAP's (fixed) MAC.
 * A second cap socket with the kernel filter "ether src <TAP MAC>" counts the
 * injected frames on the wire, to show the loop detector is not blind.
 *
 *   A         CapturePort: recvfrom() per frame, up to 64 frames per JS call,
 *             PACKET_IGNORE_OUTGOING, sendmmsg() for injection.
 *   B inbound cap `Cap` with the filter "inbound": cap has no setDirection, but
 *             libpcap compiles inbound to a kernel BPF test of the packet type
 *             (SKF_AD_PKTTYPE != PACKET_OUTGOING), the same as pcap_setdirection(PCAP_D_IN).
 *   B no filter  cap with an empty filter: does it see its own injections without one?
 *
 * Runs alternate A / B inbound / B no filter; the median of each is printed.
 * CPU per frame = (user + system CPU of this process) / frames captured; in hub
 * mode it includes both directions and (system time) the TAP write into
 * vs-cl-b's stack. The kernel's delivery into the socket queue or the libpcap
 * ring runs in the sender's softirq, so it shows in blasterCpuNsPerFrame, not
 * here. The blaster shares the 2 cores, so rates are a floor.
 * Everything created is deleted at the end (also on SIGINT/SIGTERM).
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { CapturePort } from '../../switch/port/capture-port.js';
import type { Port, PortIoStats, PortSink } from '../../switch/port/port.js';
import { TapPort } from '../../switch/port/tap-port.js';

const NS_A = 'vs-cl-a';
const NS_B = 'vs-cl-b';
const IP_A = '198.19.253.1';
const IP_B = '198.19.253.2';
const CAPTURED_DEV = 'vsclcap';
const VM_DEV = 'vsclvm';
const TAP_DEV = 'vscltap';
/** Locally administered, fixed so that vs-cl-a's ARP entry survives the TAP being re-created per run. */
const TAP_MAC = '02:00:c6:13:fd:02';
const VM_MAC = '02:00:c6:13:fd:01';
/** Source MAC of frames another packet socket on the captured interface sends (stands in for the host's own traffic). */
const OTHER_SENDER_MAC = '02:00:c6:13:fd:03';
const OTHER_SENDER_FRAMES = 100;
const TAP_MAC_BYTES = Uint8Array.from(TAP_MAC.split(':').map((h) => parseInt(h, 16)));
const RING_BYTES = 4 * 1024 * 1024; // libpcap ring = our SO_RCVBUF default
const FRAME_BUFFER_BYTES = 65536;
const PINGS_PER_SECOND = 100;

const args = process.argv.slice(2);
function option(name: string, fallback: number): number {
  const i = args.indexOf(name);
  const value = i >= 0 ? Number(args[i + 1]) : fallback;
  return Number.isFinite(value) && value > 0 ? value : fallback;
}
const seconds = option('--seconds', 2);
const runs = Math.floor(option('--runs', 3));
const isJson = args.includes('--json');
/**
 * --offload-off: ethtool -K vsclcap tso/gso/gro off. libpcap (TPACKET_V2, which it uses in immediate mode)
 * sizes each ring slot to the snap length (64 KiB) when the interface has offloads, else to MTU + 18, so a
 * 4 MiB ring holds ~64 frames on a default veth and ~2 600 without offloads.
 */
const isOffloadOff = args.includes('--offload-off');

// ---------------------------------------------------------------- cap (libpcap)

/** The part of cap 0.2.1's `Cap` (lib/Cap.js + src/binding.cc) used here; cap ships no types. */
interface CapHandle {
  /** Returns the link type ("ETHERNET"); `buffer` receives one packet at a time. Throws on failure. */
  open(device: string, filter: string, bufferBytes: number, buffer: Buffer): string;
  /** pcap_sendpacket(); throws an Error with pcap_geterr() text on failure. */
  send(buffer: Buffer, length?: number): void;
  close(): void;
  on(event: 'packet', listener: (bytes: number, isTruncated: boolean) => void): void;
}
interface CapModule {
  Cap: new () => CapHandle;
}

function loadCap(): CapModule {
  const fromHere = (up: string): string => fileURLToPath(new URL(`${up}.bench-deps/package.json`, import.meta.url));
  // scripts/bench/ (tsx) or dist/scripts/bench/ (tsc build)
  const anchor = process.env['VSWITCH_BENCH_DEPS']
    ? `${process.env['VSWITCH_BENCH_DEPS']}/package.json`
    : [fromHere('../../'), fromHere('../../../')].find((p) => existsSync(p));
  if (!anchor) throw new Error('capture-libs: cap is not installed (run scripts/bench/capture-libs, which installs it into .bench-deps/)');
  return createRequire(anchor)('cap') as CapModule;
}

/** cap behind our Port contract: one sink.frames call per frame (cap emits one JS event per packet). */
class CapCapturePort implements Port {
  readonly kind = 'capture' as const;
  readonly name: string;
  private readonly frameBuffer = Buffer.alloc(FRAME_BUFFER_BYTES);
  private readonly counters: PortIoStats & { truncatedFrames: number } = {
    readBatches: 0,
    readFrames: 0,
    writeFrames: 0,
    writeErrors: 0,
    truncatedFrames: 0,
  };
  private sink: PortSink | undefined;
  private isClosed = false;

  private constructor(private readonly cap: CapHandle, device: string) {
    this.name = device;
    cap.on('packet', (bytes, isTruncated) => {
      if (isTruncated) {
        this.counters.truncatedFrames++;
        return;
      }
      this.counters.readBatches++;
      this.counters.readFrames++;
      this.sink?.frames([this.frameBuffer.subarray(0, bytes)]);
    });
  }

  static open(cap: CapModule, device: string, filter: string): CapCapturePort {
    const port = new CapCapturePort(new cap.Cap(), device);
    const linkType = port.cap.open(device, filter, RING_BYTES, port.frameBuffer);
    if (linkType !== 'ETHERNET') throw new Error(`capture-libs: ${device} has link type ${linkType}`);
    return port;
  }

  start(sink: PortSink): void {
    this.sink = sink;
  }

  send(frames: readonly Uint8Array[]): void {
    if (this.isClosed) return;
    for (const f of frames) {
      try {
        this.cap.send(Buffer.from(f.buffer, f.byteOffset, f.byteLength), f.byteLength);
        this.counters.writeFrames++;
      } catch {
        this.counters.writeErrors++; // pcap_sendpacket failed (ENOBUFS, down): counted, as Port.send requires
      }
    }
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.sink = undefined;
    this.cap.close();
  }

  stats(): PortIoStats & { truncatedFrames: number } {
    return { ...this.counters };
  }
}

// ---------------------------------------------------------------- namespaces

function ip(...a: string[]): string {
  const r = spawnSync('ip', a, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${a.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function runIn(ns: string, command: string[]): Promise<number> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', ns, ...command], { timeout: 60_000 }, (err) =>
      resolve(err ? Number(err.code ?? 1) : 0),
    );
  });
}

function cleanup(): void {
  for (const ns of [NS_A, NS_B]) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  for (const link of [CAPTURED_DEV, TAP_DEV]) spawnSync('ip', ['link', 'del', link], { stdio: 'ignore' });
}

function setUp(): void {
  cleanup();
  ip('netns', 'add', NS_A);
  ip('netns', 'add', NS_B);
  ip('link', 'add', CAPTURED_DEV, 'type', 'veth', 'peer', 'name', VM_DEV, 'netns', NS_A);
  ip('-n', NS_A, 'link', 'set', VM_DEV, 'address', VM_MAC);
  ip('-n', NS_A, 'addr', 'add', `${IP_A}/24`, 'dev', VM_DEV);
  ip('-n', NS_A, 'link', 'set', VM_DEV, 'up');
  // No IPv6 on the captured end: its router solicitations would be host traffic on the wire.
  spawnSync('sysctl', ['-qw', `net.ipv6.conf.${CAPTURED_DEV}.disable_ipv6=1`], { stdio: 'ignore' });
  if (isOffloadOff) {
    const r = spawnSync('ethtool', ['-K', CAPTURED_DEV, 'tso', 'off', 'gso', 'off', 'gro', 'off'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ethtool -K ${CAPTURED_DEV}: ${r.stderr}`);
  }
  ip('link', 'set', CAPTURED_DEV, 'up');
}

/** A fresh TAP per run (closing a TapPort deletes its TAP), moved into vs-cl-b with the fixed MAC. */
function openTap(): TapPort {
  const tap = TapPort.open({ name: TAP_DEV });
  ip('link', 'set', TAP_DEV, 'netns', NS_B);
  ip('-n', NS_B, 'link', 'set', TAP_DEV, 'address', TAP_MAC);
  ip('-n', NS_B, 'addr', 'add', `${IP_B}/24`, 'dev', TAP_DEV);
  ip('-n', NS_B, 'link', 'set', TAP_DEV, 'up');
  return tap;
}

// ---------------------------------------------------------------- measurement

type Variant = 'A ours (AF_PACKET)' | 'B cap "inbound"' | 'B cap no filter';
const VARIANTS: readonly Variant[] = ['A ours (AF_PACKET)', 'B cap "inbound"', 'B cap no filter'];
/** hub: captured frames are injected into the TAP (and back); capture: the sink only counts them. */
type Mode = 'hub' | 'capture';
const MODES: readonly Mode[] = ['capture', 'hub'];

interface Run {
  mode: Mode;
  variant: Variant;
  seconds: number;
  /** Frames the blaster put on the wire of vs-cl-a. */
  framesSent: number;
  framesCaptured: number;
  framesPerSecond: number;
  /** 1 - captured / sent (ring or socket queue full; in hub mode the ping traffic is also captured). */
  lossRatio: number;
  cpuNsPerFrame: number;
  userNsPerFrame: number;
  systemNsPerFrame: number;
  /** CPU of the blaster per frame sent; it includes the kernel's delivery into the capture's socket or ring (softirq). */
  blasterCpuNsPerFrame: number;
  framesPerJsCall: number;
  /** Frames this run injected into the captured interface (TAP → veth; hub mode). */
  framesInjected: number;
  /** Captured frames whose source MAC is the TAP's: our own injections seen again. */
  framesRecaptured: number;
  /**
   * Frames from the TAP's MAC that a second packet socket (a cap observer with the
   * kernel filter "ether src <TAP MAC>") saw on the captured interface: proves the
   * injected frames are visible to packet sockets, so framesRecaptured = 0 is not a blind detector.
   */
  framesSeenByObserver: number;
  /**
   * Of OTHER_SENDER_FRAMES frames that a different packet socket sent out of the captured interface (as the
   * host's own stack or a second port would), how many this capture delivered: outgoing traffic that is not ours.
   */
  otherSenderFramesCaptured: number;
  /** A only: frames the addon dropped as PACKET_OUTGOING (0 while PACKET_IGNORE_OUTGOING works). */
  outgoingIgnored: number;
}

/** Ethernet + IPv4 + UDP (to port 9) + 64-byte payload, from vs-cl-a's veth to the TAP's MAC. */
function blastFrame(): number[] {
  const ipHeader = [0x45, 0, 0, 20 + 8 + 64, 0, 0, 0x40, 0, 64, 17, 0, 0, ...IP_A.split('.').map(Number), ...IP_B.split('.').map(Number)];
  let sum = 0;
  for (let i = 0; i < ipHeader.length; i += 2) sum += (ipHeader[i]! << 8) | ipHeader[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  ipHeader[10] = (~sum >>> 8) & 0xff;
  ipHeader[11] = ~sum & 0xff;
  const udpHeader = [0x9c, 0x40, 0, 9, 0, 8 + 64, 0, 0]; // 40000 → 9, no checksum
  return [...TAP_MAC_BYTES, ...VM_MAC.split(':').map((h) => parseInt(h, 16)), 0x08, 0x00, ...ipHeader, ...udpHeader, ...new Array<number>(64).fill(0)];
}

/**
 * Runs in vs-cl-a: sendmmsg() of 64 copies of one frame per call on our own packet socket, as fast as it can
 * for `seconds` (a dgram blaster tops out near 100 k/s here, below what either capture can take).
 */
function blasterSource(): string {
  const capturePortUrl = new URL('../../switch/port/capture-port.js', import.meta.url).href;
  return `
import { CapturePort } from ${JSON.stringify(capturePortUrl)};
const port = CapturePort.open({ interface: ${JSON.stringify(VM_DEV)}, promiscuous: false, bpf: [{ code: 6, jt: 0, jf: 0, k: 0 }] });
const batch = new Array(64).fill(Uint8Array.from(${JSON.stringify(blastFrame())}));
const cpu0 = process.cpuUsage();
const end = performance.now() + ${seconds * 1000};
while (performance.now() < end) port.send(batch);
const cpu = process.cpuUsage(cpu0);
const s = port.stats();
port.close();
console.log(JSON.stringify({ sent: s.writeFrames, dropped: s.writeErrors, cpuUs: cpu.user + cpu.system }));`;
}

function runBlaster(): Promise<{ sent: number; cpuUs: number }> {
  return new Promise((resolve, reject) => {
    execFile(
      'ip',
      ['netns', 'exec', NS_A, process.execPath, '--input-type=module', '-e', blasterSource()],
      { timeout: 60_000 },
      (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout) as { sent: number; cpuUs: number })),
    );
  });
}

function hasSource(frame: Uint8Array, mac: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (frame[6 + i] !== mac[i]) return false;
  return true;
}

const macBytes = (mac: string): Uint8Array => Uint8Array.from(mac.split(':').map((h) => parseInt(h, 16)));
const OTHER_SENDER_MAC_BYTES = macBytes(OTHER_SENDER_MAC);

/** Sends OTHER_SENDER_FRAMES frames (EtherType 0x88b5, local experimental: dropped by vs-cl-a) from a second socket. */
async function sendFromOtherSocket(): Promise<void> {
  const other = CapturePort.open({ interface: CAPTURED_DEV, promiscuous: false, bpf: [{ code: 6, jt: 0, jf: 0, k: 0 }] });
  const frame = new Uint8Array(60);
  frame.set(macBytes(VM_MAC), 0);
  frame.set(OTHER_SENDER_MAC_BYTES, 6);
  frame.set([0x88, 0xb5], 12);
  other.send(new Array<Uint8Array>(OTHER_SENDER_FRAMES).fill(frame));
  other.close();
  await new Promise((resolve) => setTimeout(resolve, 100));
}

function openCaptured(variant: Variant, cap: CapModule): Port {
  if (variant === 'A ours (AF_PACKET)') return CapturePort.open({ interface: CAPTURED_DEV });
  return CapCapturePort.open(cap, CAPTURED_DEV, variant === 'B cap "inbound"' ? 'inbound' : '');
}

async function measure(mode: Mode, variant: Variant, cap: CapModule): Promise<Run> {
  const tap = mode === 'hub' ? openTap() : undefined;
  const captured = openCaptured(variant, cap);
  let recaptured = 0;
  let fromOtherSender = 0;
  let observed = 0;
  let isCounting = false;
  const observer = new cap.Cap();
  // cap keeps a raw pointer to this buffer and no reference: it must stay reachable until close().
  const observerBuffer = Buffer.alloc(FRAME_BUFFER_BYTES);
  observer.open(CAPTURED_DEV, `ether src ${TAP_MAC}`, 1024 * 1024, observerBuffer);
  observer.on('packet', () => {
    if (isCounting) observed++;
  });
  try {
    captured.start({
      frames: (frames) => {
        for (const f of frames) {
          if (isCounting && hasSource(f, TAP_MAC_BYTES)) recaptured++;
          if (hasSource(f, OTHER_SENDER_MAC_BYTES)) fromOtherSender++;
        }
        tap?.send(frames);
      },
      error: (e) => console.error(variant, e),
    });
    if (tap) {
      tap.start({ frames: (frames) => captured.send(frames), error: (e) => console.error(variant, e) });
      if ((await runIn(NS_A, ['ping', '-c', '2', '-i', '0.2', '-W', '2', IP_B])) !== 0) {
        throw new Error(`capture-libs: ${variant}: no connectivity from ${NS_A} to ${IP_B}`);
      }
    }
    const s0 = captured.stats();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    isCounting = true;
    const [blast] = await Promise.all([
      runBlaster(),
      tap
        ? runIn(NS_B, ['ping', '-q', '-c', String(seconds * PINGS_PER_SECOND), '-i', String(1 / PINGS_PER_SECOND), '-W', '1', IP_A])
        : Promise.resolve(0),
    ]);
    // Let the last frames in the socket queue / ring drain before reading the counters.
    await new Promise((resolve) => setTimeout(resolve, 100));
    isCounting = false;
    const elapsedS = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const s1 = captured.stats();
    await sendFromOtherSocket();
    const s2 = captured.stats();
    const got = s1.readFrames - s0.readFrames;
    const n = Math.max(got, 1);
    const ignored = (s: PortIoStats): number => ('outgoingIgnored' in s ? Number(s.outgoingIgnored) : 0);
    return {
      mode,
      variant,
      seconds: Number(elapsedS.toFixed(2)),
      framesSent: blast.sent,
      framesCaptured: got,
      framesPerSecond: Math.round(got / seconds),
      lossRatio: Number(Math.max(0, 1 - got / Math.max(blast.sent, 1)).toFixed(3)),
      cpuNsPerFrame: Math.round(((cpu.user + cpu.system) * 1000) / n),
      userNsPerFrame: Math.round((cpu.user * 1000) / n),
      systemNsPerFrame: Math.round((cpu.system * 1000) / n),
      blasterCpuNsPerFrame: Math.round((blast.cpuUs * 1000) / Math.max(blast.sent, 1)),
      framesPerJsCall: Number((n / Math.max(s1.readBatches - s0.readBatches, 1)).toFixed(1)),
      framesInjected: s1.writeFrames - s0.writeFrames,
      framesRecaptured: recaptured,
      framesSeenByObserver: observed,
      otherSenderFramesCaptured: fromOtherSender,
      outgoingIgnored: ignored(s2) - ignored(s0),
    };
  } finally {
    observer.close();
    observerBuffer.fill(0); // keeps it reachable up to here
    captured.close();
    tap?.close();
  }
}

function median(values: number[]): number {
  const s = [...values].sort((x, y) => x - y);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : Math.round(((s[mid - 1]! + s[mid]!) / 2) * 10) / 10;
}

function summarize(all: Run[]): Record<string, number | string>[] {
  return MODES.flatMap((mode) =>
    VARIANTS.map((variant) => ({ mode, variant, rs: all.filter((r) => r.mode === mode && r.variant === variant) })),
  ).map(({ mode, variant, rs }) => {
    const m = (k: keyof Omit<Run, 'variant' | 'mode'>): number => median(rs.map((r) => r[k]));
    return {
      mode,
      variant,
      runs: rs.length,
      framesSent: m('framesSent'),
      framesPerSecond: m('framesPerSecond'),
      lossRatio: m('lossRatio'),
      cpuNsPerFrame: m('cpuNsPerFrame'),
      userNsPerFrame: m('userNsPerFrame'),
      systemNsPerFrame: m('systemNsPerFrame'),
      blasterCpuNsPerFrame: m('blasterCpuNsPerFrame'),
      framesPerJsCall: m('framesPerJsCall'),
      framesInjected: m('framesInjected'),
      framesRecaptured: m('framesRecaptured'),
      framesSeenByObserver: m('framesSeenByObserver'),
      otherSenderFramesCaptured: m('otherSenderFramesCaptured'),
      outgoingIgnored: m('outgoingIgnored'),
    };
  });
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('capture-libs benchmark needs root (TAP devices, namespaces)');
  const cap = loadCap();
  const all: Run[] = [];
  const onSignal = (): void => {
    cleanup();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    setUp();
    for (let i = 0; i < runs; i++) {
      for (const mode of MODES) {
        for (const variant of VARIANTS) {
          const run = await measure(mode, variant, cap);
          all.push(run);
          console.error(`run ${i + 1}/${runs} ${mode} ${variant}: ${run.framesPerSecond} frames/s, ${run.cpuNsPerFrame} ns/frame`);
        }
      }
    }
  } finally {
    cleanup();
  }
  const summary = summarize(all);
  if (isJson) {
    console.log(JSON.stringify({ seconds, runs, isOffloadOff, loadAverage: loadavg(), summary, all }, null, 2));
  } else {
    console.log(`median of ${runs} runs × ${seconds} s each (alternating), 106-byte frames (64-byte UDP payloads), offloads on ${CAPTURED_DEV} ${isOffloadOff ? 'off' : 'on'}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}:`);
    console.table(summary);
  }
}

await main();

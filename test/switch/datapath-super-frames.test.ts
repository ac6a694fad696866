/**
 * The datapath with super-frames (TSO/GSO): decided once, counted as the wire frames they stand for, passed on with
 * their header to a port that takes headers, cut by the segmenter for one that does not. The segmenter here hands
 * back the oracle's wire frames for the super-frame it is given (the real cut is the addon's, checked against the
 * same oracle in test/e2e/native-gso.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { Datapath, type FrameCounter } from '../../switch/datapath.js';
import type { FrameSegmenter } from '../../switch/frame/frame-segmenter.js';
import { readMac } from '../../switch/frame/mac.js';
import { createLogger } from '../../switch/log.js';
import { SwitchCore } from '../../switch/pipeline/forward.js';
import { MemoryPort } from '../../switch/port/memory-port.js';
import { arpRequest, ethernetFrame } from '../support/frames.js';
import { headerBytes, randomFlow, randomPayload, seededRandom, superFrame, wireSegments, type FlowSpec } from '../support/gso-oracle.js';

const random = seededRandom(17);
const MSS = 1448;

interface Built {
  spec: FlowSpec;
  header: Uint8Array;
  frame: Uint8Array;
  segments: Uint8Array[];
}

function build(payloadBytes: number, mss = MSS, overrides: Partial<FlowSpec> = {}): Built {
  const spec = randomFlow(random, { isIpv6: false, vlanTags: [], tcpOptions: undefined, ...overrides });
  const payload = randomPayload(random, payloadBytes);
  const x = superFrame(spec, payload, mss);
  return { spec, header: x.normalized, frame: x.frame, segments: wireSegments(spec, payload, mss) };
}

/** Hands back the oracle's cut of the super-frames it knows; records its calls. */
class OracleSegmenter implements FrameSegmenter {
  readonly calls: { header: number[]; frame: Uint8Array }[] = [];
  releases = 0;
  private readonly known = new Map<string, Uint8Array[]>();
  know(b: Built): void {
    this.known.set(Buffer.from(b.frame).toString('hex'), b.segments);
  }
  segment(vnet: Uint8Array, at: number, frame: Uint8Array): readonly Uint8Array[] {
    this.calls.push({ header: [...vnet.subarray(at, at + 10)], frame: Uint8Array.from(frame) });
    return this.known.get(Buffer.from(frame).toString('hex')) ?? [];
  }
  release(): void {
    this.releases++;
  }
}

function setUp(options: { maxFrameBytes?: number; withSegmenter?: boolean } = {}) {
  const core = new SwitchCore({ ...(options.maxFrameBytes ? { maxFrameBytes: options.maxFrameBytes } : {}) });
  const segmenter = new OracleSegmenter();
  const datapath = new Datapath({
    core,
    clock: { now: () => 0 },
    log: createLogger({ write: () => {} }),
    ...(options.withSegmenter === false ? {} : { segmenter }),
  });
  const vm = new MemoryPort('vm', { takesVnetHeaders: true });
  const offloading = new MemoryPort('tap', { takesVnetHeaders: true });
  const plain = new MemoryPort('link');
  const ids = {
    vm: datapath.attach(vm, { floods: true }).id,
    tap: datapath.attach(offloading, { floods: true }).id,
    plain: datapath.attach(plain, { floods: true }).id,
  };
  return { core, datapath, segmenter, vm, offloading, plain, ids };
}

/** Makes `to`'s MAC learned on `port` (a broadcast from it). */
function learn(port: MemoryPort, src: Uint8Array): void {
  port.inject([arpRequest(readMac(src, 0), '198.19.0.1', '198.19.0.2')]);
  port.sent.length = 0;
}

const headersOf = (...list: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(10 * list.length);
  list.forEach((h, i) => out.set(h, 10 * i));
  return out;
};

describe('Datapath with super-frames', () => {
  it('passes a super-frame with its header to a port that takes headers, counting the wire frames', () => {
    const t = setUp();
    const b = build(20_000);
    learn(t.offloading, b.spec.dst);
    for (const p of [t.vm, t.offloading, t.plain]) p.sent.length = 0;
    t.vm.inject([b.frame], b.header);
    expect(t.offloading.sent.map((f) => f.length)).toEqual([b.frame.length]);
    expect([...t.offloading.sentVnet[0]!]).toEqual([...b.header]);
    expect(t.plain.sent).toEqual([]); // learned: not flooded
    expect(t.segmenter.calls).toEqual([]);
    const wireFrames = b.segments.length;
    const wireBytes = b.segments.reduce((n, s) => n + s.length, 0);
    expect(wireFrames).toBe(Math.ceil(20_000 / MSS));
    expect(wireBytes).toBe(b.frame.length + (wireFrames - 1) * headerBytes(b.spec));
    expect(t.core.portStats(t.ids.vm)).toMatchObject({ rxFrames: wireFrames, rxBytes: wireBytes });
    expect(t.core.portStats(t.ids.tap)).toMatchObject({ txFrames: wireFrames, txBytes: wireBytes });
    // Learned once, as its first wire frame would have it.
    expect(t.core.macEntries(0).find((e) => e.mac === readMac(b.spec.src, 0))?.portName).toBe('vm');
  });

  it('cuts it with the segmenter for a port that takes none, and releases the scratch after the batch', () => {
    const t = setUp();
    const b = build(10_000);
    t.segmenter.know(b);
    learn(t.plain, b.spec.dst);
    t.vm.inject([b.frame], b.header);
    expect(t.segmenter.calls).toHaveLength(1);
    expect(t.segmenter.calls[0]!.header).toEqual([...b.header]);
    expect(t.plain.sent.map((f) => Buffer.from(f).toString('hex'))).toEqual(b.segments.map((f) => Buffer.from(f).toString('hex')));
    expect(t.plain.sentVnet.every((h) => h === undefined)).toBe(true);
    expect(t.segmenter.releases).toBeGreaterThanOrEqual(1);
    const wireBytes = b.segments.reduce((n, s) => n + s.length, 0);
    expect(t.core.portStats(t.ids.plain)).toMatchObject({ txFrames: b.segments.length, txBytes: wireBytes });
  });

  it('floods an unknown-unicast super-frame: as it is to the offload port, cut for the other', () => {
    const t = setUp();
    const b = build(5_000);
    t.segmenter.know(b);
    t.vm.inject([b.frame], b.header);
    expect(t.offloading.sent).toHaveLength(1);
    expect(t.plain.sent).toHaveLength(b.segments.length);
    expect(t.core.portStats(t.ids.vm).floodedFrames).toBe(b.segments.length);
  });

  it('gives plain frames queued beside super-frames a zero header', () => {
    const t = setUp();
    const b = build(4_000);
    learn(t.offloading, b.spec.dst);
    const plainFrame = ethernetFrame({ dst: readMac(b.spec.dst, 0), src: readMac(b.spec.src, 0), payloadBytes: 64 });
    t.vm.inject([plainFrame, b.frame, plainFrame], headersOf(new Uint8Array(10), b.header, new Uint8Array(10)));
    expect(t.offloading.sent.map((f) => f.length)).toEqual([plainFrame.length, b.frame.length, plainFrame.length]);
    expect(t.offloading.sentVnet.map((h) => [...h!])).toEqual([[...new Uint8Array(10)], [...b.header], [...new Uint8Array(10)]]);
    // A plain frame from a port without headers, to the same port: no header array at all.
    t.offloading.sent.length = 0;
    t.offloading.sentVnet.length = 0;
    t.plain.inject([plainFrame]);
    expect(t.offloading.sentVnet).toEqual([undefined]);
  });

  it('checks maxFrameBytes against the wire frames, not the super-frame', () => {
    const t = setUp({ maxFrameBytes: 1518 });
    const fits = build(60_000, 1448);
    learn(t.offloading, fits.spec.dst);
    t.vm.inject([fits.frame], fits.header);
    expect(t.offloading.sent).toHaveLength(1);
    const jumbo = build(60_000, 8948, { dst: fits.spec.dst });
    t.vm.inject([jumbo.frame], jumbo.header);
    expect(t.offloading.sent).toHaveLength(1);
    expect(t.core.portStats(t.ids.vm).drops.oversize).toBe(Math.ceil(60_000 / 8948));
  });

  it('counts rule hits and VTTIF in wire frames and bytes', () => {
    const t = setUp();
    const b = build(30_000);
    const rule = t.core.rules.insert({ src: readMac(b.spec.src, 0), dst: readMac(b.spec.dst, 0), target: 'tap' });
    const counted: [number, number][] = [];
    const counter: FrameCounter = { count: (_src, _dst, bytes, frames = 1) => void counted.push([bytes, frames]) };
    t.datapath.counter = counter;
    t.vm.inject([b.frame], b.header);
    const wireBytes = b.segments.reduce((n, s) => n + s.length, 0);
    expect(counted).toEqual([[wireBytes, b.segments.length]]);
    expect(t.core.rules.stats().find((s) => s.id === rule.id)).toMatchObject({ hitFrames: b.segments.length, hitBytes: wireBytes });
  });

  it('without a segmenter, a super-frame is not sent to a port that takes no headers', () => {
    const t = setUp({ withSegmenter: false });
    const b = build(5_000);
    learn(t.plain, b.spec.dst);
    t.vm.inject([b.frame], b.header);
    expect(t.plain.sent).toEqual([]);
    expect(t.core.portStats(t.ids.plain).txFrames).toBe(0);
  });
});

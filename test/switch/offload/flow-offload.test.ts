/**
 * FlowOffload's JS half against a fake NativeOffload (a JS flow table standing in for offload.cc): what gets
 * installed (only 'output' decisions between offloadable ports), what flushes the table (anything that
 * could change a decision, with the counters read back first), the read-back itself (port and rule
 * counters, MAC refresh, VTTIF, slot traffic), and that it runs on the NativeOffload it is given.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Datapath } from '../../../switch/datapath.js';
import type { Mac } from '../../../switch/frame/mac.js';
import { createLogger } from '../../../switch/log.js';
import { FlowOffload, POLL_INTERVAL_MS } from '../../../switch/offload/flow-offload.js';
import { MAX_IDLE_POLL_MS } from '../../../switch/offload/poll-backoff.js';
import { LocalPrimitives } from '../../../switch/overlay/local-primitives.js';
import { SwitchCore } from '../../../switch/pipeline/forward.js';
import type { Endpoint } from '../../../switch/link/transport/endpoint.js';
import type { NativeOffload, NativeOffloadPoll, NativeStreamHandle } from '../../../switch/port/addon.js';
import { MemoryPort } from '../../../switch/port/memory-port.js';
import { ethernetFrame, testMac } from '../../support/frames.js';

interface FakeFlow {
  id: number;
  outPort: number;
  packets: number;
  bytes: number;
}

/** The flow-table part of a NativeOffload, in JS; `forward` plays a native hit. */
class FakeNative {
  flows = new Map<string, FakeFlow>();
  outputs = new Map<number, MemoryPort>();
  nextId = 1;
  installs = 0;
  flushes = 0;
  slotRecords: number[] = [];
  /** Links bound with linkSetStream: port id → its stream and send slot. */
  readonly streamLinks = new Map<number, { stream: NativeStreamHandle; tx: number }>();
  isClosed = false;
  readonly native = this.asNative();

  forward(inPort: number, frame: Uint8Array, src: Mac, dst: Mac): boolean {
    const flow = this.flows.get(`${inPort}/${src}/${dst}`);
    if (!flow) return false;
    this.outputs.get(flow.outPort)?.send([frame]);
    flow.packets++;
    flow.bytes += frame.length;
    return true;
  }

  asNative(): NativeOffload {
    const self = this;
    const fake = {
      get isClosed() {
        return self.isClosed;
      },
      configure: () => {},
      flush: () => {
        this.flows.clear();
        this.flushes++;
      },
      flowInstall: (inPort: number, src: number, dst: number, outPort: number) => {
        if (!this.outputs.has(outPort)) return -1;
        const key = `${inPort}/${src}/${dst}`;
        const existing = this.flows.get(key);
        if (existing) return existing.id;
        const flow = { id: this.nextId++, outPort, packets: 0, bytes: 0 };
        this.flows.set(key, flow);
        this.installs++;
        return flow.id;
      },
      poll: (): NativeOffloadPoll => {
        const flows: number[] = [];
        for (const f of this.flows.values()) {
          if (f.packets === 0) continue;
          flows.push(f.id, f.packets, f.bytes);
          f.packets = f.bytes = 0;
        }
        const slots = this.slotRecords;
        this.slotRecords = [];
        return { flows: Float64Array.from(flows), slots: Float64Array.from(slots) };
      },
      counters: () => ({ txHits: 0, txMisses: 0, txPunts: 0, rxHits: 0, rxPunts: 0, installs: this.installs, flushes: this.flushes, flows: this.flows.size, slots: 0, links: 0 }),
      linkRemove: (id: number) => void this.streamLinks.delete(id),
      linkSetStream: (id: number, stream: NativeStreamHandle, tx: number) => void this.streamLinks.set(id, { stream, tx }),
    };
    return fake as unknown as NativeOffload;
  }
}

/** A memory port that, like TapPort, takes an offload id in a NativeOffload (and becomes a fake native output there). */
class OffloadableMemoryPort extends MemoryPort {
  /** The NativeOffloads it was handed with a port id, in order. */
  readonly givenNatives: (NativeOffload | undefined)[] = [];

  constructor(
    name: string,
    private readonly fake: FakeNative,
  ) {
    super(name);
  }

  setOffloadPort(portId: number, native?: NativeOffload): void {
    if (portId >= 0) this.givenNatives.push(native);
    for (const [id, port] of this.fake.outputs) if (port === this) this.fake.outputs.delete(id);
    if (portId >= 0 && native === this.fake.native) this.fake.outputs.set(portId, this);
  }
}

const A = testMac(1);
const B = testMac(2);
const C = testMac(3);
let offload: FlowOffload | undefined;
afterEach(() => {
  offload?.stop();
  offload = undefined;
});

function setUp() {
  let nowMs = 1_000;
  const fake = new FakeNative();
  const core = new SwitchCore();
  const datapath = new Datapath({ core, clock: { now: () => nowMs }, log: createLogger({ write: () => {} }) });
  const counted: [Mac, Mac, number, number][] = [];
  datapath.counter = { count: (src, dst, bytes, frames = 1) => void counted.push([src, dst, bytes, frames]) };
  offload = FlowOffload.start({ native: fake.native, datapath, clock: { now: () => nowMs }, log: createLogger({ write: () => {} }) });
  const p1 = new OffloadableMemoryPort('p1', fake);
  const p2 = new OffloadableMemoryPort('p2', fake);
  const plain = new MemoryPort('plain');
  const a1 = datapath.attach(p1, { floods: true });
  const a2 = datapath.attach(p2, { floods: true });
  datapath.attach(plain, { floods: true });
  const frame = (src: Mac, dst: Mac) => ethernetFrame({ src, dst, payloadBytes: 100 });
  // B is learned on p2 (a broadcast from it), so A → B is a learned 'output'.
  p2.inject([frame(B, 0xffff_ffff_ffff)]);
  return { fake, core, datapath, p1, p2, plain, a1, a2, frame, counted, advance: (ms: number) => (nowMs += ms) };
}

describe('FlowOffload (JS half, fake addon)', () => {
  it('installs only output decisions between offloadable ports; floods and broadcasts stay in JS', () => {
    const t = setUp();
    expect(t.fake.flows.size).toBe(0); // the broadcast was flooded: no flow
    t.p1.inject([t.frame(A, C)]); // unknown unicast → flood
    expect(t.fake.flows.size).toBe(0);
    t.plain.inject([t.frame(C, 0xffff_ffff_ffff)]); // C learned on a port without a native input (a flush)
    t.p1.inject([t.frame(A, B)]);
    expect([...t.fake.flows.keys()]).toEqual([`${t.a1.id}/${A}/${B}`]);
    t.plain.inject([t.frame(C, B)]); // from that port: output, but nothing to install
    expect(t.fake.flows.size).toBe(1);
    t.p1.inject([t.frame(A, C)]); // to it: the same
    expect(t.fake.flows.size).toBe(1);
  });

  it('reads back what the flows carried: port counters, rule hits, MAC refresh, VTTIF', () => {
    const t = setUp();
    const rule = t.core.rules.insert({ src: A, dst: B, target: 'p2' });
    t.p1.inject([t.frame(A, B)]); // learns A on p1, installs A → B (rule)
    const before = t.core.portStats(t.a1.id);
    const countedBefore = t.counted.length;
    t.advance(200_000);
    for (let i = 0; i < 10; i++) expect(t.fake.forward(t.a1.id, t.frame(A, B), A, B)).toBe(true);
    const after = t.core.portStats(t.a1.id); // a read polls first
    expect(after.rxFrames - before.rxFrames).toBe(10);
    expect(after.rxBytes - before.rxBytes).toBe(10 * 114);
    expect(t.core.portStats(t.a2.id).txFrames).toBeGreaterThanOrEqual(11);
    expect(t.core.rules.stats().find((s) => s.id === rule.id)).toMatchObject({ hitFrames: 11, hitBytes: 11 * 114 });
    const entryA = t.core.macEntries(201_000).find((e) => e.mac === A)!;
    expect(entryA.ageMs).toBeLessThan(1_000); // refreshed by the read-back, not aged 200 s
    const counted = t.counted.slice(countedBefore);
    expect(counted.reduce((n, [, , , frames]) => n + frames, 0)).toBe(10);
    expect(counted.reduce((n, [, , bytes]) => n + bytes, 0)).toBe(10 * 114);
    expect(counted.every(([src, dst]) => src === A && dst === B)).toBe(true);
  });

  it('flushes on anything that could change a decision, reading the counters back first', () => {
    const t = setUp();
    t.p1.inject([t.frame(A, B)]);
    expect(t.fake.flows.size).toBe(1);
    t.fake.forward(t.a1.id, t.frame(A, B), A, B);
    const flushes = t.fake.flushes;
    t.core.rules.insert({ src: A, dst: 'any', target: 'plain' }); // a rule
    expect(t.fake.flushes).toBe(flushes + 1);
    expect(t.fake.flows.size).toBe(0);
    expect(t.core.portStats(t.a1.id).rxFrames).toBe(2); // the hit before the flush was kept

    t.core.rules.remove(t.core.rules.list()[0]!.id);
    t.p1.inject([t.frame(A, B)]);
    expect(t.fake.flows.size).toBe(1);
    t.p1.inject([t.frame(B, C)]); // B moves to p1 → flush
    expect(t.fake.flows.size).toBe(0);

    t.p2.inject([t.frame(B, A)]); // B back on p2 (flush), A is on p1: B → A installs
    expect(t.fake.flows.size).toBe(1);
    t.p1.inject([t.frame(C, 0xffff_ffff_ffff)]); // a new MAC learned: a default-rule flow could now be wrong
    expect(t.fake.flows.size).toBe(0);

    t.p2.inject([t.frame(B, A)]);
    expect(t.fake.flows.size).toBe(1);
    t.datapath.detach('plain'); // a port removed
    expect(t.fake.flows.size).toBe(0);
  });

  it('a port deleted through the port primitives leaves at once: its flows flushed (the hits read back first), its MACs forgotten, no longer an output', async () => {
    const t = setUp();
    const primitives = new LocalPrimitives({ datapath: t.datapath, links: () => undefined, log: createLogger({ write: () => {} }) });
    t.p1.inject([t.frame(A, B)]); // A → B (learned on p2): a flow
    expect(t.fake.flows.size).toBe(1);
    t.fake.forward(t.a1.id, t.frame(A, B), A, B); // a native hit not yet read back
    await primitives.deletePort('p2', { name: 'local' });
    expect(t.fake.flows.size).toBe(0);
    expect(t.fake.outputs.has(t.a2.id)).toBe(false);
    expect(t.core.portStats(t.a1.id).rxFrames).toBe(2); // the hit before the flush was kept
    expect(t.core.macEntries(0).map((m) => m.portName)).toEqual(['p1']);
    const sentToP2 = t.p2.sent.length;
    t.p1.inject([t.frame(A, B)]); // B is unknown now: flooded in JS (to plain), nothing installed
    expect(t.fake.flows.size).toBe(0);
    expect(t.p2.sent).toHaveLength(sentToP2);
    expect(t.plain.sent.at(-1)).toEqual(t.frame(A, B));
  });

  it('backs its read-back off while nothing moves, and snaps back on an install or on traffic', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const t = setUp(); // its timer is armed under fake time, at the first install
      t.p1.inject([t.frame(C, 0xffff_ffff_ffff)]); // C learned on p1 now, so installing C → B below flushes nothing
      t.p1.inject([t.frame(A, B)]); // installs A → B: traffic is likely
      expect(offload!.pollWaitMs).toBe(POLL_INTERVAL_MS);
      vi.advanceTimersByTime(10_000);
      expect(offload!.pollWaitMs).toBe(MAX_IDLE_POLL_MS);
      t.p1.inject([t.frame(C, B)]); // another install: back to the base
      expect(offload!.pollWaitMs).toBe(POLL_INTERVAL_MS);
      vi.advanceTimersByTime(10_000);
      expect(offload!.pollWaitMs).toBe(MAX_IDLE_POLL_MS);
      t.fake.forward(t.a1.id, t.frame(A, B), A, B); // a native hit: the next read-back finds it
      vi.advanceTimersToNextTimer(); // that read-back
      expect(offload!.pollWaitMs).toBe(POLL_INTERVAL_MS);
      vi.advanceTimersToNextTimer(); // and the next finds nothing again
      expect(offload!.pollWaitMs).toBe(2 * POLL_INTERVAL_MS);
      expect(vi.getTimerCount()).toBe(1); // one timer, never a pile of them
      offload!.stop();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('sleeps without flows: no read-back timer until the first install, none again once a flush empties the table', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const t = setUp();
      let polls = 0;
      const poll = t.fake.native.poll;
      t.fake.native.poll = () => (polls++, poll());
      expect(offload!.isReadBackArmed).toBe(false);
      expect(vi.getTimerCount()).toBe(0);
      vi.advanceTimersByTime(10_000);
      expect(polls).toBe(0); // an idle host without flows: no wake-up at all
      t.p1.inject([t.frame(A, B)]); // a flow: the read-back wakes at the base interval, not after a back-off
      expect(offload!.isReadBackArmed).toBe(true);
      t.fake.forward(t.a1.id, t.frame(A, B), A, B);
      vi.advanceTimersByTime(POLL_INTERVAL_MS);
      expect(polls).toBe(1);
      expect(t.core.portStats(t.a1.id).rxFrames).toBe(2); // the native hit read back within one base interval
      t.fake.forward(t.a1.id, t.frame(A, B), A, B); // a hit not read back yet when the table is flushed
      offload!.flush();
      expect(t.core.portStats(t.a1.id).rxFrames).toBe(3); // the flush read it back first
      vi.advanceTimersToNextTimer(); // the read-back already armed runs once more, finds no flow and sleeps
      expect(offload!.isReadBackArmed).toBe(false);
      const pollsAsleep = polls;
      vi.advanceTimersByTime(10_000);
      expect(polls).toBe(pollsAsleep);
      expect(vi.getTimerCount()).toBe(0);
      offload!.followReportRate(() => 20); // a rate change does not wake it either
      expect(vi.getTimerCount()).toBe(0);
      t.p1.inject([t.frame(A, B)]); // a new miss re-installs: awake again, at the new base
      expect(offload!.isReadBackArmed).toBe(true);
      expect(offload!.pollWaitMs).toBe(25);
    } finally {
      vi.useRealTimers();
    }
  });

  it('hands slot traffic to the link layer with absolute times', () => {
    const t = setUp();
    const got: unknown[] = [];
    offload!.onSlotTraffic = (localIndex, traffic) => void got.push({ localIndex, ...traffic });
    t.fake.slotRecords = [7, 1234, 3, 300, 5, 2, 224, -1];
    offload!.poll();
    expect(got).toEqual([{ localIndex: 1234, txPackets: 3, txBytes: 300, lastTxMs: 995, rxPackets: 2, rxBytes: 224, lastRxMs: 1000 }]);
  });

  it('runs on the NativeOffload it is given: the ports get that one with their id', () => {
    const t = setUp();
    expect(offload!.native).toBe(t.fake.native);
    expect(t.p1.givenNatives).toEqual([t.fake.native]);
    expect(t.p2.givenNatives).toEqual([t.fake.native]);
  });

  it('is one per NativeOffload: a second start on the same one is refused until the first stops; another one starts', () => {
    const t = setUp();
    const log = createLogger({ write: () => {} });
    const again = FlowOffload.start({ native: t.fake.native, datapath: t.datapath, clock: { now: () => 0 }, log });
    expect(again).toBeUndefined();

    // A second switch in the same process, on its own NativeOffload, runs its own offload.
    const other = new FakeNative();
    const otherDatapath = new Datapath({ core: new SwitchCore(), clock: { now: () => 0 }, log });
    const second = FlowOffload.start({ native: other.native, datapath: otherDatapath, clock: { now: () => 0 }, log });
    expect(second).toBeDefined();
    expect(second!.native).toBe(other.native);
    second!.stop();

    offload!.stop();
    const restarted = FlowOffload.start({ native: t.fake.native, datapath: t.datapath, clock: { now: () => 0 }, log });
    expect(restarted).toBeDefined();
    offload = restarted;
  });

  it('refuses a closed NativeOffload', () => {
    const log = createLogger({ write: () => {} });
    const datapath = new Datapath({ core: new SwitchCore(), clock: { now: () => 0 }, log });
    const closed = new FakeNative();
    closed.isClosed = true;
    expect(FlowOffload.start({ native: closed.native, datapath, clock: { now: () => 0 }, log })).toBeUndefined();
  });

  it('binds a TCP link to its connection\'s native stream, asks again while there is none, and leaves JS-only TCP alone', () => {
    const { fake, datapath } = setUp();
    const link = datapath.attach(new MemoryPort('h2'), { floods: true });
    const endpoint: Endpoint = { transport: 'tcp', host: '198.18.0.2', port: 51820, connectionId: 3 };
    const binding = { endpoint, txKeypair: undefined, rxKeypairs: [] };
    // A JS-only TCP transport (no stream source): nothing to bind, and nothing to wait for.
    expect(offload!.bind('h2', binding)).toBe(true);
    expect(fake.streamLinks.size).toBe(0);

    const attachedTo: (NativeOffload | null)[] = [];
    const stream = { setOffload: (n: NativeOffload | null) => void attachedTo.push(n) } as unknown as NativeStreamHandle;
    let current: NativeStreamHandle | undefined;
    offload!.setStreamTransport({ nativeStreamOf: (to) => (to === endpoint ? current : undefined) });
    // Not connected yet: unbound, and false so the LinkManager asks again at its next change.
    expect(offload!.bind('h2', binding)).toBe(false);
    current = stream;
    expect(offload!.bind('h2', binding)).toBe(true);
    expect(attachedTo).toEqual([fake.native]);
    expect(fake.streamLinks.get(link.id)).toEqual({ stream, tx: -1 });
    expect(offload!.stats().boundLinks).toBe(1);
    // The link unbound (or gone to another way): its binding leaves the addon.
    expect(offload!.bind('h2', undefined)).toBe(true);
    expect(fake.streamLinks.size).toBe(0);
  });
});

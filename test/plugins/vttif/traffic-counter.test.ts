import { describe, expect, it } from 'vitest';
import { BROADCAST_MAC } from '../../../switch/frame/mac.js';
import { MAX_COUNTED_PAIRS, MAX_UPDATE_ENTRIES, TrafficCounter } from '../../../plugins/vttif/traffic-counter.js';
import { MATRIX_MESSAGE, VTTIF_CONTROL_EXTENSIONS } from '../../../plugins/vttif/control-extensions.js';
import { controlExtensions, encodeControlMessage, MAX_CONTROL_BYTES, parseControlMessage } from '../../../switch/overlay/control-messages.js';

const extensions = controlExtensions(VTTIF_CONTROL_EXTENSIONS);
import { vm } from './simulate.js';

describe('TrafficCounter', () => {
  it('counts frames and bytes per directed pair and drains sorted deltas', () => {
    const counter = new TrafficCounter('h1');
    counter.count(vm(2), vm(1), 100);
    counter.count(vm(1), vm(2), 60);
    counter.count(vm(1), vm(2), 40);
    const update = counter.drain(1234);
    expect(update).toEqual({
      host: 'h1',
      atMs: 1234,
      entries: [
        { src: vm(1), dst: vm(2), frames: 2, bytes: 100 },
        { src: vm(2), dst: vm(1), frames: 1, bytes: 100 },
      ],
    });
  });

  it('resets on drain: the next drain holds only what came after', () => {
    const counter = new TrafficCounter('h1');
    counter.count(vm(1), vm(2), 10);
    counter.drain(0);
    expect(counter.drain(50).entries).toEqual([]);
    counter.count(vm(1), vm(2), 7);
    expect(counter.drain(100).entries).toEqual([{ src: vm(1), dst: vm(2), frames: 1, bytes: 7 }]);
  });

  it('skips broadcast and multicast destinations, and counts them apart', () => {
    const counter = new TrafficCounter('h1');
    counter.count(vm(1), BROADCAST_MAC, 60);
    counter.count(vm(1), 0x01_00_5e_00_00_01, 60);
    counter.count(vm(1), 0x33_33_00_00_00_01, 60);
    counter.count(vm(1), vm(2), 60);
    expect(counter.drain(0).entries).toHaveLength(1);
    expect(counter.stats()).toMatchObject({ countedFrames: 1, skippedGroupFrames: 3 });
  });

  it('keeps a known pair cell across drains and drops a pair idle for a whole interval', () => {
    const counter = new TrafficCounter('h1');
    counter.count(vm(1), vm(2), 1);
    counter.count(vm(3), vm(4), 1);
    counter.drain(0);
    expect(counter.stats().pairs).toBe(2);
    counter.count(vm(1), vm(2), 1);
    counter.drain(50);
    expect(counter.stats().pairs).toBe(1);
  });
});

describe('TrafficCounter: a VM spoofing source MACs', () => {
  const spoof = (i: number) => 0x02_ee_00_00_00_00 + i;

  it('still gets its host matrix to the Proxy within the control message limit, heaviest pairs kept', () => {
    const counter = new TrafficCounter('h1');
    // One real flow, heavy, and 100 000 spoofed sources of one small frame each, all in one interval.
    for (let i = 0; i < 100_000; i++) {
      counter.count(spoof(i), vm(2), 64);
      if (i % 100 === 0) counter.count(vm(1), vm(2), 1500);
    }
    const update = counter.drain(0);
    // What the host sends arrives: the Proxy's parser takes it, under its size limit.
    const wire = encodeControlMessage({ t: 'plugin', type: MATRIX_MESSAGE, body: update }, extensions);
    expect(wire.length).toBeLessThanOrEqual(MAX_CONTROL_BYTES);
    expect(parseControlMessage(wire, extensions)).toMatchObject({ ok: true, message: { type: MATRIX_MESSAGE } });
    expect(update.entries.length).toBeLessThanOrEqual(MAX_UPDATE_ENTRIES);
    expect(update.entries).toContainEqual({ src: vm(1), dst: vm(2), frames: 1000, bytes: 1_500_000 });
    // What was left out is counted, not lost silently; and memory is bounded while it lasts.
    const stats = counter.stats();
    expect(stats.overflowFrames).toBe(100_000 + 1000 - update.entries.reduce((n, e) => n + e.frames, 0));
    expect(stats.pairs).toBeLessThanOrEqual(MAX_UPDATE_ENTRIES);
    expect(stats.truncatedUpdates).toBe(1);
  });

  it('fits the largest update it may send, with counts of 16 digits, under the control message limit', () => {
    const counter = new TrafficCounter('h'.repeat(32));
    for (let i = 0; i < MAX_UPDATE_ENTRIES; i++) {
      counter.count(0xfe_ff_ff_ff_ff_ff - i, 0xfe_ff_ff_ff_ff_ff - i - 1, Number.MAX_SAFE_INTEGER);
    }
    const update = counter.drain(123_456_789.123_456);
    const big = { ...update, entries: update.entries.map((e) => ({ ...e, frames: Number.MAX_SAFE_INTEGER })) };
    expect(big.entries).toHaveLength(MAX_UPDATE_ENTRIES);
    const wire = encodeControlMessage({ t: 'plugin', type: MATRIX_MESSAGE, body: big }, extensions);
    expect(wire.length).toBeLessThanOrEqual(MAX_CONTROL_BYTES);
  });

  it('holds at most MAX_COUNTED_PAIRS cells in an interval; later new pairs are counted as overflow', () => {
    const counter = new TrafficCounter('h1');
    for (let i = 0; i < MAX_COUNTED_PAIRS + 10; i++) counter.count(spoof(i), vm(2), 60);
    expect(counter.stats().pairs).toBe(MAX_COUNTED_PAIRS);
    expect(counter.stats().overflowFrames).toBe(10);
    // A pair that already has a cell keeps counting.
    counter.count(spoof(0), vm(2), 60);
    expect(counter.drain(0).entries.find((e) => e.src === spoof(0))?.frames).toBe(2);
  });
});

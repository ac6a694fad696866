import { describe, expect, it } from 'vitest';
import { BROADCAST_MAC } from '../../../switch/frame/mac.js';
import { TrafficCounter } from '../../../plugins/vttif/traffic-counter.js';
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

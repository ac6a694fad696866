import { describe, expect, it } from 'vitest';
import { Aggregator } from '../../../plugins/vttif/aggregator.js';
import { vm } from './simulate.js';

const entry = (src: number, dst: number, bytes: number, frames = 1) => ({ src: vm(src), dst: vm(dst), frames, bytes });

describe('Aggregator', () => {
  it('sums the updates of the window and forgets those older than smoothingMs (by arrival time)', () => {
    const aggregator = new Aggregator(1000);
    aggregator.ingest('h1', [entry(1, 2, 100)], 0);
    aggregator.ingest('h1', [entry(1, 2, 50)], 500);
    expect(aggregator.matrix(900).pairs).toEqual([{ a: vm(1), b: vm(2), bytes: 150, frames: 2 }]);
    // (now − 1000, now]: the update of t=0 leaves at t=1000 exactly.
    expect(aggregator.matrix(1000).pairs).toEqual([{ a: vm(1), b: vm(2), bytes: 50, frames: 1 }]);
    expect(aggregator.matrix(1500).pairs).toEqual([]);
    expect(aggregator.windowUpdates).toBe(0);
  });

  it('folds both directions into one undirected pair with a < b', () => {
    const aggregator = new Aggregator(1000);
    aggregator.ingest('h1', [entry(2, 1, 30), entry(1, 2, 70), entry(1, 3, 5)], 0);
    expect(aggregator.matrix(10)).toEqual({
      windowMs: 1000,
      pairs: [
        { a: vm(1), b: vm(2), bytes: 100, frames: 2 },
        { a: vm(1), b: vm(3), bytes: 5, frames: 1 },
      ],
    });
  });

  it('does not double count a frame seen by the sender’s and the receiver’s host (max across hosts)', () => {
    const aggregator = new Aggregator(1000);
    aggregator.ingest('h1', [entry(1, 2, 100)], 0);
    aggregator.ingest('h2', [entry(1, 2, 100)], 10);
    aggregator.ingest('h2', [entry(1, 2, 20)], 60);
    expect(aggregator.matrix(100).pairs).toEqual([{ a: vm(1), b: vm(2), bytes: 120, frames: 2 }]);
  });

  it('ignores self pairs', () => {
    const aggregator = new Aggregator(1000);
    aggregator.ingest('h1', [entry(1, 1, 100)], 0);
    expect(aggregator.matrix(1).pairs).toEqual([]);
  });

  it('a shorter window applies at once', () => {
    const aggregator = new Aggregator(10_000);
    aggregator.ingest('h1', [entry(1, 2, 100)], 0);
    aggregator.ingest('h1', [entry(1, 2, 1)], 4000);
    aggregator.setSmoothingMs(2000);
    expect(aggregator.matrix(5000).pairs[0]?.bytes).toBe(1);
  });

  it('stays exact over many windows (running sums return to zero)', () => {
    const aggregator = new Aggregator(200);
    for (let t = 0; t < 100_000; t += 50) aggregator.ingest('h1', [entry(1, 2, 1500, 1), entry(2, 3, 64, 1)], t);
    expect(aggregator.matrix(100_000).pairs.map((p) => p.bytes)).toEqual([3 * 1500, 3 * 64]);
    expect(aggregator.matrix(200_000).pairs).toEqual([]);
  });
});

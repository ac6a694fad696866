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

describe('Aggregator: a VM that moves', () => {
  // vm(1) lives on h1 and talks to vm(3) on h3; both hosts count both directions (sent by one, received by the other).
  const both = (a: Aggregator, hosts: [string, string], atMs: number) => {
    for (const host of hosts) a.ingest(host, [entry(1, 3, 100), entry(3, 1, 100)], atMs);
  };

  it('counts its pairs from the new host once the old host\'s reports have left the window, never twice', () => {
    const a = new Aggregator(1000);
    for (let t = 0; t < 1000; t += 100) both(a, ['h1', 'h3'], t);
    expect(a.reporters(950)).toEqual(new Map([[`${vm(1)}-${vm(3)}`, ['h1', 'h3']]]));
    const steady = a.matrix(950).pairs[0]!.bytes;
    expect(steady).toBe(2 * 10 * 100); // both directions, counted once each (max across hosts, not the sum)
    // vm(1) moves to h2 at t=1000: h1 stops reporting it, h2 starts.
    for (let t = 1000; t < 1500; t += 100) both(a, ['h2', 'h3'], t);
    // Inside the window both h1's old updates and h2's new ones are there: the maximum, not their sum.
    expect(a.reporters(1450).get(`${vm(1)}-${vm(3)}`)).toEqual(['h1', 'h2', 'h3']);
    expect(a.matrix(1450).pairs[0]!.bytes).toBe(steady);
    for (let t = 1500; t < 2500; t += 100) both(a, ['h2', 'h3'], t);
    // Once the window has passed the move, h1 is gone: the pair is at h2 (and h3), at the same intensity.
    expect(a.reporters(2450).get(`${vm(1)}-${vm(3)}`)).toEqual(['h2', 'h3']);
    expect(a.matrix(2450).pairs).toEqual([{ a: vm(1), b: vm(3), bytes: steady, frames: 20 }]);
  });

  it('a pair both of whose VMs moved at once is undercounted for one window only (no host saw all of it)', () => {
    const a = new Aggregator(1000);
    for (let t = 0; t < 500; t += 100) both(a, ['h1', 'h3'], t);
    for (let t = 500; t < 1000; t += 100) both(a, ['h2', 'h4'], t);
    expect(a.matrix(950).pairs[0]!.bytes).toBe(2 * 5 * 100); // half: the maximum of two halves
    for (let t = 1000; t < 2000; t += 100) both(a, ['h2', 'h4'], t);
    expect(a.matrix(1950).pairs[0]!.bytes).toBe(2 * 10 * 100);
    expect(a.reporters(1950).get(`${vm(1)}-${vm(3)}`)).toEqual(['h2', 'h4']);
  });
});

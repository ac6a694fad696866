/**
 * matrix-delta.ts against an oracle: over random matrices that grow, shrink, drift and jump (seeded), what a
 * subscriber holds after applying every event it was sent equals the matrix now within the threshold, has exactly
 * its pairs, and the tracker holds no more than the matrix it last saw.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../scripts/lib/seeded-random.js';
import {
  applyMatrixDelta,
  DEFAULT_MATRIX_DELTA,
  MatrixDeltaTracker,
  movedEnough,
  type DeltaPair,
  type MatrixDelta,
  type MatrixLike,
} from '../../../plugins/vttif/matrix-delta.js';

const mac = (i: number): string => `02:00:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
const key = (p: { a: string; b: string }): string => `${p.a} ${p.b}`;
const pair = (i: number, j: number, bytes: number, hosts?: string[]): DeltaPair => ({ a: mac(i), b: mac(j), bytes, frames: Math.ceil(bytes / 1000), ...(hosts ? { hosts } : {}) });
const matrixOf = (pairs: Map<string, DeltaPair>, windowMs = 1000): MatrixLike => ({ windowMs, pairs: [...pairs.values()] });

type Held = ReturnType<typeof applyMatrixDelta>;

/** The oracle: `held` has exactly the matrix's pairs, each within the threshold of the matrix's value, same hosts. */
function expectWithinThreshold(held: Held, matrix: MatrixLike): void {
  expect(held).toBeDefined();
  expect([...held!.pairs.keys()].sort()).toEqual(matrix.pairs.map(key).sort());
  for (const p of matrix.pairs) {
    const got = held!.pairs.get(key(p))!;
    expect(movedEnough(got.bytes, p.bytes, DEFAULT_MATRIX_DELTA), `${key(p)}: held ${got.bytes}, now ${p.bytes}`).toBe(false);
    expect(got.hosts).toEqual(p.hosts);
  }
}

describe('matrix-delta: a subscriber holds the matrix within the threshold', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`over 200 random ticks (seed ${seed})`, () => {
      const random = seededRandom(seed);
      const vms = 30;
      const truth = new Map<string, DeltaPair>();
      const tracker = new MatrixDeltaTracker();
      let held: Held;
      let fulls = 0;
      for (let tick = 0; tick < 200; tick++) {
        // Drift every pair a little, jump some, add and remove some; now and then a pair changes host.
        for (const [k, p] of truth) {
          const r = random();
          if (r < 0.05) truth.delete(k);
          else if (r < 0.15) truth.set(k, { ...p, bytes: Math.floor(random() * 2_000_000) });
          else if (r < 0.17) truth.set(k, { ...p, hosts: ['h9'] });
          else truth.set(k, { ...p, bytes: Math.max(0, Math.floor(p.bytes * (1 + (random() - 0.5) * 0.06))) });
        }
        for (let n = Math.floor(random() * 8); n > 0; n--) {
          const i = Math.floor(random() * vms);
          const j = i + 1 + Math.floor(random() * (vms - i));
          const p = pair(i, j, Math.floor(random() * (random() < 0.3 ? 3000 : 1_000_000)), random() < 0.5 ? ['h1'] : undefined);
          truth.set(key(p), p);
        }
        const matrix = matrixOf(truth);
        const delta = tracker.next(matrix);
        if (delta) {
          if (delta.full) fulls++;
          held = applyMatrixDelta(held, delta);
        }
        expectWithinThreshold(held, matrix);
        expect(tracker.size).toBe(truth.size);
      }
      // The first tick, then every 30.
      expect(fulls).toBe(Math.ceil(200 / DEFAULT_MATRIX_DELTA.fullEverySeconds));
    });
  }

  it('the first event is the whole matrix; a steady matrix sends nothing; small noise on a tiny pair neither', () => {
    const tracker = new MatrixDeltaTracker();
    const m = matrixOf(new Map([[key(pair(1, 2, 1_000_000)), pair(1, 2, 1_000_000)], [key(pair(1, 3, 100)), pair(1, 3, 100)]]));
    const first = tracker.next(m)!;
    expect(first).toMatchObject({ seq: 1, full: true, removed: [] });
    expect(first.pairs).toHaveLength(2);
    expect(tracker.next(m)).toBeUndefined();
    // +5 % on the big pair (under 10 %), ×30 on the tiny one (under the 4096-byte floor): nothing.
    const noisy = matrixOf(new Map([[key(pair(1, 2, 0)), pair(1, 2, 1_050_000)], [key(pair(1, 3, 0)), pair(1, 3, 3000)]]));
    expect(tracker.next(noisy)).toBeUndefined();
    // +20 % against the value sent (not the last tick's): sent.
    const moved = matrixOf(new Map([[key(pair(1, 2, 0)), pair(1, 2, 1_200_000)], [key(pair(1, 3, 0)), pair(1, 3, 3000)]]));
    expect(tracker.next(moved)).toEqual({ seq: 2, full: false, windowMs: 1000, pairs: [pair(1, 2, 1_200_000)], removed: [] });
  });

  it('a pair that went away is sent as removed, once, and forgotten', () => {
    const tracker = new MatrixDeltaTracker();
    const both = new Map([[key(pair(1, 2, 10_000)), pair(1, 2, 10_000)], [key(pair(3, 4, 10_000)), pair(3, 4, 10_000)]]);
    tracker.next(matrixOf(both));
    both.delete(key(pair(3, 4, 0)));
    expect(tracker.next(matrixOf(both))).toEqual({ seq: 2, full: false, windowMs: 1000, pairs: [], removed: [{ a: mac(3), b: mac(4) }] });
    expect(tracker.size).toBe(1);
    expect(tracker.next(matrixOf(both))).toBeUndefined();
    both.clear();
    expect(tracker.next(matrixOf(both))?.removed).toEqual([{ a: mac(1), b: mac(2) }]);
    expect(tracker.size).toBe(0);
  });

  it('re-syncs with the whole matrix when told the subscriber lost events, and when the window changes', () => {
    const tracker = new MatrixDeltaTracker();
    const m = new Map([[key(pair(1, 2, 10_000)), pair(1, 2, 10_000)]]);
    tracker.next(matrixOf(m));
    expect(tracker.next(matrixOf(m))).toBeUndefined();
    expect(tracker.next(matrixOf(m), true)).toMatchObject({ seq: 2, full: true, pairs: [pair(1, 2, 10_000)] });
    expect(tracker.next(matrixOf(m, 2000))).toMatchObject({ seq: 3, full: true, windowMs: 2000 });
  });

  it('a subscriber that missed a delta sees the gap in seq and waits for the full one', () => {
    const tracker = new MatrixDeltaTracker();
    const m = new Map<string, DeltaPair>();
    const sent: MatrixDelta[] = [];
    for (let i = 1; i <= 4; i++) {
      m.set(key(pair(i, 50, 0)), pair(i, 50, 10_000 * i));
      sent.push(tracker.next(matrixOf(m))!);
    }
    let held = applyMatrixDelta(undefined, sent[0]!);
    expect(applyMatrixDelta(held, sent[2]!)).toBeUndefined(); // sent[1] lost
    held = applyMatrixDelta(held, sent[1]!);
    expect(applyMatrixDelta(held, sent[2]!)?.pairs.size).toBe(3);
    expect(applyMatrixDelta(undefined, sent[3]!)).toBeUndefined(); // nothing held, not full
    const resync = tracker.next(matrixOf(m), true)!;
    expectWithinThreshold(applyMatrixDelta(undefined, resync), matrixOf(m));
  });

  it('memory per subscriber stays the matrix it last saw, whatever the churn', () => {
    const tracker = new MatrixDeltaTracker();
    for (let tick = 0; tick < 100; tick++) {
      // 50 different pairs each tick: 5 000 pairs came and went.
      const m = new Map<string, DeltaPair>();
      for (let k = 0; k < 50; k++) {
        const p = pair(tick * 50 + k, 60_000, 10_000);
        m.set(key(p), p);
      }
      tracker.next(matrixOf(m));
      expect(tracker.size).toBe(50);
    }
  });
});

/**
 * `matrix-delta`: VTTIF's global matrix for one subscriber as changes against what that subscriber was last sent.
 * The first event is the whole matrix (`full`), then only pairs that appeared, moved by more than the threshold
 * from the value last sent, changed hosts, or went away (`removed`); a full matrix again every `fullEverySeconds`,
 * when the window changes, and when the caller says the subscriber lost events (`resync`).
 *
 * Pure: time is the caller's ticks; what it keeps is one number and one string per pair last sent, so at most the
 * pairs of the matrix it last saw (a removed pair is forgotten).
 */

/** A pair as the wire carries it (the `matrix` event's pairs: MACs as text; `hosts` where the matrix has them). */
export interface DeltaPair {
  readonly a: string;
  readonly b: string;
  readonly bytes: number;
  readonly frames: number;
  readonly hosts?: readonly string[];
}

export interface MatrixDelta {
  /** This subscriber's delta number: 1, 2, 3… with no gap while nothing is lost. */
  readonly seq: number;
  /** True: `pairs` is the whole matrix (forget what was held). False: apply `pairs` and `removed` to it. */
  readonly full: boolean;
  readonly windowMs: number;
  readonly pairs: DeltaPair[];
  readonly removed: { a: string; b: string }[];
}

export interface MatrixDeltaSettings {
  /** A pair is sent again when its bytes moved by more than this fraction of the value last sent… */
  readonly relativeThreshold: number;
  /** …and by more than this many bytes (over the window): noise on tiny pairs does not count. */
  readonly absoluteFloorBytes: number;
  /** A full matrix again after this many ticks, whatever happened. */
  readonly fullEverySeconds: number;
}

export const DEFAULT_MATRIX_DELTA: MatrixDeltaSettings = { relativeThreshold: 0.1, absoluteFloorBytes: 4096, fullEverySeconds: 30 };

/** The wire form of a matrix's pairs as the `matrix` event has them (anything it carries beyond is passed on). */
export interface MatrixLike {
  readonly windowMs: number;
  readonly pairs: readonly DeltaPair[];
}

interface Sent {
  bytes: number;
  hosts: string;
}

const keyOf = (a: string, b: string): string => `${a} ${b}`;
const hostsKey = (pair: DeltaPair): string => pair.hosts?.join(',') ?? '';

/** True when `now` differs from `sent` enough to be sent again. */
export function movedEnough(sentBytes: number, nowBytes: number, settings: MatrixDeltaSettings): boolean {
  const change = Math.abs(nowBytes - sentBytes);
  return change > settings.absoluteFloorBytes && change > settings.relativeThreshold * sentBytes;
}

export class MatrixDeltaTracker {
  private sent = new Map<string, Sent>();
  private windowMs: number | undefined;
  private seq = 0;
  private ticksSinceFull = 0;
  private needFull = true;

  constructor(private readonly settings: MatrixDeltaSettings = DEFAULT_MATRIX_DELTA) {}

  /** How many pairs it holds (what the subscriber was last sent). */
  get size(): number {
    return this.sent.size;
  }

  /**
   * One tick: what to send this subscriber for `matrix` (undefined: nothing changed). `resync`: the subscriber lost
   * something since the last tick (a drop, a new stream), so it gets the whole matrix.
   */
  next(matrix: MatrixLike, resync = false): MatrixDelta | undefined {
    this.ticksSinceFull++;
    if (resync || this.needFull || this.windowMs !== matrix.windowMs || this.ticksSinceFull >= this.settings.fullEverySeconds) return this.full(matrix);
    const pairs: DeltaPair[] = [];
    const seen = new Set<string>();
    for (const pair of matrix.pairs) {
      const key = keyOf(pair.a, pair.b);
      seen.add(key);
      const last = this.sent.get(key);
      const hosts = hostsKey(pair);
      if (last !== undefined && last.hosts === hosts && !movedEnough(last.bytes, pair.bytes, this.settings)) continue;
      this.sent.set(key, { bytes: pair.bytes, hosts });
      pairs.push(pair);
    }
    const removed: { a: string; b: string }[] = [];
    for (const key of this.sent.keys()) {
      if (seen.has(key)) continue;
      this.sent.delete(key);
      const [a, b] = key.split(' ') as [string, string];
      removed.push({ a, b });
    }
    if (pairs.length === 0 && removed.length === 0) return undefined;
    return { seq: ++this.seq, full: false, windowMs: matrix.windowMs, pairs, removed };
  }

  private full(matrix: MatrixLike): MatrixDelta {
    this.sent = new Map(matrix.pairs.map((p) => [keyOf(p.a, p.b), { bytes: p.bytes, hosts: hostsKey(p) }]));
    this.windowMs = matrix.windowMs;
    this.ticksSinceFull = 0;
    this.needFull = false;
    return { seq: ++this.seq, full: true, windowMs: matrix.windowMs, pairs: [...matrix.pairs], removed: [] };
  }
}

/**
 * What a subscriber holds after applying `delta` to `held` (a new map; undefined held: nothing yet). A delta that
 * does not follow the one before (a gap in `seq`) cannot be applied: undefined, wait for the next full matrix.
 */
export function applyMatrixDelta(
  held: { seq: number; pairs: Map<string, DeltaPair> } | undefined,
  delta: MatrixDelta,
): { seq: number; pairs: Map<string, DeltaPair> } | undefined {
  if (delta.full) return { seq: delta.seq, pairs: new Map(delta.pairs.map((p) => [keyOf(p.a, p.b), p])) };
  if (held === undefined || delta.seq !== held.seq + 1) return undefined;
  const pairs = new Map(held.pairs);
  for (const p of delta.pairs) pairs.set(keyOf(p.a, p.b), p);
  for (const r of delta.removed) pairs.delete(keyOf(r.a, r.b));
  return { seq: delta.seq, pairs };
}

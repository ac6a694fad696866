/**
 * Aggregator: the Proxy's global traffic matrix over the smoothing window.
 *
 * The paper's smoothing interval is "the window over which the global traffic matrix on the Proxy is aggregated
 * from the updates received from the other VNET daemons ... a low-passed view of the application's behavior".
 * Here the window is (nowMs − smoothingMs, nowMs] in the Proxy's clock: an update belongs to the window by its
 * ARRIVAL time, because hosts' clocks are not comparable with the Proxy's (`update.atMs` is kept only for display).
 *
 * Running sums, not recomputation: each update's entries are added on ingest and subtracted when it leaves the
 * window, so `matrix()` costs O(pairs), whatever the update rate.
 *
 * Double counting: a frame between VMs on two different hosts is seen by both (the sender's host counts it sent,
 * the receiver's host counts it received); a frame between two VMs of one host is seen once. So for each directed
 * pair the Proxy keeps one window sum per reporting host and takes the MAXIMUM across hosts, not the sum. Then
 * each undirected pair is the sum of its two directions.
 *
 * A VM that moves (issue #16). Its old host stops counting its pairs (its port is gone, and what still arrives there
 * for it goes up the default rule, not to a VM port: not counted), its new host starts. The old host's sums stay only
 * as long as the updates they came in — the window — and are never added to the new host's (the maximum again), so a
 * move neither double-counts nor keeps the old attribution past smoothingMs: `reporters()` names the hosts whose
 * updates are in the window, and after it only the new host (and the peer's) are left. The maximum does hide, for
 * that one window, the part of the traffic the old host saw when NEITHER end of a pair stayed put (both moved at
 * once); with one end fixed, that end's host counted the whole window.
 */
import type { Mac } from '../../switch/frame/mac.js';
import type { GlobalMatrix, MatrixEntry, PairTraffic } from './matrix.js';

interface HostSum {
  frames: number;
  bytes: number;
}

interface DirectedSums {
  readonly src: Mac;
  readonly dst: Mac;
  readonly byHost: Map<string, HostSum>;
}

interface WindowedUpdate {
  readonly receivedMs: number;
  readonly host: string;
  readonly entries: readonly MatrixEntry[];
}

export class Aggregator {
  #smoothingMs: number;
  /** Updates in arrival order; [#head, length) are in the window. */
  #queue: WindowedUpdate[] = [];
  #head = 0;
  readonly #sums = new Map<string, DirectedSums>();

  constructor(smoothingMs: number) {
    this.#smoothingMs = smoothingMs;
  }

  get smoothingMs(): number {
    return this.#smoothingMs;
  }

  /** A shorter window takes effect at the next expire; a longer one cannot bring back what already left. */
  setSmoothingMs(smoothingMs: number): void {
    this.#smoothingMs = smoothingMs;
  }

  /** The caller has validated the update (isValidMatrixUpdate). */
  ingest(host: string, entries: readonly MatrixEntry[], nowMs: number): void {
    this.expire(nowMs);
    if (entries.length === 0) return;
    this.#queue.push({ receivedMs: nowMs, host, entries });
    for (const entry of entries) this.#apply(host, entry, 1);
  }

  /** Drops the updates that arrived at or before nowMs − smoothingMs. */
  expire(nowMs: number): void {
    const oldestKeptMs = nowMs - this.#smoothingMs;
    while (this.#head < this.#queue.length) {
      const update = this.#queue[this.#head]!;
      if (update.receivedMs > oldestKeptMs) break;
      for (const entry of update.entries) this.#apply(update.host, entry, -1);
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Updates currently in the window. */
  get windowUpdates(): number {
    return this.#queue.length - this.#head;
  }

  matrix(nowMs: number): GlobalMatrix {
    this.expire(nowMs);
    const pairs = new Map<string, { a: Mac; b: Mac; bytes: number; frames: number }>();
    for (const directed of this.#sums.values()) {
      let bytes = 0;
      let frames = 0;
      for (const sum of directed.byHost.values()) {
        if (sum.bytes > bytes) bytes = sum.bytes;
        if (sum.frames > frames) frames = sum.frames;
      }
      const a = Math.min(directed.src, directed.dst);
      const b = Math.max(directed.src, directed.dst);
      const key = pairKey(a, b);
      const pair = pairs.get(key);
      if (pair === undefined) pairs.set(key, { a, b, bytes, frames });
      else {
        pair.bytes += bytes;
        pair.frames += frames;
      }
    }
    const sorted: PairTraffic[] = [...pairs.values()].sort((x, y) => x.a - y.a || x.b - y.b);
    return { windowMs: this.#smoothingMs, pairs: sorted };
  }

  /** For each undirected pair (pairKey), the hosts whose updates in the window count it, sorted. */
  reporters(nowMs: number): Map<string, string[]> {
    this.expire(nowMs);
    const hosts = new Map<string, Set<string>>();
    for (const directed of this.#sums.values()) {
      const key = pairKey(directed.src, directed.dst);
      const set = hosts.get(key) ?? new Set<string>();
      for (const host of directed.byHost.keys()) set.add(host);
      hosts.set(key, set);
    }
    return new Map([...hosts].map(([key, set]) => [key, [...set].sort()]));
  }

  #apply(host: string, entry: MatrixEntry, sign: 1 | -1): void {
    if (entry.src === entry.dst) return;
    const key = `${entry.src}>${entry.dst}`;
    let directed = this.#sums.get(key);
    if (directed === undefined) {
      if (sign < 0) return;
      directed = { src: entry.src, dst: entry.dst, byHost: new Map() };
      this.#sums.set(key, directed);
    }
    let sum = directed.byHost.get(host);
    if (sum === undefined) {
      if (sign < 0) return;
      sum = { frames: 0, bytes: 0 };
      directed.byHost.set(host, sum);
    }
    sum.frames += sign * entry.frames;
    sum.bytes += sign * entry.bytes;
    if (sum.frames <= 0 && sum.bytes <= 0) {
      directed.byHost.delete(host);
      if (directed.byHost.size === 0) this.#sums.delete(key);
    }
  }
}

/** An undirected pair's key: `${lower}-${higher}`. */
export function pairKey(x: Mac, y: Mac): string {
  return x < y ? `${x}-${y}` : `${y}-${x}`;
}

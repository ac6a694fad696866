/**
 * TrafficCounter: the host side of VTTIF, on the data path.
 *
 * The data path calls `count(src, dst, bytes)` for every frame a local VM sends or receives (the paper: "each
 * Ethernet packet that a VNET daemon receives from or delivers to a local VM"). It must cost next to nothing
 * next to the ~5 µs the data path spends per frame, so:
 *   - two-level Map<src, Map<dst, Cell>> keyed by the numeric Mac: no string keys, no allocation for a known pair
 *     (a Cell is mutated in place), and the last pair's Cell is cached, since frames come in bursts of a flow;
 *   - group destinations (broadcast, multicast) are skipped at once: ARP and discovery chatter is not application
 *     topology, and counting them per pair would make every VM look adjacent to ff:ff:ff:ff:ff:ff;
 *   - never throws.
 * At the update rate the edge calls `drain(nowMs)`, which returns the deltas since the previous drain and zeroes
 * the cells. A cell that stayed at zero for a whole update interval is dropped, so a host whose VMs stop talking
 * to a peer does not keep it forever; a pair that resumes allocates one Cell again.
 *
 * Bounded, since a VM chooses its source MACs: a VM spoofing a new MAC per frame must not grow the host's memory
 * nor its update past what the Proxy accepts (control-messages.ts MAX_CONTROL_BYTES; an update over it would be
 * refused there, and the host's matrix would silently stop arriving). So:
 *   - at most MAX_COUNTED_PAIRS cells exist; a frame of a new pair while they are all taken is not given one,
 *     and is counted in `overflowFrames`/`overflowBytes` (a pair that already has a cell keeps counting);
 *   - an update carries at most MAX_UPDATE_ENTRIES entries: the heaviest by bytes (then frames). The rest are
 *     added to `overflowFrames`/`overflowBytes`, their cells dropped, and `truncatedUpdates` counts the update.
 *     So the pairs that carried the most traffic in an interval keep their cells into the next one, and at most
 *     MAX_UPDATE_ENTRIES cells survive a drain: the next interval has room for new pairs.
 * No "other" entry is sent (it would need a MAC); the overflow counters are the host's to expose.
 *
 * `whenCounting(fn)` calls fn once, at the next frame counted: the reporter sleeps (no timer) while the counter is
 * empty and is woken by the first frame, so an idle host spends no wake-ups on VTTIF. One field test per frame.
 */
import { isMulticast, type Mac } from '../../switch/frame/mac.js';
import type { MatrixEntry, MatrixUpdate } from './matrix.js';

interface Cell {
  frames: number;
  bytes: number;
}

/** Cells held at most (about 100 bytes each). */
export const MAX_COUNTED_PAIRS = 4096;
/**
 * Entries in one update at most. An entry is at most 105 bytes of JSON (two MACs, two 16-digit counts), so 512 of
 * them and the envelope fit the control channel's 60 000 bytes (traffic-counter.test.ts checks the largest).
 */
export const MAX_UPDATE_ENTRIES = 512;

export interface TrafficCounterStats {
  /** Frames counted into the matrix since creation. */
  readonly countedFrames: number;
  /** Frames to group destinations, skipped. */
  readonly skippedGroupFrames: number;
  /** Pairs currently held. */
  readonly pairs: number;
  /** Frames (bytes) counted but in no update: new pairs while the cells were all taken, and pairs cut from updates. */
  readonly overflowFrames: number;
  readonly overflowBytes: number;
  /** Updates that had more pairs than MAX_UPDATE_ENTRIES and were cut to the heaviest. */
  readonly truncatedUpdates: number;
}

export class TrafficCounter {
  readonly host: string;
  readonly #rows = new Map<Mac, Map<Mac, Cell>>();
  #countedFrames = 0;
  #skippedGroupFrames = 0;
  #cells = 0;
  #overflowFrames = 0;
  #overflowBytes = 0;
  #truncatedUpdates = 0;
  /** The last pair's cell: a burst of one flow skips both Map lookups. Reset by drain (which may drop cells). */
  #lastSrc: Mac = -1;
  #lastDst: Mac = -1;
  #lastCell: Cell | undefined;
  #onNextCount: (() => void) | undefined;

  constructor(host: string) {
    this.host = host;
  }

  /**
   * `frames` wire frames (default 1: a super-frame counts what it stands for) of `bytes` in all from src to dst.
   * O(1); allocates only for a pair not seen since its cell was dropped.
   */
  count(src: Mac, dst: Mac, bytes: number, frames = 1): void {
    if (isMulticast(dst)) {
      this.#skippedGroupFrames += frames;
      return;
    }
    this.#countedFrames += frames;
    if (this.#onNextCount !== undefined) {
      const wake = this.#onNextCount;
      this.#onNextCount = undefined;
      wake();
    }
    if (src === this.#lastSrc && dst === this.#lastDst && this.#lastCell !== undefined) {
      this.#lastCell.frames += frames;
      this.#lastCell.bytes += bytes;
      return;
    }
    let row = this.#rows.get(src);
    let cell = row?.get(dst);
    if (cell === undefined) {
      if (this.#cells >= MAX_COUNTED_PAIRS) {
        this.#overflowFrames += frames;
        this.#overflowBytes += bytes;
        return;
      }
      if (row === undefined) {
        row = new Map();
        this.#rows.set(src, row);
      }
      cell = { frames, bytes };
      row.set(dst, cell);
      this.#cells++;
    } else {
      cell.frames += frames;
      cell.bytes += bytes;
    }
    this.#lastSrc = src;
    this.#lastDst = dst;
    this.#lastCell = cell;
  }

  /**
   * The deltas since the previous drain (at most MAX_UPDATE_ENTRIES, the heaviest), then zeroes them. Entries are
   * sorted by (src, dst).
   */
  drain(nowMs: number): MatrixUpdate {
    this.#lastCell = undefined;
    let entries: MatrixEntry[] = [];
    for (const [src, row] of this.#rows) {
      for (const [dst, cell] of row) {
        if (cell.frames === 0) {
          row.delete(dst);
          this.#cells--;
          continue;
        }
        entries.push({ src, dst, frames: cell.frames, bytes: cell.bytes });
        cell.frames = 0;
        cell.bytes = 0;
      }
      if (row.size === 0) this.#rows.delete(src);
    }
    if (entries.length > MAX_UPDATE_ENTRIES) {
      entries.sort((x, y) => y.bytes - x.bytes || y.frames - x.frames || x.src - y.src || x.dst - y.dst);
      for (let i = MAX_UPDATE_ENTRIES; i < entries.length; i++) {
        const cut = entries[i]!;
        this.#overflowFrames += cut.frames;
        this.#overflowBytes += cut.bytes;
        const row = this.#rows.get(cut.src)!;
        row.delete(cut.dst);
        this.#cells--;
        if (row.size === 0) this.#rows.delete(cut.src);
      }
      entries = entries.slice(0, MAX_UPDATE_ENTRIES);
      this.#truncatedUpdates++;
    }
    entries.sort((x, y) => x.src - y.src || x.dst - y.dst);
    return { host: this.host, atMs: nowMs, entries };
  }

  /** Calls `fn` once, at the next counted frame (replacing an earlier one not called yet). */
  whenCounting(fn: (() => void) | undefined): void {
    this.#onNextCount = fn;
  }

  /** True when no pair holds a cell: a drain now would return nothing. */
  get isEmpty(): boolean {
    return this.#cells === 0;
  }

  stats(): TrafficCounterStats {
    return {
      countedFrames: this.#countedFrames,
      skippedGroupFrames: this.#skippedGroupFrames,
      pairs: this.#cells,
      overflowFrames: this.#overflowFrames,
      overflowBytes: this.#overflowBytes,
      truncatedUpdates: this.#truncatedUpdates,
    };
  }
}

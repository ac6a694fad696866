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
 */
import { isMulticast, type Mac } from '../../switch/frame/mac.js';
import type { MatrixEntry, MatrixUpdate } from './matrix.js';

interface Cell {
  frames: number;
  bytes: number;
}

export interface TrafficCounterStats {
  /** Frames counted into the matrix since creation. */
  readonly countedFrames: number;
  /** Frames to group destinations, skipped. */
  readonly skippedGroupFrames: number;
  /** Pairs currently held. */
  readonly pairs: number;
}

export class TrafficCounter {
  readonly host: string;
  readonly #rows = new Map<Mac, Map<Mac, Cell>>();
  #countedFrames = 0;
  #skippedGroupFrames = 0;
  /** The last pair's cell: a burst of one flow skips both Map lookups. Reset by drain (which may drop cells). */
  #lastSrc: Mac = -1;
  #lastDst: Mac = -1;
  #lastCell: Cell | undefined;

  constructor(host: string) {
    this.host = host;
  }

  /** One frame of `bytes` from src to dst. O(1); allocates only for a pair not seen since its cell was dropped. */
  count(src: Mac, dst: Mac, bytes: number): void {
    if (isMulticast(dst)) {
      this.#skippedGroupFrames++;
      return;
    }
    this.#countedFrames++;
    if (src === this.#lastSrc && dst === this.#lastDst && this.#lastCell !== undefined) {
      this.#lastCell.frames++;
      this.#lastCell.bytes += bytes;
      return;
    }
    let row = this.#rows.get(src);
    if (row === undefined) {
      row = new Map();
      this.#rows.set(src, row);
    }
    let cell = row.get(dst);
    if (cell === undefined) {
      cell = { frames: 1, bytes };
      row.set(dst, cell);
    } else {
      cell.frames++;
      cell.bytes += bytes;
    }
    this.#lastSrc = src;
    this.#lastDst = dst;
    this.#lastCell = cell;
  }

  /** The deltas since the previous drain, then zeroes them. Entries are sorted by (src, dst). */
  drain(nowMs: number): MatrixUpdate {
    this.#lastCell = undefined;
    const entries: MatrixEntry[] = [];
    for (const [src, row] of this.#rows) {
      for (const [dst, cell] of row) {
        if (cell.frames === 0) {
          row.delete(dst);
          continue;
        }
        entries.push({ src, dst, frames: cell.frames, bytes: cell.bytes });
        cell.frames = 0;
        cell.bytes = 0;
      }
      if (row.size === 0) this.#rows.delete(src);
    }
    entries.sort((x, y) => x.src - y.src || x.dst - y.dst);
    return { host: this.host, atMs: nowMs, entries };
  }

  stats(): TrafficCounterStats {
    let pairs = 0;
    for (const row of this.#rows.values()) pairs += row.size;
    return { countedFrames: this.#countedFrames, skippedGroupFrames: this.#skippedGroupFrames, pairs };
  }
}

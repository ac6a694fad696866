/**
 * VTTIF traffic matrices: the types that cross from the host daemons to the Proxy.
 *
 * A host daemon counts, per (source MAC, destination MAC), the frames and bytes its local VMs send and receive
 * (TrafficCounter), and at the update rate sends the deltas since its last update as a MatrixUpdate. The Proxy
 * sums the updates of the smoothing window into a GlobalMatrix (Aggregator): one undirected pair per VM pair.
 *
 * Entries are directed (src → dst) because each host sees a direction; pairs are undirected because the
 * application topology is (the paper's Figure 5 draws one line per pair, its thickness the intensity).
 */
import { isMac, type Mac } from '../../switch/frame/mac.js';

/** Frames and bytes src sent to dst since the host's previous update. */
export interface MatrixEntry {
  readonly src: Mac;
  readonly dst: Mac;
  readonly frames: number;
  readonly bytes: number;
}

/** One host's local matrix deltas; `atMs` is the host's own clock (informational: the Proxy uses arrival time). */
export interface MatrixUpdate {
  readonly host: string;
  readonly atMs: number;
  readonly entries: readonly MatrixEntry[];
}

/** Traffic between two VMs over the window, both directions summed. Invariant: a < b. */
export interface PairTraffic {
  readonly a: Mac;
  readonly b: Mac;
  readonly bytes: number;
  readonly frames: number;
}

export interface GlobalMatrix {
  /** The smoothing window the sums cover. */
  readonly windowMs: number;
  /** Sorted by (a, b). */
  readonly pairs: readonly PairTraffic[];
}

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/** True when every entry has MACs and non-negative integer counts: what the Proxy accepts. */
export function isValidMatrixUpdate(update: MatrixUpdate): boolean {
  if (typeof update.host !== 'string' || update.host.length === 0) return false;
  if (typeof update.atMs !== 'number' || !Number.isFinite(update.atMs)) return false;
  if (!Array.isArray(update.entries)) return false;
  for (const entry of update.entries) {
    if (!isMac(entry.src) || !isMac(entry.dst) || !isCount(entry.frames) || !isCount(entry.bytes)) return false;
  }
  return true;
}

/**
 * What the daemon's parts see of the durable state: the rows saved so far, and `write`, which resolves only once a
 * batch is on disk — a change is acknowledged after its write, never before. Two implementations: JournalStore (the
 * file, journal-store.ts) and MemoryStateStore (tests, and daemons started without a state directory).
 */
import { StateChangeError, StateFullError } from './state-errors.js';
import { changeProblem, MAX_BATCH_CHANGES, MAX_RECORDS, type StateChange } from './state-record.js';
import type { SavedState, StateTable } from './state-table.js';

export interface StateStoreInfo {
  /** The state directory and journal file; absent for a memory store. */
  readonly dir?: string;
  readonly file?: string;
  readonly bytes: number;
  /** Change entries since the last compaction. */
  readonly entries: number;
  readonly records: number;
  readonly compactions: number;
  /** Bytes of a torn last entry dropped at open (the write in flight when the daemon died), 0 if none. */
  readonly tornBytesDropped: number;
  /** How long opening and reading the state took (ms). */
  readonly openMs: number;
}

export interface StateStore {
  readonly saved: SavedState;
  /** Writes one batch, all of it or none; resolves once it is durable. Rejects with StateUnavailableError/StateFullError. */
  write(changes: readonly StateChange[]): Promise<void>;
  info(): StateStoreInfo;
  close(): Promise<void>;
}

/** The checks every store makes before a batch is written: each change well-formed, the rows within MAX_RECORDS. */
export function checkBatch(table: StateTable, changes: readonly StateChange[]): void {
  if (changes.length > MAX_BATCH_CHANGES) throw new StateChangeError(`${changes.length} changes in one batch, more than ${MAX_BATCH_CHANGES}`);
  for (const change of changes) {
    const problem = changeProblem(change);
    if (problem) throw new StateChangeError(problem);
  }
  const size = table.sizeAfter(changes);
  if (size > MAX_RECORDS && size > table.size) {
    throw new StateFullError(`the state would hold ${size} records, more than ${MAX_RECORDS}: delete some links or rules first (nothing was changed)`);
  }
}

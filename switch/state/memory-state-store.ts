/**
 * The state store's memory twin: the same checks and the same "resolves once written" contract as JournalStore,
 * without a file. A daemon started without a state directory uses it (nothing survives a restart); tests use it to
 * restart a daemon on the same saved state, and `failWrites` to see that a change that cannot be saved is undone.
 */
import { StateUnavailableError } from './state-errors.js';
import type { StateChange, StateRecord } from './state-record.js';
import { checkBatch, type StateStore, type StateStoreInfo } from './state-store.js';
import { StateTable, type SavedState } from './state-table.js';

export class MemoryStateStore implements StateStore {
  private readonly table: StateTable;
  private failure: Error | undefined;
  /** Batches written (tests: "nothing was written for a fast-path rule"). */
  writes = 0;

  constructor(records: Iterable<StateRecord> = []) {
    this.table = new StateTable(records);
  }

  get saved(): SavedState {
    return this.table;
  }

  async write(changes: readonly StateChange[]): Promise<void> {
    if (changes.length === 0) return;
    checkBatch(this.table, changes);
    if (this.failure) throw new StateUnavailableError(`the change was not saved: ${this.failure.message}`, { cause: this.failure });
    this.table.apply(changes);
    this.writes++;
  }

  /** From now on every write fails with `error` (undefined: writes succeed again). */
  failWrites(error: Error | undefined): void {
    this.failure = error;
  }

  info(): StateStoreInfo {
    return { bytes: 0, entries: this.writes, records: this.table.size, compactions: 0, tornBytesDropped: 0, openMs: 0 };
  }

  async close(): Promise<void> {}
}

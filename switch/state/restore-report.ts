/**
 * What a restore did with each saved record — restored, or skipped with the reason (a conflict with the config:
 * the config won) — for the log and `vswitch state show`. A skipped record is deleted from the state by whoever
 * skipped it, so the state always says what runs; a record nobody read (a kind of a plugin that is off) is kept.
 */
import type { RecordProblem } from './record-reader.js';
import type { StateChange } from './state-record.js';
import type { SavedState } from './state-table.js';

export interface RestoreOutcome {
  readonly kind: string;
  readonly key: string;
  readonly outcome: 'restored' | 'skipped';
  /** Why it was skipped, or what of it was restored. */
  readonly reason?: string;
}

export class RestoreReport {
  private readonly list: RestoreOutcome[] = [];
  private readonly kindsRead = new Set<string>();

  /** `kind`'s records are read (and written) by a part of this daemon: noted by each reader as it restores. */
  read(...kinds: string[]): void {
    for (const kind of kinds) this.kindsRead.add(kind);
  }

  reads(kind: string): boolean {
    return this.kindsRead.has(kind);
  }

  restored(kind: string, key: string, reason?: string): void {
    this.list.push({ kind, key, outcome: 'restored', ...(reason === undefined ? {} : { reason }) });
  }

  skipped(kind: string, key: string, reason: string): void {
    this.list.push({ kind, key, outcome: 'skipped', reason });
  }

  outcomes(): readonly RestoreOutcome[] {
    return this.list;
  }

  outcomeOf(kind: string, key: string): RestoreOutcome | undefined {
    for (let i = this.list.length - 1; i >= 0; i--) if (this.list[i]!.kind === kind && this.list[i]!.key === key) return this.list[i];
    return undefined;
  }
}

/**
 * What a part of the daemon gets of the durable state: the saved rows, `write` (resolves once durable), the
 * restore report, and the error for a saved record that does not decode (it names the state file).
 */
export interface DurableRecords {
  readonly saved: SavedState;
  write(changes: readonly StateChange[]): Promise<void>;
  readonly report: RestoreReport;
  readonly problem: RecordProblem;
}

/**
 * StateTable: the saved records in memory, by kind then key — what a restore reads and what every write updates once
 * it is on disk. Applying a batch is pure bookkeeping (no I/O); values are kept as decoded JSON and handed out as
 * they are, so readers must not change them.
 */
import type { JsonValue, StateChange, StateRecord } from './state-record.js';

/** What readers of the saved state see. */
export interface SavedState {
  /** The rows of one kind (empty when none), in the order they were first put. */
  kind(kind: string): ReadonlyMap<string, JsonValue>;
  get(kind: string, key: string): JsonValue | undefined;
  /** Every row, kinds in the order they first appeared. */
  records(): StateRecord[];
  readonly size: number;
}

export class StateTable implements SavedState {
  private readonly kinds = new Map<string, Map<string, JsonValue>>();
  private count = 0;

  constructor(records: Iterable<StateRecord> = []) {
    for (const r of records) this.put(r.kind, r.key, r.value);
  }

  get size(): number {
    return this.count;
  }

  kind(kind: string): ReadonlyMap<string, JsonValue> {
    return this.kinds.get(kind) ?? EMPTY;
  }

  get(kind: string, key: string): JsonValue | undefined {
    return this.kinds.get(kind)?.get(key);
  }

  records(): StateRecord[] {
    const out: StateRecord[] = [];
    for (const [kind, rows] of this.kinds) for (const [key, value] of rows) out.push({ kind, key, value });
    return out;
  }

  /** How many rows the table would hold after `changes` (to refuse a batch that would pass MAX_RECORDS). */
  sizeAfter(changes: readonly StateChange[]): number {
    const last = new Map<string, Map<string, boolean>>();
    for (const c of changes) {
      let keys = last.get(c.kind);
      if (!keys) last.set(c.kind, (keys = new Map()));
      keys.set(c.key, c.value !== null);
    }
    let size = this.count;
    for (const [kind, keys] of last) {
      const rows = this.kinds.get(kind);
      for (const [key, present] of keys) size += (present ? 1 : 0) - (rows?.has(key) ? 1 : 0);
    }
    return size;
  }

  apply(changes: readonly StateChange[]): void {
    for (const c of changes) {
      if (c.value === null) this.delete(c.kind, c.key);
      else this.put(c.kind, c.key, c.value);
    }
  }

  clone(): StateTable {
    return new StateTable(this.records());
  }

  private put(kind: string, key: string, value: JsonValue): void {
    let rows = this.kinds.get(kind);
    if (!rows) this.kinds.set(kind, (rows = new Map()));
    if (!rows.has(key)) this.count++;
    rows.set(key, value);
  }

  private delete(kind: string, key: string): void {
    const rows = this.kinds.get(kind);
    if (!rows?.delete(key)) return;
    this.count--;
    if (rows.size === 0) this.kinds.delete(kind);
  }
}

const EMPTY: ReadonlyMap<string, JsonValue> = new Map();

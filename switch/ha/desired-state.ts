/**
 * The desired state of a Proxy with `ha:` in etcd (issue 19 part 3): the durable records of some kinds (the
 * daemon names them: plugin settings, enabled states, HTTP policies) under one prefix, one key per record:
 *   <prefix><kind>/<key>  = the record's value as JSON          e.g. /vswitch/state/policy/mon
 *   <prefix>seeded        = the first active Proxy's name       (etcd holds the desired state from then on)
 * The active Proxy writes each change of those kinds here, in one transaction, before its own file
 * (switch/state/); a Proxy that becomes active reads them back and makes its own records match (etcd's copy wins)
 * before its plugins act. The first active Proxy, finding nothing seeded, seeds etcd from its own records.
 *
 * Whatever is read is checked (it is another process's word, or an attacker's): a key that names no kind of ours,
 * a value that is not JSON or that its kind's decoder refuses, is refused with the key named; the rest still load.
 */
import type { Etcd, EtcdOp } from './etcd.js';
import type { SavedState } from '../state/state-table.js';
import { changeProblem, type JsonValue, type StateChange, type StateRecord } from '../state/state-record.js';

export const DEFAULT_STATE_PREFIX = '/vswitch/state/';
const SEEDED_KEY = 'seeded';

/** A kind of record kept in etcd, with what checks one of its values (throws, saying what is wrong). */
export interface DesiredKind {
  readonly kind: string;
  validate(key: string, value: JsonValue): void;
}

export interface DesiredLoad {
  /** Whether etcd holds a desired state at all (a Proxy was active with it before). */
  readonly seeded: boolean;
  readonly records: readonly StateRecord[];
  /** etcd keys not taken, each with why. */
  readonly refused: readonly { readonly key: string; readonly reason: string }[];
}

export class EtcdDesiredState {
  private readonly kinds: ReadonlyMap<string, DesiredKind>;

  constructor(
    private readonly etcd: Etcd,
    kinds: readonly DesiredKind[],
    readonly prefix: string = DEFAULT_STATE_PREFIX,
  ) {
    this.kinds = new Map(kinds.map((k) => [k.kind, k]));
  }

  /** Whether records of `kind` live in etcd. */
  holds(kind: string): boolean {
    return this.kinds.has(kind);
  }

  /** The changes of our kinds, in one transaction (none: no request). */
  async write(changes: readonly StateChange[]): Promise<void> {
    const ops = changes.filter((c) => this.holds(c.kind)).map((c): EtcdOp => ({ key: this.keyOf(c.kind, c.key), value: c.value === null ? null : JSON.stringify(c.value) }));
    if (ops.length > 0) await this.etcd.apply(ops);
  }

  /** Makes etcd hold `records` (of our kinds) and marks it seeded by `by`, in one transaction. */
  async seed(records: readonly StateRecord[], by: string): Promise<void> {
    const ops = records.filter((r) => this.holds(r.kind)).map((r): EtcdOp => ({ key: this.keyOf(r.kind, r.key), value: JSON.stringify(r.value) }));
    await this.etcd.apply([...ops, { key: this.prefix + SEEDED_KEY, value: by }]);
  }

  async load(): Promise<DesiredLoad> {
    const kvs = await this.etcd.range(this.prefix);
    const records: StateRecord[] = [];
    const refused: { key: string; reason: string }[] = [];
    let seeded = false;
    for (const kv of kvs) {
      const rest = kv.key.slice(this.prefix.length);
      if (rest === SEEDED_KEY) {
        seeded = true;
        continue;
      }
      const read = this.readRecord(rest, kv.value);
      if (typeof read === 'string') refused.push({ key: kv.key, reason: read });
      else records.push(read);
    }
    return { seeded, records, refused };
  }

  /** The record under `rest` (after the prefix), or what is wrong with it. */
  private readRecord(rest: string, text: string): StateRecord | string {
    const slash = rest.indexOf('/');
    const kind = slash < 0 ? rest : rest.slice(0, slash);
    const desired = this.kinds.get(kind);
    if (slash < 0 || desired === undefined) return `not a kind of desired state (${[...this.kinds.keys()].join(', ')})`;
    let key: string;
    let value: JsonValue;
    try {
      key = decodeURIComponent(rest.slice(slash + 1));
    } catch {
      return 'the key is not percent-encoded as this code writes it';
    }
    try {
      value = JSON.parse(text) as JsonValue;
    } catch (err) {
      return `not JSON (${(err as Error).message})`;
    }
    if (value === null) return 'null is no record (a deleted record has no key)';
    const bad = changeProblem({ kind, key, value });
    if (bad !== undefined) return bad;
    try {
      desired.validate(key, value);
    } catch (err) {
      return (err as Error).message;
    }
    return { kind, key, value };
  }

  private keyOf(kind: string, key: string): string {
    return `${this.prefix}${kind}/${encodeURIComponent(key)}`;
  }
}

/**
 * The changes that make the local records of etcd's kinds what etcd holds: etcd's copy wins, key by key; a local
 * record etcd does not hold goes, unless etcd's value under that key was refused (then the local one stays).
 */
export function changesToMatch(local: SavedState, load: DesiredLoad, kinds: readonly string[], prefix: string = DEFAULT_STATE_PREFIX): StateChange[] {
  const wanted = new Map(load.records.map((r) => [`${r.kind}/${r.key}`, r]));
  const refused = new Set(load.refused.map((r) => r.key.slice(prefix.length)));
  const changes: StateChange[] = [];
  for (const kind of kinds) {
    for (const [key, value] of local.kind(kind)) {
      const id = `${kind}/${key}`;
      const etcd = wanted.get(id);
      if (etcd === undefined && !refused.has(`${kind}/${encodeURIComponent(key)}`)) changes.push({ kind, key, value: null });
      else if (etcd !== undefined && JSON.stringify(etcd.value) !== JSON.stringify(value)) changes.push(etcd);
      wanted.delete(id);
    }
  }
  for (const record of wanted.values()) if (kinds.includes(record.kind)) changes.push(record);
  return changes;
}

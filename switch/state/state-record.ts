/**
 * The durable state's record model (the idea is ovsdb's: tables of rows, changed in atomic transactions). A record is
 * one row: its `kind` names the table ("link", "rule", "vttif", "policy"…, each owned by the module that reads it),
 * its `key` names the row in it (a link's name, a rule's id), its `value` is plain JSON. A change puts a row or,
 * with `value: null`, deletes it; a batch of changes is written whole or not at all. The store knows no kind: each
 * module decodes its own rows at restore, so adding a kind (e.g. run-time "port"s) adds no code here.
 */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface StateRecord {
  readonly kind: string;
  readonly key: string;
  readonly value: JsonValue;
}

/** Puts `value` under (kind, key); `null` deletes the row (deleting a row that is not there is no change). */
export interface StateChange {
  readonly kind: string;
  readonly key: string;
  readonly value: JsonValue | null;
}

/** Kinds are short kebab-case words, so a state file stays greppable and no kind can smuggle a path or markup. */
export const KIND_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;
/** Rows are named by what they hold (a link's name ≤ 64 characters, a rule id); 128 leaves room. */
export const MAX_KEY_CHARS = 128;
/** One record's JSON (a link with its endpoints and keys is ~400 bytes; a policy's registration ≤ ~4 KiB). */
export const MAX_RECORD_BYTES = 16 * 1024;
/** Rows in all: writes that would go beyond are refused (state-full), whatever their kind. */
export const MAX_RECORDS = 65_536;
/** Changes in one batch (a restore's clean-up is the largest: one per skipped record). */
export const MAX_BATCH_CHANGES = MAX_RECORDS;

/** What is wrong with one change, or undefined: the store refuses a batch with any. */
export function changeProblem(change: StateChange): string | undefined {
  if (typeof change.kind !== 'string' || !KIND_PATTERN.test(change.kind)) return `kind ${JSON.stringify(change.kind)} is not a short kebab-case word`;
  if (typeof change.key !== 'string' || change.key.length === 0 || change.key.length > MAX_KEY_CHARS) {
    return `${change.kind}: the key must be 1..${MAX_KEY_CHARS} characters`;
  }
  if (change.value === null) return undefined;
  const bytes = Buffer.byteLength(JSON.stringify(change.value) ?? '', 'utf8');
  if (bytes > MAX_RECORD_BYTES) return `${change.kind} ${JSON.stringify(change.key)}: the value is ${bytes} bytes of JSON, more than ${MAX_RECORD_BYTES}`;
  return undefined;
}

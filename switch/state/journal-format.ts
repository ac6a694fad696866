/**
 * The state journal's format: text, one entry per line, each line `<crc32, 8 hex digits> <JSON>\n`.
 *
 *   line 1     the base:    {"format":"vswitch-state","version":1,"seq":S,"records":[[kind,key,value],…]}
 *   line 2…    the changes: {"seq":S+1,"changes":[[kind,key,value|null],…]}   (one acknowledged batch each)
 *
 * Why this shape. A batch is acknowledged only once its whole line is on disk (the store fsyncs after each append),
 * so a crash can leave at most the last line incomplete: a line without its newline, or whose checksum fails, that
 * is the LAST thing in the file and holds no whole entry, is the write that was in flight — it was never
 * acknowledged, and restore drops it (the state before it is the old state). Anything else that fails — a bad base, a bad line followed by good ones,
 * a gap in the sequence numbers, a record of the wrong shape — is corruption, and decoding throws naming the line,
 * its byte offset and what is wrong. The base is only ever written whole (temporary file, fsync, rename), so it is
 * never torn. Sequence numbers go up by one per line, so a line lost or repeated in the middle is seen.
 */
import { crc32 } from 'node:zlib';
import { StateCorruptError } from './state-errors.js';
import { changeProblem, type JsonValue, type StateChange, type StateRecord } from './state-record.js';
import { StateTable } from './state-table.js';

export const JOURNAL_FORMAT = 'vswitch-state';
export const JOURNAL_VERSION = 1;
/** A state file larger than this is not one this daemon wrote (MAX_RECORDS × MAX_RECORD_BYTES is the worst base). */
export const MAX_JOURNAL_BYTES = 1024 * 1024 * 1024;

export function encodeBase(seq: number, records: readonly StateRecord[]): string {
  return line({ format: JOURNAL_FORMAT, version: JOURNAL_VERSION, seq, records: records.map((r) => [r.kind, r.key, r.value]) });
}

export function encodeChanges(seq: number, changes: readonly StateChange[]): string {
  return line({ seq, changes: changes.map((c) => [c.kind, c.key, c.value]) });
}

function line(entry: Record<string, JsonValue>): string {
  const json = JSON.stringify(entry);
  return `${checksum(json)} ${json}\n`;
}

function checksum(json: string): string {
  return crc32(json).toString(16).padStart(8, '0');
}

export interface DecodedJournal {
  readonly table: StateTable;
  /** The sequence number of the last entry kept. */
  readonly seq: number;
  /** Change lines after the base (what compaction would fold). */
  readonly entries: number;
  /** Bytes of the entries kept: the file is cut back to this when a torn tail was dropped. */
  readonly goodBytes: number;
  /** The write in flight at a crash, dropped: where it started, how long it was, and what was wrong with it. */
  readonly torn?: { readonly offset: number; readonly bytes: number; readonly problem: string };
}

export interface DecodeOptions {
  /** The file's name, for errors. */
  readonly file: string;
  /** What the operator can run to start over (appended to every corruption error). */
  readonly resetHint: string;
}

export function decodeJournal(bytes: Uint8Array, options: DecodeOptions): DecodedJournal {
  const corrupt = (where: string, problem: string): StateCorruptError => new StateCorruptError(options.file, where, problem, options.resetHint);
  if (bytes.length > MAX_JOURNAL_BYTES) throw corrupt('the whole file', `${bytes.length} bytes, more than any state this daemon writes (${MAX_JOURNAL_BYTES})`);
  if (bytes.length === 0) throw corrupt('line 1 (byte 0)', 'the file is empty: no base entry');
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const table = new StateTable();
  let seq = 0;
  let entries = 0;
  let offset = 0;
  for (let lineNo = 1; offset < buffer.length; lineNo++) {
    const newline = buffer.indexOf(0x0a, offset);
    const end = newline < 0 ? buffer.length : newline;
    const where = `line ${lineNo} (byte ${offset})`;
    const isLast = newline < 0 || newline === buffer.length - 1;
    const parsed = newline < 0 ? { problem: 'the line has no end (no newline)' } : parseLine(buffer.subarray(offset, end));
    if ('problem' in parsed) {
      // Only the last line may be torn, and never the base (it is written whole, then renamed into place).
      // A torn write is at most one entry: a tail that holds a whole one (a lost newline) is damage, not a crash.
      if (isLast && lineNo > 1 && !holdsWholeEntry(buffer.subarray(offset, end))) {
        return { table, seq, entries, goodBytes: offset, torn: { offset, bytes: buffer.length - offset, problem: parsed.problem } };
      }
      throw corrupt(where, parsed.problem);
    }
    const entry = parsed.entry;
    if (lineNo === 1) {
      const problem = baseProblem(entry);
      if (problem) throw corrupt(where, problem);
      seq = entry.seq as number;
      for (const r of recordsOf(entry.records as JsonValue[], where, corrupt, false)) table.apply([r]);
    } else {
      if (entry.seq !== seq + 1) throw corrupt(where, `sequence number ${JSON.stringify(entry.seq)} where ${seq + 1} was due (an entry is missing or repeated)`);
      if (!Array.isArray(entry.changes)) throw corrupt(where, 'an entry after the base must have a "changes" list');
      table.apply(recordsOf(entry.changes, where, corrupt, true));
      seq++;
      entries++;
    }
    offset = end + 1;
  }
  return { table, seq, entries, goodBytes: buffer.length };
}

/** Whether `text` starts with a whole valid line (an entry followed by more bytes where its newline should be). */
function holdsWholeEntry(text: Buffer): boolean {
  for (let end = text.indexOf(0x7d); end >= 0; end = text.indexOf(0x7d, end + 1)) {
    if (end + 1 < text.length && 'entry' in parseLine(text.subarray(0, end + 1))) return true;
  }
  return false;
}

type ParsedLine = { entry: Record<string, JsonValue> } | { problem: string };

function parseLine(text: Buffer): ParsedLine {
  if (text.length < 10 || text[8] !== 0x20) return { problem: 'not "<checksum> <json>"' };
  const sum = text.subarray(0, 8).toString('latin1');
  const json = text.subarray(9).toString('utf8');
  if (!/^[0-9a-f]{8}$/.test(sum)) return { problem: 'the checksum is not 8 hex digits' };
  if (checksum(json) !== sum) return { problem: `checksum mismatch (the line says ${sum}, its bytes give ${checksum(json)})` };
  let entry: unknown;
  try {
    entry = JSON.parse(json);
  } catch (err) {
    return { problem: `not JSON (${(err as Error).message})` };
  }
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return { problem: 'an entry must be a JSON object' };
  return { entry: entry as Record<string, JsonValue> };
}

function baseProblem(entry: Record<string, JsonValue>): string | undefined {
  if (entry.format !== JOURNAL_FORMAT) return `not a vswitch state file (format ${JSON.stringify(entry.format ?? null)}, expected "${JOURNAL_FORMAT}")`;
  if (entry.version !== JOURNAL_VERSION) return `format version ${JSON.stringify(entry.version ?? null)}: this vswitch reads version ${JOURNAL_VERSION}`;
  if (!Number.isSafeInteger(entry.seq) || (entry.seq as number) < 0) return 'the base has no sequence number';
  if (!Array.isArray(entry.records)) return 'the base has no "records" list';
  return undefined;
}

function recordsOf(items: readonly JsonValue[], where: string, corrupt: (where: string, problem: string) => Error, allowDelete: boolean): StateChange[] {
  return items.map((item, i) => {
    if (!Array.isArray(item) || item.length !== 3) throw corrupt(where, `item ${i} is not [kind, key, value]`);
    const [kind, key, value] = item as [JsonValue, JsonValue, JsonValue];
    const change = { kind, key, value } as StateChange;
    const problem = changeProblem(change) ?? (value === null && !allowDelete ? `${String(kind)} ${JSON.stringify(key)}: the base holds no deletions` : undefined);
    if (problem) throw corrupt(where, `item ${i}: ${problem}`);
    return change;
  });
}

/**
 * Reads one saved record's fields, each checked: a record that is not what its kind's writer writes is corruption,
 * and the error names the record and the field ('link "x1": publicKey: not a 32-byte base64 key'). The owning module
 * reads its own kinds with it at restore.
 */
import type { JsonValue } from './state-record.js';

/** Builds the error for a bad record: `where` names it ('link "x1"'), `problem` the field and what is wrong. */
export type RecordProblem = (where: string, problem: string) => Error;

export class RecordReader {
  private readonly fields: Record<string, JsonValue>;

  constructor(
    readonly kind: string,
    readonly key: string,
    value: JsonValue,
    private readonly problem: RecordProblem,
  ) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw this.fail('', 'the value must be an object');
    this.fields = value;
  }

  /** The error for `field` of this record. */
  fail(field: string, problem: string): Error {
    return this.problem(`${this.kind} ${JSON.stringify(this.key)}`, field === '' ? problem : `${field}: ${problem}`);
  }

  has(field: string): boolean {
    return this.fields[field] !== undefined;
  }

  string(field: string, options: { maxChars?: number } = {}): string {
    const v = this.fields[field];
    if (typeof v !== 'string') throw this.fail(field, 'must be a string');
    if (v.length > (options.maxChars ?? 4096)) throw this.fail(field, `longer than ${options.maxChars ?? 4096} characters`);
    return v;
  }

  optionalString(field: string, options: { maxChars?: number } = {}): string | undefined {
    return this.has(field) ? this.string(field, options) : undefined;
  }

  integer(field: string, range: { min: number; max: number }): number {
    const v = this.fields[field];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < range.min || v > range.max) throw this.fail(field, `must be an integer ${range.min}..${range.max}`);
    return v;
  }

  optionalInteger(field: string, range: { min: number; max: number }): number | undefined {
    return this.has(field) ? this.integer(field, range) : undefined;
  }

  boolean(field: string): boolean {
    const v = this.fields[field];
    if (typeof v !== 'boolean') throw this.fail(field, 'must be true or false');
    return v;
  }

  oneOf<T extends string>(field: string, values: readonly T[]): T {
    const v = this.fields[field];
    if (typeof v !== 'string' || !values.includes(v as T)) throw this.fail(field, `must be one of ${values.join(', ')}`);
    return v as T;
  }

  /** A field's raw JSON (a nested object the caller reads on). */
  json(field: string): JsonValue | undefined {
    return this.fields[field];
  }

  /** A decode step that throws its own error (a key, an endpoint): its message becomes this field's problem. */
  decoded<T>(field: string, decode: () => T): T {
    try {
      return decode();
    } catch (err) {
      throw this.fail(field, (err as Error).message);
    }
  }
}

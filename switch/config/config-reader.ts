import { isMap, isNode, isSeq, LineCounter, type Document } from 'yaml';
import { ConfigError } from './config-error.js';

type Path = readonly (string | number)[];

/** How much of a value or key a message quotes: a config may hold 1 MiB strings, a message must stay one line. */
const SHOWN_CHARS = 64;

/** `text` for a message: at most SHOWN_CHARS, with "…" and the full length when cut. */
export function shown(text: string): string {
  return text.length <= SHOWN_CHARS ? text : `${text.slice(0, SHOWN_CHARS)}… (${text.length} characters)`;
}

/**
 * Typed access to a parsed YAML document that turns every mistake into a
 * ConfigError pointing at the offending node (line and column), so checks read
 * like a schema: `r.string(['ports', 0, 'name'], { pattern })`.
 */
export class ConfigReader {
  constructor(
    private readonly file: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** Throws a ConfigError at the node of `path` (or its nearest parent); 1:1 when the file has none (it is empty). */
  fail(path: Path, problem: string): never {
    const node = this.nodeAt(path);
    const offset = node?.range?.[0];
    const pos = offset === undefined ? { line: 1, col: 1 } : this.lines.linePos(offset);
    throw new ConfigError(this.file, formatPath(path), problem, pos.line, pos.col);
  }

  has(path: Path): boolean {
    return this.doc.hasIn(path as (string | number)[]);
  }

  /** Rejects keys the schema does not know: a typo must not silently become a default. */
  onlyKeys(path: Path, allowed: readonly string[]): void {
    const node = this.exactNode(path);
    if (node === undefined || node === null) return;
    if (!isMap(node)) this.fail(path, `must be a mapping (found ${describe(this.value(path))})`);
    for (const item of node.items) {
      const key = String((item.key as { value?: unknown } | null)?.value ?? item.key);
      if (!allowed.includes(key)) {
        const hint = nearest(key, allowed);
        this.fail([...path, key], `unknown key${hint ? ` (did you mean "${hint}"?)` : ''}; expected one of ${allowed.join(', ')}`);
      }
    }
  }

  string(path: Path, opts: { default?: string; pattern?: RegExp; patternText?: string; oneOf?: readonly string[] } = {}): string {
    const v = this.value(path);
    if (v === undefined || v === null) {
      if (opts.default !== undefined) return opts.default;
      this.fail(path, 'is required');
    }
    if (typeof v !== 'string') this.fail(path, `must be a string (found ${describe(v)})`);
    if (opts.oneOf && !opts.oneOf.includes(v)) this.fail(path, `must be one of ${opts.oneOf.join(', ')} (found "${shown(v)}")`);
    if (opts.pattern && !opts.pattern.test(v)) this.fail(path, `must be ${opts.patternText ?? `like ${opts.pattern}`} (found "${shown(v)}")`);
    return v;
  }

  integer(path: Path, opts: { default: number; min: number; max: number }): number {
    const v = this.value(path);
    if (v === undefined || v === null) return opts.default;
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(path, `must be an integer (found ${describe(v)})`);
    if (v < opts.min || v > opts.max) this.fail(path, `must be between ${opts.min} and ${opts.max} (found ${v})`);
    return v;
  }

  /** A finite number (integer or not) in [min, max]. */
  number(path: Path, opts: { default: number; min: number; max: number }): number {
    const v = this.value(path);
    if (v === undefined || v === null) return opts.default;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(path, `must be a number (found ${describe(v)})`);
    if (v < opts.min || v > opts.max) this.fail(path, `must be between ${opts.min} and ${opts.max} (found ${v})`);
    return v;
  }

  boolean(path: Path, opts: { default: boolean }): boolean {
    const v = this.value(path);
    if (v === undefined || v === null) return opts.default;
    if (typeof v !== 'boolean') this.fail(path, `must be true or false (found ${describe(v)})`);
    return v;
  }

  /** Length of a sequence (0 when absent). */
  sequence(path: Path): number {
    const node = this.exactNode(path);
    if (node === undefined || node === null) return 0;
    if (!isSeq(node)) this.fail(path, `must be a list (found ${describe(this.value(path))})`);
    return node.items.length;
  }

  /** The plain JS value at `path` (a plugin's free-form options), aliases resolved (at most 100 of them). */
  raw(path: Path): unknown {
    const v = this.value(path);
    if (!isNode(v)) return v;
    try {
      return v.toJS(this.doc, { maxAliasCount: 100 });
    } catch (err) {
      // An alias to no anchor, or one that expands too much (yaml's resource-exhaustion guard).
      return this.fail(path, `YAML: ${(err as Error).message.split('\n')[0]}`);
    }
  }

  private value(path: Path): unknown {
    const v = this.doc.getIn(path as (string | number)[], false);
    return v;
  }

  private exactNode(path: Path): unknown {
    return path.length === 0 ? this.doc.contents : this.doc.getIn(path as (string | number)[], true);
  }

  private nodeAt(path: Path): { range?: [number, number, number] | null } | undefined {
    if (path.length === 0) return this.doc.contents ?? undefined;
    const node = this.doc.getIn(path as (string | number)[], true) as { range?: [number, number, number] | null } | undefined;
    if (node !== undefined && node !== null && typeof node === 'object') return node;
    // A missing key: point at its parent so the operator sees where to add it.
    return path.length > 1 ? this.nodeAt(path.slice(0, -1)) : (this.doc.contents ?? undefined);
  }
}

export function formatPath(path: Path): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? shown(p) : `.${shown(p)}`;
  return out;
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `"${shown(v)}"`;
  return `${typeof v} ${String(v)}`;
}

/**
 * The allowed key within edit distance 2, to turn "prots" into a useful hint. Keys whose lengths differ by more
 * than 2 are more than 2 apart: skipped without the O(length × length) distance (a key may be 1 MiB long).
 */
function nearest(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of allowed) {
    if (Math.abs(key.length - candidate.length) >= bestDistance) continue;
    const d = editDistance(key, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

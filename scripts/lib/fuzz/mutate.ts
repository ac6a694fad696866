/**
 * Mutations of valid seed inputs: bit flips, interesting bytes, truncation, splicing with another seed,
 * length-field edits (u8/u16/u32, both byte orders, set to the boundary values a length check gets wrong) and
 * repeated tokens. Text has its own set (token insertion and repetition, boundary characters), and can fall
 * back to the byte mutations through UTF-8.
 */
import type { Rng } from './rng.js';

export interface ByteMutationOptions {
  /** Other seeds to splice with. */
  readonly others?: readonly Uint8Array[];
  /** Byte strings worth inserting (magic values, field contents). */
  readonly dictionary?: readonly Uint8Array[];
  /** Longest result (default 64 KiB). */
  readonly maxBytes?: number;
  /** How many mutations at most (default 6). */
  readonly maxMutations?: number;
}

const INTERESTING_8 = [0, 1, 0x7f, 0x80, 0xff, 0x10, 0x0f, 0x20, 0x2f, 0x30];
const INTERESTING_16 = [0, 1, 15, 16, 17, 0x7f, 0x80, 0xff, 0x100, 0x5dc, 0x5ff, 0x600, 0x7fff, 0x8000, 0x8100, 0x88a8, 0x9100, 0xfffe, 0xffff];
const INTERESTING_32 = [0, 1, 2, 3, 4, 5, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

function concat(...parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function lengthValue(rng: Rng, length: number, width: number): number {
  const max = width === 1 ? 0xff : width === 2 ? 0xffff : 0xffffffff;
  const choices = width === 1 ? INTERESTING_8 : width === 2 ? INTERESTING_16 : INTERESTING_32;
  switch (rng.int(4)) {
    case 0:
      return rng.pick(choices);
    case 1:
      return Math.max(0, Math.min(max, length + rng.range(-3, 3)));
    case 2:
      return Math.max(0, Math.min(max, rng.int(Math.min(max, length * 2 + 64) + 1)));
    default:
      return rng.int(max + 1) >>> 0;
  }
}

function writeUint(bytes: Uint8Array, at: number, width: number, value: number, littleEndian: boolean): void {
  for (let i = 0; i < width && at + i < bytes.length; i++) {
    const shift = 8 * (littleEndian ? i : width - 1 - i);
    bytes[at + i] = Math.floor(value / 2 ** shift) & 0xff;
  }
}

/** One mutation of `input` (a new array; `input` is not changed). */
export function mutateBytesOnce(rng: Rng, input: Uint8Array, options: ByteMutationOptions = {}): Uint8Array {
  const maxBytes = options.maxBytes ?? 65_536;
  const n = input.length;
  const kind = rng.int(12);
  if (n === 0 && kind < 8) return rng.bytes(rng.size(64));
  switch (kind) {
    case 0: {
      const out = new Uint8Array(input);
      const at = rng.int(n);
      out[at] = (out[at] as number) ^ (1 << rng.int(8));
      return out;
    }
    case 1: {
      const out = new Uint8Array(input);
      out[rng.int(n)] = rng.bool(0.5) ? rng.pick(INTERESTING_8) : rng.byte();
      return out;
    }
    case 2: {
      // Length-field edit: u8 / u16 / u32, either byte order, set to a boundary value.
      const out = new Uint8Array(input);
      const width = rng.pick([1, 2, 2, 4]);
      writeUint(out, rng.int(n), width, lengthValue(rng, n, width), rng.bool());
      return out;
    }
    case 3:
      return input.slice(0, rng.int(n)); // truncation
    case 4: {
      const from = rng.int(n);
      const to = Math.min(n, from + 1 + rng.size(32));
      return concat(input.subarray(0, from), input.subarray(to));
    }
    case 5: {
      // Repeated token: a chunk of the input, k times, in place.
      const from = rng.int(n);
      const len = 1 + rng.size(Math.min(32, n - from - 1));
      const chunk = input.subarray(from, from + len);
      const times = 1 + rng.size(rng.bool(0.9) ? 16 : 4096);
      const parts: Uint8Array[] = [input.subarray(0, from)];
      for (let i = 0; i < times && (i + 1) * len + n <= maxBytes; i++) parts.push(chunk);
      parts.push(input.subarray(from));
      return concat(...parts);
    }
    case 6: {
      const out = new Uint8Array(input);
      const at = rng.int(n);
      const len = Math.min(n - at, 1 + rng.size(16));
      for (let i = 0; i < len; i++) out[at + i] = rng.byte();
      return out;
    }
    case 7: {
      // Copy a chunk over another place of itself.
      const out = new Uint8Array(input);
      const from = rng.int(n);
      const len = Math.min(n - from, 1 + rng.size(32));
      out.set(input.subarray(from, from + len), rng.int(n - len + 1));
      return out;
    }
    case 8: {
      const dict = options.dictionary;
      const token = dict && dict.length > 0 && rng.bool(0.8) ? rng.pick(dict) : rng.bytes(1 + rng.size(8));
      const at = rng.int(n + 1);
      if (rng.bool()) return concat(input.subarray(0, at), token, input.subarray(at));
      const out = new Uint8Array(input);
      out.set(token.subarray(0, Math.max(0, n - at)), at);
      return out;
    }
    case 9: {
      const others = options.others;
      if (!others || others.length === 0) return concat(input, rng.bytes(rng.size(32)));
      const other = rng.pick(others);
      return concat(input.subarray(0, rng.int(n + 1)), other.subarray(rng.int(other.length + 1)));
    }
    case 10:
      return concat(input, rng.bytes(1 + rng.size(64)));
    default: {
      const out = new Uint8Array(input);
      if (n >= 2) {
        const a = rng.int(n);
        const b = rng.int(n);
        const t = out[a] as number;
        out[a] = out[b] as number;
        out[b] = t;
      }
      return out;
    }
  }
}

/** 1..maxMutations mutations in a row, capped at maxBytes. */
export function mutateBytes(rng: Rng, input: Uint8Array, options: ByteMutationOptions = {}): Uint8Array {
  const count = 1 + rng.size((options.maxMutations ?? 6) - 1);
  let out = input;
  for (let i = 0; i < count; i++) out = mutateBytesOnce(rng, out, options);
  const max = options.maxBytes ?? 65_536;
  return out.length > max ? out.subarray(0, max) : out;
}

export interface TextMutationOptions {
  readonly others?: readonly string[];
  /** Tokens of the language (keywords, punctuation, values). */
  readonly dictionary?: readonly string[];
  readonly maxChars?: number;
  readonly maxMutations?: number;
}

/** Characters that trip text handling: line ends, NUL, BOM, a lone surrogate, a 4-byte character, quotes. */
const ODD_CHARS = ['\n', '\r', '\r\n', '\t', '\0', '\ufeff', '\ud800', '\udfff', '😀', '"', "'", '\\', '#', ':', ' ', '\u2028', '\u0085', '\u00a0', '%', '{', '}', '[', ']', ',', '-', '&', '*', '!', '|', '>', '?', '@', '`'];

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function mutateTextOnce(rng: Rng, input: string, options: TextMutationOptions = {}): string {
  const n = input.length;
  const at = rng.int(n + 1);
  const dict = options.dictionary ?? [];
  switch (rng.int(10)) {
    case 0:
    case 1: {
      const token = dict.length > 0 && rng.bool(0.85) ? rng.pick(dict) : rng.pick(ODD_CHARS);
      return input.slice(0, at) + token + input.slice(at);
    }
    case 2: {
      const token = dict.length > 0 && rng.bool(0.5) ? rng.pick(dict) : rng.pick(ODD_CHARS);
      const end = Math.min(n, at + 1 + rng.size(16));
      return input.slice(0, at) + token + input.slice(end);
    }
    case 3:
      return input.slice(0, at) + input.slice(Math.min(n, at + 1 + rng.size(24)));
    case 4: {
      // Repeat a piece of the text (a token, a line, a nesting level).
      const len = 1 + rng.size(Math.min(40, Math.max(0, n - at - 1)));
      const piece = input.slice(at, at + len) || rng.pick(ODD_CHARS);
      const times = 1 + rng.size(rng.bool(0.9) ? 12 : 2000);
      return input.slice(0, at) + piece.repeat(times) + input.slice(at);
    }
    case 5:
      return input.slice(0, at); // truncation
    case 6: {
      const others = options.others ?? [];
      if (others.length === 0) return input + rng.pick(ODD_CHARS);
      const other = rng.pick(others);
      return input.slice(0, at) + other.slice(rng.int(other.length + 1));
    }
    case 7: {
      // A line of the text duplicated, or two lines swapped.
      const lines = input.split('\n');
      const i = rng.int(lines.length);
      const j = rng.int(lines.length);
      if (rng.bool()) lines.splice(j, 0, lines[i] as string);
      else [lines[i], lines[j]] = [lines[j] as string, lines[i] as string];
      return lines.join('\n');
    }
    case 8: {
      // Change a digit run into a boundary number.
      const numbers = [...input.matchAll(/-?\d+(\.\d+)?/g)];
      const m = numbers.length > 0 ? rng.pick(numbers) : undefined;
      const value = rng.pick(['0', '-1', '1', '65535', '65536', '4294967296', '9007199254740993', '1e308', '-0', '0x10', '1.5', 'NaN', '.inf', '99999999999999999999']);
      if (!m || m.index === undefined) return input + value;
      return input.slice(0, m.index) + value + input.slice(m.index + m[0].length);
    }
    default:
      return decoder.decode(mutateBytesOnce(rng, encoder.encode(input)));
  }
}

export function mutateText(rng: Rng, input: string, options: TextMutationOptions = {}): string {
  const count = 1 + rng.size((options.maxMutations ?? 5) - 1);
  let out = input;
  for (let i = 0; i < count; i++) out = mutateTextOnce(rng, out, options);
  const max = options.maxChars ?? 65_536;
  return out.length > max ? out.slice(0, max) : out;
}

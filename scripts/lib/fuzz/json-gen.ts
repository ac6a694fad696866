/**
 * Structure-aware generation of JSON values: trees whose keys and strings come from a target's vocabulary,
 * with the values parsers get wrong (huge and negative numbers, -0, fractions, empty and long strings,
 * "__proto__", wrong types in every place), and a schema-guided mode that builds an object of the expected
 * shape and then breaks one field.
 */
import type { Rng } from './rng.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const NUMBERS = [0, -0, 1, -1, 0.5, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e308, -1e308, 5e-324, 65_535, 65_536, 20, 21, 400, 499, 500, 1e21];
const STRINGS = ['', ' ', 'a', '0', 'null', 'true', '__proto__', 'constructor', 'toString', '02:00:00:00:00:01', 'ff:ff:ff:ff:ff:ff', 'any', 'none', '\u0000', '\ud800', '😀', '%00', '../..', 'x'.repeat(300)];

export interface JsonVocabulary {
  readonly keys?: readonly string[];
  readonly strings?: readonly string[];
}

export function randomScalar(rng: Rng, vocab: JsonVocabulary = {}): Json {
  switch (rng.int(6)) {
    case 0:
      return null;
    case 1:
      return rng.bool();
    case 2:
      return rng.bool(0.6) ? rng.pick(NUMBERS) : rng.bool() ? rng.int(100_000) : (rng.float() - 0.5) * 10 ** rng.int(20);
    default: {
      const words = vocab.strings ?? [];
      if (words.length > 0 && rng.bool(0.6)) return rng.pick(words);
      if (rng.bool(0.5)) return rng.pick(STRINGS);
      let s = '';
      const n = rng.size(24);
      for (let i = 0; i < n; i++) s += String.fromCharCode(rng.bool(0.9) ? rng.range(0x20, 0x7e) : rng.int(0x10000));
      return s;
    }
  }
}

export function randomJson(rng: Rng, vocab: JsonVocabulary = {}, depth = 4): Json {
  if (depth <= 0 || rng.bool(0.45)) return randomScalar(rng, vocab);
  if (rng.bool(0.4)) {
    const n = rng.size(6);
    return Array.from({ length: n }, () => randomJson(rng, vocab, depth - 1));
  }
  const out: { [key: string]: Json } = {};
  const n = rng.size(6);
  const keys = vocab.keys ?? [];
  for (let i = 0; i < n; i++) {
    const key = keys.length > 0 && rng.bool(0.75) ? rng.pick(keys) : String(randomScalar(rng, vocab));
    out[key] = randomJson(rng, vocab, depth - 1);
  }
  return out;
}

/** A shape: literal values to pick from, or a function, or nested objects/arrays of shapes. */
export type Shape = { readonly oneOf: readonly Json[] } | { readonly make: (rng: Rng) => Json } | { readonly fields: Readonly<Record<string, Shape>>; readonly optional?: readonly string[] } | { readonly items: Shape; readonly max: number };

/** A value of the shape, with each node broken (wrong type, left out, extra key) with probability `breakP`. */
export function fromShape(rng: Rng, shape: Shape, vocab: JsonVocabulary, breakP = 0.08): Json {
  if (rng.bool(breakP)) return randomJson(rng, vocab, 2);
  if ('oneOf' in shape) return rng.pick(shape.oneOf);
  if ('make' in shape) return shape.make(rng);
  if ('items' in shape) {
    const n = rng.size(shape.max);
    return Array.from({ length: n }, () => fromShape(rng, shape.items, vocab, breakP));
  }
  const out: { [key: string]: Json } = {};
  for (const [key, field] of Object.entries(shape.fields)) {
    if (shape.optional?.includes(key) && rng.bool(0.5)) continue;
    if (rng.bool(breakP / 2)) continue; // a required field left out
    out[key] = fromShape(rng, field, vocab, breakP);
  }
  if (rng.bool(breakP)) out[rng.pick([...(vocab.keys ?? []), 'extra', '__proto__'])] = randomJson(rng, vocab, 1);
  return out;
}

/** JSON text of a value, in one of several spellings (compact, indented, unicode-escaped, with a BOM…). */
export function jsonText(rng: Rng, value: Json): string {
  const text = rng.bool(0.7) ? JSON.stringify(value) : JSON.stringify(value, null, rng.pick([1, 2, '\t']));
  switch (rng.int(10)) {
    case 0:
      return text.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    case 1:
      return ` \n${text}\n `;
    case 2:
      return `\ufeff${text}`;
    default:
      return text;
  }
}

/** `[[[…]]]` or `{"a":{"a":…}}` nested to about `bytes` bytes. */
export function deepJson(bytes: number, kind: 'array' | 'object' = 'array'): string {
  if (kind === 'array') {
    const depth = Math.max(1, Math.floor(bytes / 2));
    return '['.repeat(depth) + ']'.repeat(depth);
  }
  const depth = Math.max(1, Math.floor(bytes / 7));
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

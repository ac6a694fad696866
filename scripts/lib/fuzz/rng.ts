/**
 * The fuzzer's randomness: one small seeded PRNG per input (scripts/lib/seeded-random.ts, mulberry32), seeded
 * from (run seed, target, input index) alone, so input #i of a run can be made again without the i − 1 before
 * it (`scripts/fuzz --target T --seed K --index I`).
 */
import { seededRandom } from '../seeded-random.js';

export class Rng {
  private readonly next: () => number;

  constructor(seed: number) {
    this.next = seededRandom(seed);
  }

  /** [0, 1) */
  float(): number {
    return this.next();
  }

  /** An integer in [0, n) (n ≥ 1). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  bool(p = 0.5): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  u32(): number {
    return (this.next() * 0x1_0000_0000) >>> 0;
  }

  byte(): number {
    return this.int(256);
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }

  /** Small sizes often, large ones rarely: a power-law length in [0, max]. */
  size(max: number): number {
    const r = this.next();
    return Math.min(max, Math.floor(Math.pow(max + 1, r * r)) - 1 + (this.bool(0.1) ? this.int(4) : 0));
  }
}

/** 32-bit mix of the parts (murmur3's finaliser over a running hash). */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** A stable 32-bit id of a string (FNV-1a). */
export function stringId(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The generator of input #index of target `name` in the run seeded `seed`. */
export function inputRng(seed: number, name: string, index: number): Rng {
  return new Rng(mixSeed(seed, stringId(name), index, Math.floor(index / 0x1_0000_0000)));
}

/**
 * The addon's ChaCha20-Poly1305 (aead.cc, through createNativeAead) must agree
 * byte for byte with the node:crypto provider unit tests run on, and reject
 * what it rejects. Loads the addon, so it is an e2e test.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createNativeAead, loadAddon } from '../../switch/port/addon.js';
import { nodeAeadProvider } from '../../switch/link/noise/crypto.js';

const native = createNativeAead(loadAddon(), nodeAeadProvider);
const node = nodeAeadProvider;
const bytes = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

describe('native AEAD provider', () => {
  it('seals exactly as node:crypto on random inputs (lengths, pads, counters, AD)', () => {
    for (let i = 0; i < 300; i++) {
      const key = bytes(32);
      const length = i < 40 ? i : Math.floor(Math.random() * 1500);
      const pad = i % 16;
      const ad = i % 3 === 0 ? bytes(i % 48) : new Uint8Array(0);
      const lo = randomBytes(4).readUInt32LE(0);
      const hi = i % 5 === 0 ? randomBytes(4).readUInt32LE(0) : 0;
      const plaintext = bytes(length);
      const offset = i % 2 === 0 ? 16 : 0;
      const a = new Uint8Array(offset + length + pad + 16);
      const b = new Uint8Array(offset + length + pad + 16);
      native.seal(key, lo, hi, plaintext, ad, a, offset, pad);
      node.seal(key, lo, hi, plaintext, ad, b, offset, pad);
      expect(Buffer.from(a).toString('hex')).toBe(Buffer.from(b).toString('hex'));

      const box = a.subarray(offset);
      const opened = native.open(key, lo, hi, box, ad);
      expect(opened).not.toBeNull();
      expect(Buffer.from(opened!).equals(Buffer.from(node.open(key, lo, hi, box, ad)!))).toBe(true);
      expect(Buffer.from(opened!.subarray(0, length)).equals(Buffer.from(plaintext))).toBe(true);
    }
  });

  it('rejects what node:crypto rejects: flipped bits, wrong counter, wrong AD, runts', () => {
    const key = bytes(32);
    const plaintext = bytes(100);
    const box = new Uint8Array(116);
    native.seal(key, 7, 0, plaintext, new Uint8Array(0), box, 0, 0);
    for (const at of [0, 50, 99, 100, 115]) {
      const bad = Uint8Array.from(box);
      bad[at]! ^= 1;
      expect(native.open(key, 7, 0, bad, new Uint8Array(0))).toBeNull();
      expect(node.open(key, 7, 0, bad, new Uint8Array(0))).toBeNull();
    }
    expect(native.open(key, 8, 0, box, new Uint8Array(0))).toBeNull();
    expect(native.open(key, 7, 1, box, new Uint8Array(0))).toBeNull();
    expect(native.open(key, 7, 0, box, Uint8Array.of(1))).toBeNull();
    expect(native.open(key, 7, 0, box.subarray(0, 15), new Uint8Array(0))).toBeNull();
    expect(native.open(key, 7, 0, box, new Uint8Array(0))).not.toBeNull();
  });

  it('hands out plaintexts that stay intact while later packets are opened', () => {
    const key = bytes(32);
    const kept: { plain: Uint8Array; copy: Uint8Array }[] = [];
    for (let i = 0; i < 400; i++) {
      const plaintext = bytes(1400);
      const box = new Uint8Array(1416);
      native.seal(key, i, 0, plaintext, new Uint8Array(0), box, 0, 0);
      kept.push({ plain: native.open(key, i, 0, box, new Uint8Array(0))!, copy: plaintext });
    }
    for (const { plain, copy } of kept) expect(Buffer.from(plain).equals(Buffer.from(copy))).toBe(true);
  });

  it('reports node:crypto errors for a bad key on seal (falls back)', () => {
    expect(() => native.seal(bytes(16), 0, 0, bytes(10), new Uint8Array(0), new Uint8Array(26), 0, 0)).toThrow();
  });
});

import { describe, expect, it } from 'vitest';
import { blake2s } from '@noble/hashes/blake2.js';
import { hmac as nobleHmac } from '@noble/hashes/hmac.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import {
  aeadOpen,
  aeadSeal,
  decodeKeyBase64,
  dh,
  encodeKeyBase64,
  generatePrivateKey,
  hash,
  hmac,
  kdf1,
  kdf2,
  kdf3,
  mac,
  publicKey,
  xaeadOpen,
  xaeadSeal,
} from '../../../../switch/link/noise/crypto.js';
import { INITIAL_CHAIN_KEY, INITIAL_HASH } from '../../../../switch/link/noise/handshake.js';
import { seededRandom } from './harness.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const fromHex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('noise crypto primitives', () => {
  it('BLAKE2s-256 known answer (RFC 7693 appendix B, "abc")', () => {
    expect(hex(hash(utf8('abc')))).toBe('508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982');
    expect(hex(hash(utf8('a'), utf8('bc')))).toBe(hex(hash(utf8('abc'))));
  });

  it('WireGuard chain constants: Ci = HASH(construction), Hi = HASH(Ci ‖ identifier)', () => {
    expect(hex(INITIAL_CHAIN_KEY)).toBe('60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36');
    expect(hex(INITIAL_HASH)).toBe('2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3');
    // independently with @noble/hashes
    const ci = blake2s(utf8('Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s'));
    expect(hex(ci)).toBe(hex(INITIAL_CHAIN_KEY));
    expect(hex(blake2s(new Uint8Array([...ci, ...utf8('WireGuard v1 zx2c4 Jason@zx2c4.com')])))).toBe(hex(INITIAL_HASH));
  });

  it('HMAC-BLAKE2s matches @noble/hashes, and KDF1/2/3 follow the HKDF chain', () => {
    const key = fromHex('00'.repeat(31) + '01');
    const input = utf8('input keying material');
    expect(hex(hmac(key, input))).toBe(hex(nobleHmac(blake2s, key, input)));
    const t0 = hmac(key, input);
    const t1 = hmac(t0, Uint8Array.of(1));
    const t2 = hmac(t0, new Uint8Array([...t1, 2]));
    const t3 = hmac(t0, new Uint8Array([...t2, 3]));
    expect(hex(kdf1(key, input))).toBe(hex(t1));
    expect(kdf2(key, input).map(hex)).toEqual([t1, t2].map(hex));
    expect(kdf3(key, input).map(hex)).toEqual([t1, t2, t3].map(hex));
  });

  it('MAC is keyed BLAKE2s with 16-byte output', () => {
    const m = mac(new Uint8Array(32).fill(1), utf8('msg'));
    expect(m.length).toBe(16);
    expect(hex(m)).not.toBe(hex(mac(new Uint8Array(32).fill(2), utf8('msg'))));
  });

  it('AEAD: nonce is 4 zero bytes ‖ u64le counter, matches @noble/ciphers, padding, tamper → null', () => {
    const key = new Uint8Array(32).fill(9);
    const pt = utf8('seventeen bytes!!');
    const out = new Uint8Array(32 + 16);
    aeadSeal(key, 0x01020304, 0x05, pt, new Uint8Array(0), out, 0, 15);
    const nonce = fromHex('00000000' + '0403020105000000');
    const padded = new Uint8Array(32);
    padded.set(pt);
    expect(hex(out)).toBe(hex(chacha20poly1305(key, nonce).encrypt(padded)));
    expect(hex(aeadOpen(key, 0x01020304, 5, out, new Uint8Array(0)) ?? new Uint8Array())).toBe(hex(padded));
    expect(aeadOpen(key, 0x01020305, 5, out, new Uint8Array(0))).toBeNull();
    out[3] = (out[3] ?? 0) ^ 0x80;
    expect(aeadOpen(key, 0x01020304, 5, out, new Uint8Array(0))).toBeNull();
    const ad = utf8('header hash');
    const sealed = new Uint8Array(16 + 3);
    aeadSeal(key, 0, 0, utf8('abc'), ad, sealed);
    expect(hex(sealed)).toBe(hex(chacha20poly1305(key, new Uint8Array(12), ad).encrypt(utf8('abc'))));
    expect(aeadOpen(key, 0, 0, sealed, utf8('other ad'))).toBeNull();
  });

  it('XAEAD round trip; wrong AD or tamper → null', () => {
    const key = new Uint8Array(32).fill(3);
    const nonce = new Uint8Array(24).fill(4);
    const box = xaeadSeal(key, nonce, utf8('cookie-16-bytes!'), utf8('mac1'));
    expect(box.length).toBe(32);
    expect(new TextDecoder().decode(xaeadOpen(key, nonce, box, utf8('mac1')) ?? new Uint8Array())).toBe('cookie-16-bytes!');
    expect(xaeadOpen(key, nonce, box, utf8('mac2'))).toBeNull();
  });

  it('X25519 known answer (RFC 7748 §6.1) and low-order points rejected', () => {
    const alice = fromHex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
    const bob = fromHex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
    expect(hex(publicKey(alice))).toBe('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
    expect(hex(publicKey(bob))).toBe('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
    const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
    expect(hex(dh(alice, publicKey(bob)) ?? new Uint8Array())).toBe(shared);
    expect(hex(dh(bob, publicKey(alice)) ?? new Uint8Array())).toBe(shared);
    expect(dh(alice, new Uint8Array(32))).toBeNull();
    expect(dh(alice, fromHex('0100000000000000000000000000000000000000000000000000000000000000'))).toBeNull();
    expect(dh(alice, fromHex('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800'))).toBeNull();
  });

  it('generatePrivateKey clamps like wg genkey; base64 key text round-trips and rejects bad lengths', () => {
    const k = generatePrivateKey(() => new Uint8Array(32).fill(0xff));
    expect(k[0]).toBe(0xf8);
    expect(k[31]).toBe(0x7f);
    const key = generatePrivateKey(seededRandom(3));
    const text = encodeKeyBase64(key);
    expect(text).toHaveLength(44);
    expect(hex(decodeKeyBase64(`${text}\n`))).toBe(hex(key));
    for (const bad of ['', 'abc', Buffer.alloc(31).toString('base64'), Buffer.alloc(33).toString('base64'), `${text.slice(0, 43)}!`]) {
      expect(() => decodeKeyBase64(bad)).toThrow(expect.objectContaining({ code: 'noise-key-invalid', name: 'NoiseKeyError' }));
    }
    expect(() => encodeKeyBase64(new Uint8Array(31))).toThrow(expect.objectContaining({ code: 'noise-key-invalid' }));
  });
});

/**
 * WireGuard's cryptographic primitives (whitepaper §5.4), and the ONLY file of
 * the noise core that imports crypto libraries.
 *
 * Library per primitive, chosen by measurement (scripts/bench/crypto.ts, Node 20,
 * OpenSSL 3.0; figures in the module's report):
 * - HASH (BLAKE2s-256), HMAC-BLAKE2s: node:crypto `blake2s256` — 2.5–4× @noble/hashes.
 * - MAC (keyed BLAKE2s, 16-byte output): @noble/hashes — Node cannot key BLAKE2s.
 * - AEAD (ChaCha20-Poly1305): an injectable AeadProvider. The default is node:crypto,
 *   one cipher object per packet — ≈6 µs per 1420-byte seal vs ≈18 µs for
 *   @noble/ciphers; still ahead at 64 bytes (3.7 vs 4.8 µs). The per-packet object is
 *   most of the cost, so the daemon installs the addon's provider when the addon loads
 *   (switch/port/addon.ts createNativeAead: reused OpenSSL contexts, ≈1.1 µs per 1420-byte
 *   seal). Unit tests never load the addon and keep node:crypto; test/e2e/native-aead.test.ts
 *   checks the two agree. This file still imports no addon: the provider is handed in.
 * - XAEAD (XChaCha20-Poly1305, cookie replies only): @noble/ciphers — Node lacks it.
 * - X25519: node:crypto `diffieHellman`. OpenSSL refuses an all-zero shared secret
 *   (low-order point), as WireGuard requires; tweetnacl silently returns zeros and is
 *   ≈15× slower. Importing a raw private key as PKCS#8 costs ≈400 µs (10× the scalar
 *   multiplication), so private keys are imported as JWK (≈40 µs); Node requires the
 *   `x` member but ignores it for a private OKP key. That is checked once against
 *   RFC 7748 §6.1 at load, with the PKCS#8 path as fallback.
 *
 * Keys handed to dh() can be raw 32-byte arrays or prepared DhPrivateKey/DhPublicKey
 * objects (prepare the static keys once: importing is the expensive part).
 */
import nodeCrypto from 'node:crypto';
import { blake2s } from '@noble/hashes/blake2.js';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { AEAD_TAG_BYTES, KEY_BYTES, MAC_BYTES } from './constants.js';
import { NoiseKeyError } from './errors.js';

/** Source of randomness, injected by the caller (crypto.randomBytes at the edge, seeded in tests). */
export type RandomBytes = (length: number) => Uint8Array;

const EMPTY = new Uint8Array(0);

// ---- HASH, HMAC, KDF, MAC ---------------------------------------------------------

/** HASH(a ‖ b ‖ …) = BLAKE2s-256. */
export function hash(...parts: Uint8Array[]): Uint8Array {
  const h = nodeCrypto.createHash('blake2s256');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** HMAC-BLAKE2s(key, a ‖ b ‖ …), 32 bytes. */
export function hmac(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = nodeCrypto.createHmac('blake2s256', key);
  for (const p of parts) h.update(p);
  return h.digest();
}

const ONE = Uint8Array.of(1);
const TWO = Uint8Array.of(2);
const THREE = Uint8Array.of(3);

/** KDF1(key, input) = τ1 where τ0 = HMAC(key, input), τ1 = HMAC(τ0, 0x1). */
export function kdf1(key: Uint8Array, input: Uint8Array): Uint8Array {
  const t0 = hmac(key, input);
  const t1 = hmac(t0, ONE);
  t0.fill(0);
  return t1;
}

/** KDF2: (τ1, τ2), τ2 = HMAC(τ0, τ1 ‖ 0x2). */
export function kdf2(key: Uint8Array, input: Uint8Array): [Uint8Array, Uint8Array] {
  const t0 = hmac(key, input);
  const t1 = hmac(t0, ONE);
  const t2 = hmac(t0, t1, TWO);
  t0.fill(0);
  return [t1, t2];
}

/** KDF3: (τ1, τ2, τ3), τ3 = HMAC(τ0, τ2 ‖ 0x3). */
export function kdf3(key: Uint8Array, input: Uint8Array): [Uint8Array, Uint8Array, Uint8Array] {
  const t0 = hmac(key, input);
  const t1 = hmac(t0, ONE);
  const t2 = hmac(t0, t1, TWO);
  const t3 = hmac(t0, t2, THREE);
  t0.fill(0);
  return [t1, t2, t3];
}

/** MAC(key, data) = keyed BLAKE2s with a 16-byte output (mac1, mac2, cookies). */
export function mac(key: Uint8Array, data: Uint8Array): Uint8Array {
  return blake2s(data, { key, dkLen: MAC_BYTES });
}

// ---- AEAD ---------------------------------------------------------------------

// Nonce: 32 zero bits then the 64-bit little-endian counter. createCipheriv copies
// the iv, so one module-level buffer is safe to reuse.
const nonce = new Uint8Array(12);
const nonceView = new DataView(nonce.buffer);
const ZERO_PAD = new Uint8Array(16);

function setNonce(counterLo: number, counterHi: number): void {
  nonceView.setUint32(4, counterLo, true);
  nonceView.setUint32(8, counterHi, true);
}

/**
 * Where ChaCha20-Poly1305 runs. Both functions follow aeadSeal/aeadOpen below
 * exactly (same arguments, same results); `open` must return a plaintext the
 * caller may keep (never a view of `box` or of a reused buffer).
 */
export interface AeadProvider {
  readonly name: string;
  seal(
    key: Uint8Array,
    counterLo: number,
    counterHi: number,
    plaintext: Uint8Array,
    ad: Uint8Array,
    out: Uint8Array,
    outOffset: number,
    padBytes: number,
  ): void;
  open(key: Uint8Array, counterLo: number, counterHi: number, box: Uint8Array, ad: Uint8Array): Uint8Array | null;
}

/** node:crypto, a cipher object per call: the default, and what unit tests use. */
export const nodeAeadProvider: AeadProvider = { name: 'node:crypto', seal: nodeSeal, open: nodeOpen };

/**
 * ChaCha20-Poly1305 seal of `plaintext` followed by `padBytes` zero bytes (< 16),
 * written to `out` at `outOffset` (ciphertext then 16-byte tag). The counter is
 * given as two u32 halves (measured cheaper than a bigint on the data path).
 */
export function aeadSeal(
  key: Uint8Array,
  counterLo: number,
  counterHi: number,
  plaintext: Uint8Array,
  ad: Uint8Array,
  out: Uint8Array,
  outOffset = 0,
  padBytes = 0,
): void {
  nodeSeal(key, counterLo, counterHi, plaintext, ad, out, outOffset, padBytes);
}

/** Seal into a new array: ciphertext ‖ tag. For handshake fields. */
export function aeadSealNew(key: Uint8Array, counter: number, plaintext: Uint8Array, ad: Uint8Array): Uint8Array {
  const out = new Uint8Array(plaintext.length + AEAD_TAG_BYTES);
  aeadSeal(key, counter, 0, plaintext, ad, out);
  return out;
}

/** ChaCha20-Poly1305 open of ciphertext ‖ tag; null when authentication fails. */
export function aeadOpen(
  key: Uint8Array,
  counterLo: number,
  counterHi: number,
  box: Uint8Array,
  ad: Uint8Array,
): Uint8Array | null {
  return nodeOpen(key, counterLo, counterHi, box, ad);
}

function nodeSeal(
  key: Uint8Array,
  counterLo: number,
  counterHi: number,
  plaintext: Uint8Array,
  ad: Uint8Array,
  out: Uint8Array,
  outOffset: number,
  padBytes: number,
): void {
  setNonce(counterLo, counterHi);
  const cipher = nodeCrypto.createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: AEAD_TAG_BYTES });
  if (ad.length > 0) cipher.setAAD(ad, { plaintextLength: plaintext.length + padBytes });
  let offset = outOffset;
  if (plaintext.length > 0) {
    const ct = cipher.update(plaintext);
    out.set(ct, offset);
    offset += ct.length;
  }
  if (padBytes > 0) {
    const ct = cipher.update(ZERO_PAD.subarray(0, padBytes));
    out.set(ct, offset);
    offset += ct.length;
  }
  cipher.final();
  out.set(cipher.getAuthTag(), offset);
}

function nodeOpen(key: Uint8Array, counterLo: number, counterHi: number, box: Uint8Array, ad: Uint8Array): Uint8Array | null {
  if (box.length < AEAD_TAG_BYTES) return null;
  setNonce(counterLo, counterHi);
  const decipher = nodeCrypto.createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: AEAD_TAG_BYTES });
  const ctLength = box.length - AEAD_TAG_BYTES;
  decipher.setAuthTag(box.subarray(ctLength));
  if (ad.length > 0) decipher.setAAD(ad, { plaintextLength: ctLength });
  const plaintext = ctLength > 0 ? decipher.update(box.subarray(0, ctLength)) : EMPTY;
  try {
    decipher.final();
  } catch {
    // OpenSSL reports a bad tag by throwing; that is an expected result here.
    return null;
  }
  return plaintext;
}

/** XChaCha20-Poly1305 seal (24-byte nonce): ciphertext ‖ tag. Cookie replies only. */
export function xaeadSeal(key: Uint8Array, nonce24: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Uint8Array {
  return xchacha20poly1305(key, nonce24, ad).encrypt(plaintext);
}

/** XChaCha20-Poly1305 open; null when authentication fails. */
export function xaeadOpen(key: Uint8Array, nonce24: Uint8Array, box: Uint8Array, ad: Uint8Array): Uint8Array | null {
  if (box.length < AEAD_TAG_BYTES) return null;
  try {
    return xchacha20poly1305(key, nonce24, ad).decrypt(box);
  } catch {
    // noble reports a bad tag by throwing; that is an expected result here.
    return null;
  }
}

// ---- X25519 -------------------------------------------------------------------

const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const DUMMY_X = Buffer.alloc(KEY_BYTES).toString('base64url');

function importPrivatePkcs8(raw: Uint8Array): nodeCrypto.KeyObject {
  return nodeCrypto.createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
}
function importPrivateJwk(raw: Uint8Array): nodeCrypto.KeyObject {
  const d = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64url');
  return nodeCrypto.createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d, x: DUMMY_X }, format: 'jwk' });
}
function exportPublic(privateKey: nodeCrypto.KeyObject): Uint8Array {
  const x = nodeCrypto.createPublicKey(privateKey).export({ format: 'jwk' }).x ?? '';
  return new Uint8Array(Buffer.from(x, 'base64url'));
}

/** RFC 7748 §6.1 (Alice): decides once whether the cheap JWK import is trustworthy here. */
function jwkImportIsSound(): boolean {
  const priv = Buffer.from('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a', 'hex');
  const expected = '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a';
  try {
    return Buffer.from(exportPublic(importPrivateJwk(priv))).toString('hex') === expected;
  } catch {
    return false;
  }
}
const importPrivate = jwkImportIsSound() ? importPrivateJwk : importPrivatePkcs8;

/** A private key prepared for repeated dh() calls (holds the raw bytes and Node's key object). */
export class DhPrivateKey {
  readonly raw: Uint8Array;
  readonly publicKey: Uint8Array;
  /** @internal */
  readonly object: nodeCrypto.KeyObject;
  constructor(raw: Uint8Array) {
    if (raw.length !== KEY_BYTES) throw new NoiseKeyError(`private key: expected ${KEY_BYTES} bytes, got ${raw.length}`);
    this.raw = new Uint8Array(raw);
    this.object = importPrivate(this.raw);
    this.publicKey = exportPublic(this.object);
  }
  /** Forget the raw bytes (Node's key object cannot be wiped; drop the reference). */
  zero(): void {
    this.raw.fill(0);
  }
}

/** A peer's public key prepared for repeated dh() calls. */
export class DhPublicKey {
  readonly raw: Uint8Array;
  /** @internal */
  readonly object: nodeCrypto.KeyObject;
  constructor(raw: Uint8Array) {
    if (raw.length !== KEY_BYTES) throw new NoiseKeyError(`public key: expected ${KEY_BYTES} bytes, got ${raw.length}`);
    this.raw = new Uint8Array(raw);
    const x = Buffer.from(this.raw.buffer, this.raw.byteOffset, KEY_BYTES).toString('base64url');
    this.object = nodeCrypto.createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' });
  }
}

/**
 * X25519(priv, pub). Returns null when the result would be all zeros (pub is a
 * low-order point): WireGuard treats that as a failed handshake.
 */
export function dh(priv: Uint8Array | DhPrivateKey, pub: Uint8Array | DhPublicKey): Uint8Array | null {
  const privateKey = priv instanceof DhPrivateKey ? priv : new DhPrivateKey(priv);
  const publicKey = pub instanceof DhPublicKey ? pub : new DhPublicKey(pub);
  let shared: Uint8Array;
  try {
    shared = nodeCrypto.diffieHellman({ privateKey: privateKey.object, publicKey: publicKey.object });
  } catch {
    // OpenSSL fails the derivation when the output is all zeros (low-order point).
    return null;
  }
  let acc = 0;
  for (let i = 0; i < shared.length; i++) acc |= shared[i] ?? 0;
  return acc === 0 ? null : shared;
}

/** A fresh Curve25519 private key from `randomBytes`, clamped as `wg genkey` does. */
export function generatePrivateKey(randomBytes: RandomBytes): Uint8Array {
  const k = new Uint8Array(randomBytes(KEY_BYTES).subarray(0, KEY_BYTES));
  if (k.length !== KEY_BYTES) throw new NoiseKeyError(`randomBytes: returned ${k.length} bytes, wanted ${KEY_BYTES}`);
  k[0] = (k[0] ?? 0) & 248;
  k[31] = ((k[31] ?? 0) & 127) | 64;
  return k;
}

/** The public key of a private key (what `wg pubkey` prints, before base64). */
export function publicKey(priv: Uint8Array): Uint8Array {
  return new DhPrivateKey(priv).publicKey;
}

// ---- key text (wg genkey / wg pubkey format) -------------------------------------

const BASE64_KEY = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

/** Standard base64 with padding: 44 characters, as `wg genkey | wg pubkey` print. */
export function encodeKeyBase64(key: Uint8Array): string {
  if (key.length !== KEY_BYTES) throw new NoiseKeyError(`encode key: expected ${KEY_BYTES} bytes, got ${key.length}`);
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('base64');
}

/** Parses a 44-character base64 key; throws NoiseKeyError (code noise-key-invalid) otherwise. */
export function decodeKeyBase64(text: string): Uint8Array {
  const trimmed = text.trim();
  if (!BASE64_KEY.test(trimmed)) {
    throw new NoiseKeyError(`decode key: not 44 characters of base64 for a ${KEY_BYTES}-byte key (got ${trimmed.length} characters)`);
  }
  return new Uint8Array(Buffer.from(trimmed, 'base64'));
}

/** Constant-time equality for MACs and keys. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return nodeCrypto.timingSafeEqual(a, b);
}

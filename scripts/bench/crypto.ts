/**
 * Crypto primitive benchmark: which library to use for each WireGuard primitive.
 *
 * Run: `npx tsc -p tsconfig.build.json && node dist/scripts/bench/crypto.js`
 *      (add `--json` for machine-readable output).
 *
 * Each case runs 5 samples of ≈40 ms (≈200 ms per case) and reports the median.
 * Before timing, every candidate's output is compared with the other candidates
 * (and, for X25519, its handling of a low-order point is checked: WireGuard
 * requires an all-zero shared secret to be an error). Libraries: node:crypto
 * (OpenSSL 3), @noble/hashes + @noble/ciphers (pure JS), tweetnacl (pure JS;
 * only X25519 of what we need). This file is a script, not core: it may import
 * the libraries directly.
 */
import crypto from 'node:crypto';
import { blake2s } from '@noble/hashes/blake2.js';
import { hmac as nobleHmac } from '@noble/hashes/hmac.js';
import { chacha20poly1305, xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import nacl from 'tweetnacl';

const SAMPLES = 5;
const SAMPLE_MS = 40;

interface Row {
  primitive: string;
  library: string;
  correct: boolean;
  opsPerSecond: number;
  microsPerOp: number;
}

const rows: Row[] = [];

function measure(primitive: string, library: string, correct: boolean, op: () => unknown): void {
  for (let i = 0; i < 50; i++) op(); // warm-up
  const rates: number[] = [];
  for (let s = 0; s < SAMPLES; s++) {
    let n = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < SAMPLE_MS) {
      for (let i = 0; i < 16; i++) op();
      n += 16;
      elapsed = performance.now() - start;
    }
    rates.push((n * 1000) / elapsed);
  }
  rates.sort((a, b) => a - b);
  const median = rates[Math.floor(SAMPLES / 2)] ?? 0;
  rows.push({ primitive, library, correct, opsPerSecond: median, microsPerOp: 1e6 / median });
}

const equal = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
const rnd = (n: number): Uint8Array => new Uint8Array(crypto.randomBytes(n));

// ---- X25519 ---------------------------------------------------------------
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const LOW_ORDER = new Uint8Array(32); // the all-zero point: DH output is all zeros

function nodeDh(priv: Uint8Array, pub: Uint8Array): Uint8Array | null {
  try {
    const privateKey = crypto.createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, priv]), format: 'der', type: 'pkcs8' });
    const publicKey = crypto.createPublicKey({ key: Buffer.concat([SPKI_PREFIX, pub]), format: 'der', type: 'spki' });
    return new Uint8Array(crypto.diffieHellman({ privateKey, publicKey }));
  } catch {
    return null; // OpenSSL refuses an all-zero result (low-order point)
  }
}
function nodePub(priv: Uint8Array): Uint8Array {
  const k = crypto.createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, priv]), format: 'der', type: 'pkcs8' });
  return new Uint8Array(crypto.createPublicKey(k).export({ format: 'der', type: 'spki' }).subarray(12));
}
const a = rnd(32);
const b = rnd(32);
const naclShared = nacl.scalarMult(a, nacl.scalarMult.base(b));
const nodeShared = nodeDh(a, nodePub(b));
const x25519Agree = nodeShared !== null && equal(naclShared, nodeShared);
const nodeRejectsLowOrder = nodeDh(a, LOW_ORDER) === null;
const naclLowOrder = nacl.scalarMult(a, LOW_ORDER);
const naclRejectsLowOrder = !naclLowOrder.every((x) => x === 0); // false: it returns zeros silently
const bPub = nodePub(b);
// PKCS#8 import makes OpenSSL do far more work than the scalar multiplication; a JWK
// import of the raw scalar (x is required by Node's parser but ignored for a private
// OKP key: the public half is recomputed) is ~8× cheaper. crypto.ts self-checks that.
const DUMMY_X = Buffer.alloc(32).toString('base64url');
const jwkPrivate = (priv: Uint8Array): crypto.KeyObject =>
  crypto.createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: Buffer.from(priv).toString('base64url'), x: DUMMY_X }, format: 'jwk' });
const jwkPublic = (pub: Uint8Array): crypto.KeyObject =>
  crypto.createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(pub).toString('base64url') }, format: 'jwk' });
const jwkPub = (priv: Uint8Array): Uint8Array =>
  new Uint8Array(Buffer.from(crypto.createPublicKey(jwkPrivate(priv)).export({ format: 'jwk' }).x ?? '', 'base64url'));
const aObj = jwkPrivate(a);
const bObj = jwkPublic(bPub);
const cachedAgree = equal(new Uint8Array(crypto.diffieHellman({ privateKey: aObj, publicKey: bObj })), naclShared);
measure('X25519 shared secret', 'node:crypto (DER import both keys)', x25519Agree && nodeRejectsLowOrder, () => nodeDh(a, bPub));
measure('X25519 shared secret', 'node:crypto (JWK import pub, priv cached)', cachedAgree && nodeRejectsLowOrder, () =>
  crypto.diffieHellman({ privateKey: aObj, publicKey: jwkPublic(bPub) }),
);
measure('X25519 shared secret', 'node:crypto (both KeyObjects cached)', cachedAgree && nodeRejectsLowOrder, () =>
  crypto.diffieHellman({ privateKey: aObj, publicKey: bObj }),
);
measure('X25519 shared secret', 'tweetnacl', x25519Agree && naclRejectsLowOrder, () => nacl.scalarMult(a, bPub));
const pubAgree = equal(nodePub(a), nacl.scalarMult.base(a)) && equal(jwkPub(a), nodePub(a));
measure('X25519 keygen (pub from priv)', 'node:crypto (DER pkcs8 import)', pubAgree, () => nodePub(a));
measure('X25519 keygen (pub from priv)', 'node:crypto (JWK import)', pubAgree, () => jwkPub(a));
measure('X25519 keygen (pub from priv)', 'tweetnacl', pubAgree, () => nacl.scalarMult.base(a));

// ---- BLAKE2s-256 hash, HMAC-BLAKE2s, keyed BLAKE2s-128 ------------------------
const msg = rnd(116); // e.g. H ‖ 84-byte ephemeral chunk: handshake-sized inputs
const key32 = rnd(32);
const nodeHash = (m: Uint8Array): Uint8Array => new Uint8Array(crypto.createHash('blake2s256').update(m).digest());
const hashAgree = equal(nodeHash(msg), blake2s(msg));
measure('BLAKE2s-256 hash (116 B)', 'node:crypto', hashAgree, () => nodeHash(msg));
measure('BLAKE2s-256 hash (116 B)', '@noble/hashes', hashAgree, () => blake2s(msg));
const nodeHmac = (k: Uint8Array, m: Uint8Array): Uint8Array =>
  new Uint8Array(crypto.createHmac('blake2s256', k).update(m).digest());
const hmacAgree = equal(nodeHmac(key32, msg), nobleHmac(blake2s, key32, msg));
measure('HMAC-BLAKE2s (116 B)', 'node:crypto', hmacAgree, () => nodeHmac(key32, msg));
measure('HMAC-BLAKE2s (116 B)', '@noble/hashes', hmacAgree, () => nobleHmac(blake2s, key32, msg));
const mac = blake2s(msg, { key: key32, dkLen: 16 });
measure('keyed BLAKE2s-128 (116 B)', '@noble/hashes', mac.length === 16, () => blake2s(msg, { key: key32, dkLen: 16 }));

// ---- ChaCha20-Poly1305 -----------------------------------------------------
const aeadKey = rnd(32);
const aeadKeyObject = crypto.createSecretKey(aeadKey);
const nonce = new Uint8Array(12);
const nonceView = new DataView(nonce.buffer);

function nodeSeal(key: Uint8Array | crypto.KeyObject, n: Uint8Array, pt: Uint8Array, out: Uint8Array): Uint8Array {
  const c = crypto.createCipheriv('chacha20-poly1305', key, n, { authTagLength: 16 });
  const ct = c.update(pt);
  c.final();
  out.set(ct, 0);
  out.set(c.getAuthTag(), pt.length);
  return out;
}
function nodeOpen(key: Uint8Array | crypto.KeyObject, n: Uint8Array, box: Uint8Array): Uint8Array | null {
  const d = crypto.createDecipheriv('chacha20-poly1305', key, n, { authTagLength: 16 });
  d.setAuthTag(box.subarray(box.length - 16));
  const pt = d.update(box.subarray(0, box.length - 16));
  try {
    d.final();
  } catch {
    return null;
  }
  return pt;
}
for (const size of [1420, 64]) {
  const pt = rnd(size);
  const out = new Uint8Array(size + 16);
  const nodeBox = nodeSeal(aeadKey, nonce, pt, new Uint8Array(size + 16));
  const nobleBox = chacha20poly1305(aeadKey, nonce).encrypt(pt);
  const agree = equal(nodeBox, nobleBox) && nodeOpen(aeadKey, nonce, nobleBox) !== null;
  let counter = 0;
  measure(`ChaCha20-Poly1305 seal ${size} B`, 'node:crypto createCipheriv/packet', agree, () => {
    nonceView.setUint32(4, counter++, true);
    return nodeSeal(aeadKey, nonce, pt, out);
  });
  measure(`ChaCha20-Poly1305 seal ${size} B`, 'node:crypto + KeyObject', agree, () => {
    nonceView.setUint32(4, counter++, true);
    return nodeSeal(aeadKeyObject, nonce, pt, out);
  });
  measure(`ChaCha20-Poly1305 seal ${size} B`, '@noble/ciphers (into buffer)', agree, () => {
    nonceView.setUint32(4, counter++, true);
    return chacha20poly1305(aeadKey, nonce).encrypt(pt, out);
  });
  nonceView.setUint32(4, 0, true);
  measure(`ChaCha20-Poly1305 open ${size} B`, 'node:crypto createDecipheriv/packet', agree, () => nodeOpen(aeadKey, nonce, nodeBox));
  const outPt = new Uint8Array(size);
  measure(`ChaCha20-Poly1305 open ${size} B`, '@noble/ciphers (into buffer)', agree, () =>
    chacha20poly1305(aeadKey, nonce).decrypt(nodeBox, outPt),
  );
}

// ---- XChaCha20-Poly1305 (cookie reply: 16-byte cookie, 16-byte AD) ---------------
const xnonce = rnd(24);
const cookie = rnd(16);
const xbox = xchacha20poly1305(aeadKey, xnonce, mac).encrypt(cookie);
const xagree = equal(xchacha20poly1305(aeadKey, xnonce, mac).decrypt(xbox), cookie);
measure('XChaCha20-Poly1305 seal 16 B', '@noble/ciphers', xagree, () => xchacha20poly1305(aeadKey, xnonce, mac).encrypt(cookie));

// ---- Counter representation on the data path -------------------------------
const nonce2 = new Uint8Array(12);
const view2 = new DataView(nonce2.buffer);
let big = 0n;
measure('nonce write + increment', 'bigint setBigUint64', true, () => {
  view2.setBigUint64(4, big, true);
  big += 1n;
});
let lo = 0;
let hi = 0;
measure('nonce write + increment', 'u32 pair setUint32 ×2', true, () => {
  view2.setUint32(4, lo, true);
  view2.setUint32(8, hi, true);
  lo = (lo + 1) >>> 0;
  if (lo === 0) hi++;
});
let num = 0;
measure('nonce write + increment', 'number (exact < 2^53)', true, () => {
  view2.setUint32(4, num >>> 0, true);
  view2.setUint32(8, Math.floor(num / 4294967296), true);
  num++;
});

// ---- Output ----------------------------------------------------------------
if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ node: process.version, samples: SAMPLES, sampleMs: SAMPLE_MS, rows }, null, 2));
} else {
  const pad = (s: string, n: number): string => s.padEnd(n);
  console.log(`node ${process.version}, median of ${SAMPLES} × ${SAMPLE_MS} ms`);
  console.log(pad('primitive', 34) + pad('library', 44) + pad('correct', 9) + 'ops/s'.padStart(12) + 'µs/op'.padStart(10));
  for (const r of rows) {
    console.log(
      pad(r.primitive, 34) +
        pad(r.library, 44) +
        pad(r.correct ? 'yes' : 'NO', 9) +
        Math.round(r.opsPerSecond).toLocaleString('en-US').padStart(12) +
        r.microsPerOp.toFixed(2).padStart(10),
    );
  }
}

/**
 * TAI64N timestamps (https://cr.yp.to/libtai/tai64.html) as WireGuard puts them
 * in handshake initiations: 8 bytes big-endian seconds (2^62 + 10 + unix
 * seconds) then 4 bytes big-endian nanoseconds. The responder accepts an
 * initiation only if its timestamp is greater than the last accepted one from
 * that peer. Like wireguard-go, the nanoseconds are rounded down to a 2^24 ns
 * (≈16.8 ms) step so the timestamp does not leak a precise clock.
 */
import { TAI64N_BYTES } from './constants.js';

const TAI64_BASE = 0x4000000000000000n + 10n;
const WHITENER_MASK = 0x1000000 - 1;

/** TAI64N of the wall clock `wallNowMs` (Unix epoch milliseconds). */
export function tai64n(wallNowMs: number): Uint8Array {
  const out = new Uint8Array(TAI64N_BYTES);
  const view = new DataView(out.buffer);
  const seconds = Math.floor(wallNowMs / 1000);
  const nanos = Math.floor((wallNowMs - seconds * 1000) * 1e6);
  view.setBigUint64(0, TAI64_BASE + BigInt(seconds), false);
  view.setUint32(8, (nanos & ~WHITENER_MASK) >>> 0, false);
  return out;
}

/** a > b, comparing as big-endian numbers (what "newer" means for TAI64N). */
export function isTai64nAfter(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < TAI64N_BYTES; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return false;
}

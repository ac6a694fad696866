/**
 * WireGuard's sliding replay window over transport counters (RFC 6479 style;
 * wireguard-go `replay/replay.go`, kernel `counter_validate`).
 *
 * A ring of 256 × 32-bit blocks (8192 bits). Moving the window forward clears
 * the blocks it passes; the block holding the highest counter is never reused
 * by a counter still inside the window, so the usable window is 255 × 32 =
 * 8160 counters: `last − 8159 … last` can still be accepted once, anything at
 * or behind `last − 8160` is out of window. (wireguard-go's 64-bit blocks give
 * 8128; the exact size is a local choice, invisible on the wire.)
 *
 * Counters are 64-bit, kept as two u32 halves so the whole range is exact
 * without bigint (measured: bigint nonce handling is ~3× slower). Call
 * `validate` only AFTER the packet authenticated: an unauthenticated counter
 * must never move the window.
 */
import { REJECT_AFTER_MESSAGES } from './constants.js';

const BLOCK_BITS_LOG = 5;
const BLOCK_BITS = 1 << BLOCK_BITS_LOG;
const RING_BLOCKS = 256;
const RING_MASK = RING_BLOCKS - 1;
const TWO_32 = 0x1_0000_0000;

export const REPLAY_WINDOW_SIZE = (RING_BLOCKS - 1) * BLOCK_BITS;

const LIMIT_HI = Number(REJECT_AFTER_MESSAGES >> 32n);
const LIMIT_LO = Number(REJECT_AFTER_MESSAGES & 0xffff_ffffn);

export type ReplayVerdict = 'ok' | 'replayed-counter' | 'out-of-window' | 'counter-limit';

/** counter ≥ Reject-After-Messages (2^64 − 2^13 − 1)? */
export function isCounterAtLimit(lo: number, hi: number): boolean {
  return hi > LIMIT_HI || (hi === LIMIT_HI && lo >= LIMIT_LO);
}

export class ReplayFilter {
  private readonly ring = new Uint32Array(RING_BLOCKS);
  private lastLo = 0;
  private lastHi = 0;

  /** Accepts each counter once, within the window; records it when accepted. */
  validate(lo: number, hi: number): ReplayVerdict {
    if (isCounterAtLimit(lo, hi)) return 'counter-limit';
    const slot = (lo >>> BLOCK_BITS_LOG) & RING_MASK;
    if (hi > this.lastHi || (hi === this.lastHi && lo > this.lastLo)) {
      const hiDiff = hi - this.lastHi;
      const blocks =
        hiDiff >= 2 ? RING_BLOCKS : hiDiff * (TWO_32 / BLOCK_BITS) + (lo >>> BLOCK_BITS_LOG) - (this.lastLo >>> BLOCK_BITS_LOG);
      if (blocks >= RING_BLOCKS) {
        this.ring.fill(0);
      } else {
        const current = (this.lastLo >>> BLOCK_BITS_LOG) & RING_MASK;
        for (let i = 1; i <= blocks; i++) this.ring[(current + i) & RING_MASK] = 0;
      }
      this.lastLo = lo;
      this.lastHi = hi;
    } else {
      const hiDiff = this.lastHi - hi;
      if (hiDiff >= 2) return 'out-of-window';
      const behind = hiDiff * TWO_32 + this.lastLo - lo;
      if (behind >= REPLAY_WINDOW_SIZE) return 'out-of-window';
    }
    const mask = (1 << (lo & (BLOCK_BITS - 1))) >>> 0;
    const old = this.ring[slot] ?? 0;
    if ((old & mask) !== 0) return 'replayed-counter';
    this.ring[slot] = old | mask;
    return 'ok';
  }

  reset(): void {
    this.ring.fill(0);
    this.lastLo = 0;
    this.lastHi = 0;
  }
}

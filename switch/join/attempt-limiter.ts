/**
 * Join attempts per source address: a token bucket of JOIN_ATTEMPT_BURST attempts, refilled at
 * JOIN_ATTEMPTS_PER_MINUTE, per IPv4 address or IPv6 /64 (transport/address-key.ts: a host cannot dodge it by
 * changing ports or addresses inside its /64). Every attempt counts, good or bad: a secret is 256 bits, so the
 * bound is not what keeps guessing out, it keeps one source from making the Proxy hash, check and log without end.
 *
 * Bounded: JOIN_MAX_SOURCES addresses at once; a full bucket (idle long enough) is forgotten first, and a new source
 * while every slot holds a partly spent bucket is refused (Retry-After: until the oldest refills). Time is an argument.
 */
import { addressKey } from '../link/transport/address-key.js';

export const JOIN_ATTEMPT_BURST = 10;
export const JOIN_ATTEMPTS_PER_MINUTE = 10;
export const JOIN_MAX_SOURCES = 4096;

const COST_MS = 60_000 / JOIN_ATTEMPTS_PER_MINUTE;
const FULL_MS = COST_MS * JOIN_ATTEMPT_BURST;

interface Bucket {
  tokensMs: number;
  lastMs: number;
}

export type AttemptAdmission = { ok: true } | { ok: false; retryAfterS: number };

export class AttemptLimiter {
  private readonly buckets = new Map<string, Bucket>();

  admit(address: string, nowMs: number): AttemptAdmission {
    const key = addressKey(address);
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= JOIN_MAX_SOURCES && !this.forgetRefilled(nowMs)) {
        return { ok: false, retryAfterS: Math.max(1, Math.ceil(this.oldestRefillMs(nowMs) / 1000)) };
      }
      bucket = { tokensMs: FULL_MS, lastMs: nowMs };
      this.buckets.set(key, bucket);
    }
    bucket.tokensMs = Math.min(FULL_MS, bucket.tokensMs + Math.max(0, nowMs - bucket.lastMs));
    bucket.lastMs = nowMs;
    if (bucket.tokensMs < COST_MS) return { ok: false, retryAfterS: Math.max(1, Math.ceil((COST_MS - bucket.tokensMs) / 1000)) };
    bucket.tokensMs -= COST_MS;
    return { ok: true };
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Drops every bucket that has refilled (its source is back to a full burst anyway); true if any went. */
  private forgetRefilled(nowMs: number): boolean {
    let forgot = false;
    for (const [key, b] of this.buckets) {
      if (b.tokensMs + (nowMs - b.lastMs) >= FULL_MS) {
        this.buckets.delete(key);
        forgot = true;
      }
    }
    return forgot;
  }

  private oldestRefillMs(nowMs: number): number {
    let soonest = FULL_MS;
    for (const b of this.buckets.values()) soonest = Math.min(soonest, FULL_MS - b.tokensMs - (nowMs - b.lastMs));
    return Math.max(0, soonest);
  }
}

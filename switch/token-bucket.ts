/**
 * A token bucket on the caller's clock: `perSecond` tokens a second, at most `burst` held, full at the start.
 * Pure: time is an argument (monotonic ms; a clock that goes back refills nothing). Kept in milliseconds of
 * credit, as the handshake limiter does (switch/link/noise/ratelimiter.ts), so whole-millisecond costs stay exact.
 */
export interface TokenRate {
  /** Tokens added per second (> 0). */
  readonly perSecond: number;
  /** Tokens held at most (≥ 1): how many may be taken at one instant. */
  readonly burst: number;
}

export class TokenBucket {
  private readonly costMs: number;
  private readonly maxMs: number;
  private creditMs: number;
  private lastMs: number | undefined;

  constructor(readonly rate: TokenRate) {
    if (!(rate.perSecond > 0) || !(rate.burst >= 1)) throw new RangeError(`token bucket: perSecond must be > 0 and burst ≥ 1 (found ${rate.perSecond}, ${rate.burst})`);
    this.costMs = 1000 / rate.perSecond;
    this.maxMs = this.costMs * rate.burst;
    this.creditMs = this.maxMs;
  }

  /** Takes one token at `nowMs`; false when there is none (nothing is taken). */
  take(nowMs: number): boolean {
    if (this.lastMs !== undefined) this.creditMs = Math.min(this.maxMs, this.creditMs + Math.max(0, nowMs - this.lastMs));
    this.lastMs = Math.max(nowMs, this.lastMs ?? nowMs);
    if (this.creditMs < this.costMs) return false;
    this.creditMs -= this.costMs;
    return true;
  }
}

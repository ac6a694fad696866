/**
 * Per-policy admission for the API: a token bucket (requests per second, burst) and a cap on requests in flight.
 * Pure: time comes in as an argument. A refusal says how long to wait (Retry-After).
 */
export interface RateLimitSettings {
  ratePerS: number;
  burst: number;
  maxInFlight: number;
}

export const DEFAULT_POLICY_RATE_LIMIT: RateLimitSettings = { ratePerS: 50, burst: 100, maxInFlight: 8 };

export type Admission = { ok: true } | { ok: false; retryAfterS: number; reason: 'rate' | 'in-flight' };

export class RateLimiter {
  private tokens: number;
  private lastMs: number | undefined;
  inFlight = 0;

  constructor(private readonly settings: RateLimitSettings = DEFAULT_POLICY_RATE_LIMIT) {
    this.tokens = settings.burst;
  }

  admit(nowMs: number): Admission {
    if (this.lastMs !== undefined) {
      this.tokens = Math.min(this.settings.burst, this.tokens + ((nowMs - this.lastMs) / 1000) * this.settings.ratePerS);
    }
    this.lastMs = nowMs;
    if (this.inFlight >= this.settings.maxInFlight) return { ok: false, retryAfterS: 1, reason: 'in-flight' };
    if (this.tokens < 1) return { ok: false, retryAfterS: Math.max(1, Math.ceil((1 - this.tokens) / this.settings.ratePerS)), reason: 'rate' };
    this.tokens -= 1;
    this.inFlight++;
    return { ok: true };
  }

  done(): void {
    if (this.inFlight > 0) this.inFlight--;
  }
}

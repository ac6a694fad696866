/**
 * MoveLimiter: how many VM moves the Proxy announces, per host that claims a VM and per VM MAC. Each announcement
 * makes every host re-point its tables and the plugins delete rules, so a MAC flapping between two hosts (a loop,
 * two guests with one MAC) or a hostile host claiming every MAC would otherwise turn one frame into work on every
 * daemon. Token buckets, pure (time is `nowMs`): a move takes one token of its new host's bucket and one of its MAC's;
 * when either is empty the move is not announced and is counted by the bucket that refused it.
 *
 * Bounds (docs/limits.md): per host 10 moves/s, bursts of 20 (a host taking over the VMs of another at once); per
 * MAC one move every 2 s, bursts of 3 (a VM migrated there and back, and again). The MAC buckets kept are bounded:
 * a bucket that has refilled is worth nothing and is swept when the map is full; if none has, a move of a MAC
 * without a bucket is refused ('mac-rate') rather than growing the map.
 */
import type { Mac } from '../frame/mac.js';

export interface RateBound {
  readonly perSecond: number;
  readonly burst: number;
}

export interface MoveBounds {
  readonly perHost: RateBound;
  readonly perMac: RateBound;
  /** MAC buckets kept at most. */
  readonly macsTracked: number;
}

export const MOVE_BOUNDS: MoveBounds = {
  perHost: { perSecond: 10, burst: 20 },
  perMac: { perSecond: 0.5, burst: 3 },
  macsTracked: 8192,
};

export const MOVE_REFUSALS = ['host-rate', 'mac-rate'] as const;
export type MoveRefusal = (typeof MOVE_REFUSALS)[number];

interface Bucket {
  tokens: number;
  atMs: number;
}

export class MoveLimiter {
  readonly #bounds: MoveBounds;
  readonly #hosts = new Map<string, Bucket>();
  readonly #macs = new Map<Mac, Bucket>();
  /** Moves not announced, by the bucket that refused them. */
  readonly refused: Record<MoveRefusal, number> = { 'host-rate': 0, 'mac-rate': 0 };

  constructor(bounds: MoveBounds = MOVE_BOUNDS) {
    this.#bounds = bounds;
  }

  /** Takes a token for `mac` moving to `host`; the refusal (counted) when it may not move now. */
  take(host: string, mac: Mac, nowMs: number): MoveRefusal | undefined {
    const hostBucket = this.#hosts.get(host) ?? { tokens: this.#bounds.perHost.burst, atMs: nowMs };
    refill(hostBucket, this.#bounds.perHost, nowMs);
    if (hostBucket.tokens < 1) return this.#refuse('host-rate');
    let macBucket = this.#macs.get(mac);
    if (macBucket === undefined) {
      if (this.#macs.size >= this.#bounds.macsTracked && !this.#sweep(nowMs)) return this.#refuse('mac-rate');
      macBucket = { tokens: this.#bounds.perMac.burst, atMs: nowMs };
    }
    refill(macBucket, this.#bounds.perMac, nowMs);
    if (macBucket.tokens < 1) return this.#refuse('mac-rate');
    hostBucket.tokens--;
    macBucket.tokens--;
    this.#hosts.set(host, hostBucket);
    this.#macs.set(mac, macBucket);
    return undefined;
  }

  /** MAC buckets held (for tests and the bound). */
  get macsTracked(): number {
    return this.#macs.size;
  }

  #refuse(reason: MoveRefusal): MoveRefusal {
    this.refused[reason]++;
    return reason;
  }

  /** Drops the MAC buckets that have refilled; true when room was made. */
  #sweep(nowMs: number): boolean {
    for (const [mac, bucket] of this.#macs) {
      refill(bucket, this.#bounds.perMac, nowMs);
      if (bucket.tokens >= this.#bounds.perMac.burst) this.#macs.delete(mac);
    }
    return this.#macs.size < this.#bounds.macsTracked;
  }
}

function refill(bucket: Bucket, bound: RateBound, nowMs: number): void {
  if (nowMs > bucket.atMs) {
    bucket.tokens = Math.min(bound.burst, bucket.tokens + ((nowMs - bucket.atMs) * bound.perSecond) / 1000);
    bucket.atMs = nowMs;
  }
}

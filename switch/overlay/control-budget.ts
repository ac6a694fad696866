/**
 * How many control messages one peer may make this daemon read (the Proxy: each of its hosts). Reading is the
 * cost a sender controls: JSON.parse and the shape checks, ~40 µs for a 43 KB report. Each peer has
 * a token bucket (CONTROL_RATE), and besides it one message per request sent to that peer and not answered yet, so
 * the answers the Proxy asked for are read however many requests it makes at once (a topology apply, the
 * dashboard, a plugin cleanup): over its bucket a peer is read at most once per request it was sent. A message
 * beyond both is dropped before it is parsed and counted `rate-limited` (control-channel.ts).
 *
 * CONTROL_RATE is twice what a host sends unasked at most: a heartbeat a second, VTTIF's matrix at up to 20 Hz, a
 * report at most once a second (on changes, debounced to the heartbeat tick).
 */
import { TokenBucket, type TokenRate } from '../token-bucket.js';

export const CONTROL_RATE: TokenRate = { perSecond: 50, burst: 100 };

export class PeerControlBudget {
  private readonly bucket: TokenBucket;
  /** Requests sent to the peer and not settled yet. */
  private owed = 0;
  /** Reads over the bucket still allowed: at most one per request sent, never more than `owed`. */
  private credits = 0;

  constructor(rate: TokenRate = CONTROL_RATE) {
    this.bucket = new TokenBucket(rate);
  }

  /** A request went to the peer: one answer more may be read beyond the bucket. */
  requested(): void {
    this.owed++;
    this.credits++;
  }

  /** A request to the peer was settled (answered, timed out, or never sent). */
  settled(): void {
    this.owed = Math.max(0, this.owed - 1);
    this.credits = Math.min(this.credits, this.owed);
  }

  /** Whether a message arriving from the peer at `nowMs` is read. */
  admit(nowMs: number): boolean {
    if (this.bucket.take(nowMs)) return true;
    if (this.credits === 0) return false;
    this.credits--;
    return true;
  }
}

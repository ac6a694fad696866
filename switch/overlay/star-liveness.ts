/**
 * Keeps the resilient star alive from a host's side (pure: time is passed in).
 * The Proxy and the host exchange a heartbeat every second over the star
 * link. When nothing has been heard for `deadAfterMs`, the link is presumed
 * dead (the Proxy restarted and lost its session keys, the underlay failed)
 * and the host re-handshakes, again and again with a capped backoff — at most
 * `maxBackoffMs` (5 s) between tries — until the Proxy answers. WireGuard's own
 * timers would wait 15 s to notice, and give up after 90 s; the star never does.
 */
export interface StarLivenessOptions {
  deadAfterMs?: number;
  firstRetryMs?: number;
  maxBackoffMs?: number;
}

export class StarLiveness {
  private readonly deadAfterMs: number;
  private readonly firstRetryMs: number;
  private readonly maxBackoffMs: number;
  private lastHeardMs: number;
  private nextTryMs: number | undefined;
  private backoffMs: number;
  retries = 0;

  constructor(nowMs: number, options: StarLivenessOptions = {}) {
    this.deadAfterMs = options.deadAfterMs ?? 3000;
    this.firstRetryMs = options.firstRetryMs ?? 500;
    this.maxBackoffMs = Math.min(options.maxBackoffMs ?? 5000, 5000);
    this.lastHeardMs = nowMs;
    this.backoffMs = this.firstRetryMs;
  }

  /** Something authenticated came from the Proxy: the star is alive. */
  heard(nowMs: number): void {
    this.lastHeardMs = nowMs;
    this.nextTryMs = undefined;
    this.backoffMs = this.firstRetryMs;
  }

  /** How long nothing has come from the Proxy. */
  silentMs(nowMs: number): number {
    return Math.max(0, nowMs - this.lastHeardMs);
  }

  isAlive(nowMs: number): boolean {
    return nowMs - this.lastHeardMs < this.deadAfterMs;
  }

  /** True when the host should re-handshake now. */
  shouldReconnect(nowMs: number): boolean {
    if (this.isAlive(nowMs)) return false;
    if (this.nextTryMs === undefined) this.nextTryMs = nowMs;
    if (nowMs < this.nextTryMs) return false;
    this.retries++;
    this.nextTryMs = nowMs + this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.maxBackoffMs);
    return true;
  }
}

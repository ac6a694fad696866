/**
 * Per-source token bucket for handshake messages (wireguard-go
 * `ratelimiter/ratelimiter.go`): 20 packets per second, bursts of 5, keyed by
 * the source IP (the port is ignored, so one host cannot dodge the limit by
 * changing ports). Time is an argument; idle entries are swept lazily.
 *
 * wireguard-go allows a packet while tokens > cost, which with a frozen clock
 * lets only 4 through; we allow while tokens ≥ cost so a burst of exactly 5 at
 * one instant passes, as the constant intends.
 */
import { RATELIMIT_BURST, RATELIMIT_GC_INTERVAL_MS, RATELIMIT_PACKETS_PER_SECOND } from './constants.js';

const PACKET_COST_MS = 1000 / RATELIMIT_PACKETS_PER_SECOND;
const MAX_TOKENS_MS = PACKET_COST_MS * RATELIMIT_BURST;

interface Entry {
  tokensMs: number;
  lastMs: number;
}

/** "198.18.0.1:51820" → "198.18.0.1"; "[fd00::1]:51820" → "fd00::1"; anything else unchanged. */
export function sourceIp(source: string): string {
  if (source.startsWith('[')) {
    const end = source.indexOf(']');
    return end > 0 ? source.slice(1, end) : source;
  }
  const colon = source.indexOf(':');
  if (colon >= 0 && source.indexOf(':', colon + 1) < 0) return source.slice(0, colon);
  return source;
}

export class RateLimiter {
  private readonly entries = new Map<string, Entry>();
  private lastSweepMs = Number.NEGATIVE_INFINITY;

  allow(source: string, nowMs: number): boolean {
    this.sweep(nowMs);
    const ip = sourceIp(source);
    const entry = this.entries.get(ip);
    if (entry === undefined) {
      this.entries.set(ip, { tokensMs: MAX_TOKENS_MS - PACKET_COST_MS, lastMs: nowMs });
      return true;
    }
    entry.tokensMs = Math.min(MAX_TOKENS_MS, entry.tokensMs + Math.max(0, nowMs - entry.lastMs));
    entry.lastMs = nowMs;
    if (entry.tokensMs >= PACKET_COST_MS) {
      entry.tokensMs -= PACKET_COST_MS;
      return true;
    }
    return false;
  }

  get size(): number {
    return this.entries.size;
  }

  private sweep(nowMs: number): void {
    if (nowMs - this.lastSweepMs < RATELIMIT_GC_INTERVAL_MS) return;
    this.lastSweepMs = nowMs;
    for (const [ip, entry] of this.entries) {
      if (nowMs - entry.lastMs > RATELIMIT_GC_INTERVAL_MS) this.entries.delete(ip);
    }
  }
}

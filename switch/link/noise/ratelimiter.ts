/**
 * Per-source token bucket for handshake messages (wireguard-go
 * `ratelimiter/ratelimiter.go`): 20 packets per second, bursts of 5, keyed by
 * the source address — an IPv4 address, or an IPv6 address's /64 — never by
 * the port or the TCP connection, so one host cannot dodge the limit by
 * changing ports (transport/address-key.ts). Time is an argument; idle entries
 * are swept lazily.
 *
 * The source is the endpoint string the device was given: the link layer's
 * form "udp:198.18.0.1:51820" or "tcp:[fd00::1]:443#7" (LinkManager), or a
 * bare "198.18.0.1:51820" / "[fd00::1]:51820".
 *
 * wireguard-go allows a packet while tokens > cost, which with a frozen clock
 * lets only 4 through; we allow while tokens ≥ cost so a burst of exactly 5 at
 * one instant passes, as the constant intends.
 *
 * Bounded: at most RATELIMIT_MAX_SOURCES sources at once (a source reaches the
 * limiter only with a valid mac2, i.e. after a cookie round trip to its
 * address); a new source while the table is full is refused.
 */
import { addressKey } from '../transport/address-key.js';
import { RATELIMIT_BURST, RATELIMIT_GC_INTERVAL_MS, RATELIMIT_PACKETS_PER_SECOND } from './constants.js';

const PACKET_COST_MS = 1000 / RATELIMIT_PACKETS_PER_SECOND;
const MAX_TOKENS_MS = PACKET_COST_MS * RATELIMIT_BURST;

/** Sources tracked at once (about 100 bytes each). */
export const RATELIMIT_MAX_SOURCES = 65_536;

interface Entry {
  tokensMs: number;
  lastMs: number;
}

/**
 * The key of a source endpoint string: "udp:198.18.0.1:51820" → "198.18.0.1"; "tcp:[fd00::1]:443#7" →
 * "fd00:0:0:0::/64"; anything that is not an address is its own key.
 */
export function sourceIp(source: string): string {
  let rest = source.startsWith('udp:') || source.startsWith('tcp:') ? source.slice(4) : source;
  const hash = rest.lastIndexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']');
    return addressKey(end > 0 ? rest.slice(1, end) : rest);
  }
  const colon = rest.indexOf(':');
  if (colon >= 0 && rest.indexOf(':', colon + 1) < 0) return addressKey(rest.slice(0, colon));
  return addressKey(rest);
}

export class RateLimiter {
  private readonly entries = new Map<string, Entry>();
  private lastSweepMs = Number.NEGATIVE_INFINITY;

  allow(source: string, nowMs: number): boolean {
    this.sweep(nowMs);
    const ip = sourceIp(source);
    const entry = this.entries.get(ip);
    if (entry === undefined) {
      if (this.entries.size >= RATELIMIT_MAX_SOURCES) return false;
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

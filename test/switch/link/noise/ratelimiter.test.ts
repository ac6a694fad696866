import { describe, expect, it } from 'vitest';
import { RateLimiter, sourceIp } from '../../../../switch/link/noise/ratelimiter.js';

describe('RateLimiter (20/s, burst 5, per source IP)', () => {
  it('allows a burst of 5 then refuses until tokens refill (50 ms each)', () => {
    const r = new RateLimiter();
    const results = Array.from({ length: 7 }, () => r.allow('198.18.0.1:1', 0));
    expect(results).toEqual([true, true, true, true, true, false, false]);
    expect(r.allow('198.18.0.1:1', 49)).toBe(false);
    expect(r.allow('198.18.0.1:1', 50)).toBe(true);
    expect(r.allow('198.18.0.1:1', 50)).toBe(false);
  });

  it('keys by IP, not port; other IPs are independent', () => {
    const r = new RateLimiter();
    for (let port = 0; port < 5; port++) expect(r.allow(`198.18.0.1:${port}`, 0)).toBe(true);
    expect(r.allow('198.18.0.1:9999', 0)).toBe(false);
    expect(r.allow('198.18.0.2:1', 0)).toBe(true);
  });

  it('sustains 20 per second and forgets idle entries', () => {
    const r = new RateLimiter();
    let allowed = 0;
    for (let t = 0; t < 10_000; t += 10) if (r.allow('198.18.0.3:1', t)) allowed++;
    expect(allowed).toBeGreaterThanOrEqual(200);
    expect(allowed).toBeLessThanOrEqual(205);
    r.allow('198.18.0.4:1', 20_000);
    expect(r.size).toBe(1);
  });

  it('extracts the IP from endpoint strings', () => {
    expect(sourceIp('198.18.0.1:51820')).toBe('198.18.0.1');
    expect(sourceIp('[fd00::1]:51820')).toBe('fd00::1');
    expect(sourceIp('fd00::1')).toBe('fd00::1');
    expect(sourceIp('memory-7')).toBe('memory-7');
  });
});

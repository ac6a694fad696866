import { describe, expect, it } from 'vitest';
import { RATELIMIT_MAX_SOURCES, RateLimiter, sourceIp } from '../../../../switch/link/noise/ratelimiter.js';
import { formatEndpoint } from '../../../../switch/link/transport/endpoint.js';

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
    expect(sourceIp('[fd00::1]:51820')).toBe('fd00:0:0:0::/64');
    expect(sourceIp('fd00::1')).toBe('fd00:0:0:0::/64');
    expect(sourceIp('memory-7')).toBe('memory-7');
  });
});

describe('RateLimiter keyed as the link layer calls it', () => {
  // LinkManager hands the device formatEndpoint() strings: "udp:198.18.0.1:51820", "tcp:[fd00::1]:443#7".
  const udp = (host: string, port: number) => formatEndpoint({ transport: 'udp', host, port });
  const tcp = (host: string, port: number, connectionId: number) => formatEndpoint({ transport: 'tcp', host, port, connectionId });

  it('does not let a source escape by changing ports, over UDP or TCP', () => {
    const r = new RateLimiter();
    for (let port = 1; port <= 5; port++) expect(r.allow(udp('198.18.0.1', port), 0)).toBe(true);
    expect(r.allow(udp('198.18.0.1', 6), 0)).toBe(false);
    expect(r.allow(tcp('198.18.0.1', 7, 9), 0)).toBe(false);
    expect(r.allow(udp('198.18.0.2', 1), 0)).toBe(true);
  });

  it('keys IPv6 by its /64, as wireguard-go does', () => {
    const r = new RateLimiter();
    for (let i = 1; i <= 5; i++) expect(r.allow(udp(`fd00:1:2:3::${i}`, 51820 + i), 0)).toBe(true);
    expect(r.allow(tcp('fd00:1:2:3:ffff:ffff:ffff:ffff', 1, 1), 0)).toBe(false);
    expect(r.allow(udp('fd00:1:2:4::1', 1), 0)).toBe(true);
  });

  it('extracts the key from the link layer form', () => {
    expect(sourceIp('udp:198.18.0.1:51820')).toBe('198.18.0.1');
    expect(sourceIp('tcp:198.18.0.1:443#12')).toBe('198.18.0.1');
    expect(sourceIp('udp:[fd00::1]:51820')).toBe('fd00:0:0:0::/64');
    expect(sourceIp('tcp:[2001:db8:aa:bb:cc::1]:443#3')).toBe('2001:db8:aa:bb::/64');
    expect(sourceIp('udp:[::ffff:198.18.0.9]:1')).toBe('198.18.0.9');
  });

  it('holds a bounded number of sources', () => {
    const r = new RateLimiter();
    for (let i = 0; i < RATELIMIT_MAX_SOURCES + 100; i++) r.allow(udp(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 1), 0);
    expect(r.size).toBe(RATELIMIT_MAX_SOURCES);
  });
});

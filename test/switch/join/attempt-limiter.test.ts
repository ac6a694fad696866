import { describe, expect, it } from 'vitest';
import { AttemptLimiter, JOIN_ATTEMPT_BURST, JOIN_MAX_SOURCES } from '../../../switch/join/attempt-limiter.js';

describe('join attempts per source address', () => {
  it('lets a burst through, then one attempt every 6 s, saying when to come back', () => {
    const limiter = new AttemptLimiter();
    for (let i = 0; i < JOIN_ATTEMPT_BURST; i++) expect(limiter.admit('198.18.0.9', 0)).toEqual({ ok: true });
    expect(limiter.admit('198.18.0.9', 0)).toEqual({ ok: false, retryAfterS: 6 });
    expect(limiter.admit('198.18.0.9', 5999)).toEqual({ ok: false, retryAfterS: 1 });
    expect(limiter.admit('198.18.0.9', 6000)).toEqual({ ok: true });
    expect(limiter.admit('198.18.0.10', 6000)).toEqual({ ok: true }); // another address has its own
  });

  it('counts an IPv6 /64 as one source, and an IPv4-mapped address as its IPv4 one', () => {
    const limiter = new AttemptLimiter();
    for (let i = 0; i < JOIN_ATTEMPT_BURST; i++) expect(limiter.admit(`2001:db8:1:2::${i + 1}`, 0).ok).toBe(true);
    expect(limiter.admit('2001:db8:1:2:ffff::1', 0).ok).toBe(false);
    expect(limiter.admit('2001:db8:1:3::1', 0).ok).toBe(true);
    for (let i = 0; i < JOIN_ATTEMPT_BURST; i++) limiter.admit('198.18.0.9', 0);
    expect(limiter.admit('::ffff:198.18.0.9', 0).ok).toBe(false);
  });

  it('tracks a bounded number of sources: refilled ones are forgotten, else a new source waits', () => {
    const limiter = new AttemptLimiter();
    for (let i = 0; i < JOIN_MAX_SOURCES; i++) limiter.admit(`10.${i >> 8}.${i & 255}.1`, 0);
    expect(limiter.size).toBe(JOIN_MAX_SOURCES);
    expect(limiter.admit('198.18.0.9', 0)).toEqual({ ok: false, retryAfterS: 6 });
    expect(limiter.admit('198.18.0.9', 6000)).toEqual({ ok: true }); // every bucket had refilled: forgotten
    expect(limiter.size).toBe(1);
  });
});

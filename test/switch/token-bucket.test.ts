import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../switch/token-bucket.js';

/** How many of `count` takes at `nowMs` succeed. */
const takes = (b: TokenBucket, nowMs: number, count: number): number => Array.from({ length: count }, () => b.take(nowMs)).filter(Boolean).length;

describe('TokenBucket', () => {
  it('starts full: a burst at one instant, then nothing until time passes', () => {
    const b = new TokenBucket({ perSecond: 50, burst: 100 });
    expect(takes(b, 0, 150)).toBe(100);
    expect(b.take(19)).toBe(false); // 1000 / 50 = 20 ms a token
    expect(b.take(20)).toBe(true);
    expect(b.take(20)).toBe(false);
  });

  it('refills at its rate and never beyond its burst', () => {
    const b = new TokenBucket({ perSecond: 40, burst: 40 });
    expect(takes(b, 0, 40)).toBe(40);
    expect(takes(b, 500, 100)).toBe(20);
    expect(takes(b, 60_000, 100)).toBe(40);
  });

  it('refills nothing when the clock goes back, and does not count that time twice', () => {
    const b = new TokenBucket({ perSecond: 10, burst: 1 });
    expect(b.take(1000)).toBe(true);
    expect(b.take(500)).toBe(false);
    expect(b.take(1050)).toBe(false); // 50 ms after the latest time seen, not 550
    expect(b.take(1100)).toBe(true);
  });

  it('refuses a rate it cannot keep', () => {
    expect(() => new TokenBucket({ perSecond: 0, burst: 1 })).toThrow(RangeError);
    expect(() => new TokenBucket({ perSecond: 1, burst: 0 })).toThrow(RangeError);
    expect(() => new TokenBucket({ perSecond: Number.NaN, burst: 1 })).toThrow(RangeError);
  });
});

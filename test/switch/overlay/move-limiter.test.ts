import { describe, expect, it } from 'vitest';
import { MOVE_BOUNDS, MoveLimiter } from '../../../switch/overlay/move-limiter.js';
import { testMac } from '../../support/frames.js';

describe('MoveLimiter', () => {
  it('per host: a burst, then the rate; another host has its own bucket', () => {
    const limiter = new MoveLimiter();
    const refusals = Array.from({ length: 25 }, (_, i) => limiter.take('h3', testMac(i), 0));
    expect(refusals.filter((r) => r === undefined)).toHaveLength(MOVE_BOUNDS.perHost.burst);
    expect(refusals.filter((r) => r === 'host-rate')).toHaveLength(5);
    expect(limiter.take('h2', testMac(100), 0)).toBeUndefined();
    expect(limiter.take('h3', testMac(101), 99)).toBe('host-rate');
    expect(limiter.take('h3', testMac(101), 100)).toBeUndefined(); // 10/s: one token per 100 ms
    expect(limiter.refused).toEqual({ 'host-rate': 6, 'mac-rate': 0 });
  });

  it('per MAC: 3 moves at once, then one every 2 s, whichever host claims it', () => {
    const limiter = new MoveLimiter();
    const mac = testMac(1);
    expect([limiter.take('h1', mac, 0), limiter.take('h2', mac, 0), limiter.take('h1', mac, 0), limiter.take('h2', mac, 0)]).toEqual([undefined, undefined, undefined, 'mac-rate']);
    expect(limiter.take('h2', mac, 1999)).toBe('mac-rate');
    expect(limiter.take('h2', mac, 2000)).toBeUndefined();
    expect(limiter.refused['mac-rate']).toBe(2);
  });

  it('a refusal by one bucket takes no token from the other', () => {
    const limiter = new MoveLimiter({ ...MOVE_BOUNDS, perMac: { perSecond: 0.5, burst: 1 } });
    const mac = testMac(1);
    limiter.take('h1', mac, 0);
    for (let i = 0; i < 50; i++) expect(limiter.take('h1', mac, 0)).toBe('mac-rate');
    expect(limiter.take('h1', testMac(2), 0)).toBeUndefined(); // h1's bucket was not drained by the refusals
  });

  it('keeps at most macsTracked MAC buckets: refilled ones are swept, and with none to sweep a new MAC is refused', () => {
    const limiter = new MoveLimiter({ perHost: { perSecond: 1e6, burst: 1e6 }, perMac: { perSecond: 0.5, burst: 3 }, macsTracked: 4 });
    for (let i = 0; i < 4; i++) expect(limiter.take('h1', testMac(i), 0)).toBeUndefined();
    expect(limiter.take('h1', testMac(9), 0)).toBe('mac-rate');
    expect(limiter.macsTracked).toBe(4);
    // 2 s later each bucket has its token back (3 of 3): all swept, room again.
    expect(limiter.take('h1', testMac(9), 2000)).toBeUndefined();
    expect(limiter.macsTracked).toBe(1);
  });
});

import { describe, expect, it } from 'vitest';
import { CONTROL_RATE, PeerControlBudget } from '../../../switch/overlay/control-budget.js';

const admitted = (b: PeerControlBudget, nowMs: number, count: number): number => Array.from({ length: count }, () => b.admit(nowMs)).filter(Boolean).length;

describe('PeerControlBudget', () => {
  it('reads a burst, then the rate', () => {
    const b = new PeerControlBudget({ perSecond: 10, burst: 5 });
    expect(admitted(b, 0, 20)).toBe(5);
    expect(admitted(b, 1000, 20)).toBe(5); // 10 a second, but never more than the burst held
    expect(admitted(b, 1100, 20)).toBe(1);
  });

  it('over its bucket, reads one message per request sent and not yet settled', () => {
    const b = new PeerControlBudget({ perSecond: 1, burst: 1 });
    expect(admitted(b, 0, 1)).toBe(1);
    for (let i = 0; i < 3; i++) b.requested();
    expect(admitted(b, 0, 10)).toBe(3);
    // The three answers settle their requests: nothing more is owed.
    for (let i = 0; i < 3; i++) b.settled();
    b.requested();
    expect(admitted(b, 0, 10)).toBe(1);
  });

  it('gives no credit for requests already answered within the bucket', () => {
    const b = new PeerControlBudget({ perSecond: 1000, burst: 1000 });
    for (let i = 0; i < 50; i++) {
      b.requested();
      expect(b.admit(0)).toBe(true); // answered within the bucket
      b.settled();
    }
    expect(admitted(b, 0, 2000)).toBe(950); // the bucket only: the 50 settled requests left no credit
  });

  it('allows twice what a host sends unasked (a heartbeat, VTTIF at 20 Hz, a report a second)', () => {
    expect(CONTROL_RATE.perSecond).toBeGreaterThanOrEqual(2 * (1 + 20 + 1));
    const b = new PeerControlBudget();
    let read = 0;
    for (let ms = 0; ms < 60_000; ms += 1000) read += admitted(b, ms, 22);
    expect(read).toBe(60 * 22);
  });
});

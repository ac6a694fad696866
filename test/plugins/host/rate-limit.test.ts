import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../../plugins/host/event-queue.js';
import type { PluginEvent } from '../../../plugins/host/plugin.js';
import { RateLimiter } from '../../../plugins/host/rate-limit.js';

describe('RateLimiter', () => {
  it('lets a burst through, then the rate, and says when to come back', () => {
    const limiter = new RateLimiter({ ratePerS: 10, burst: 5, maxInFlight: 100 });
    const admitted = Array.from({ length: 8 }, () => limiter.admit(0));
    expect(admitted.filter((a) => a.ok).length).toBe(5);
    expect(admitted[5]).toEqual({ ok: false, retryAfterS: 1, reason: 'rate' });
    expect(limiter.admit(100).ok).toBe(true); // 100 ms at 10/s = one more token
    expect(limiter.admit(100).ok).toBe(false);
    expect(limiter.admit(10_000).ok).toBe(true);
  });

  it('caps the requests in flight', () => {
    const limiter = new RateLimiter({ ratePerS: 1000, burst: 1000, maxInFlight: 2 });
    expect(limiter.admit(0).ok).toBe(true);
    expect(limiter.admit(0).ok).toBe(true);
    expect(limiter.admit(0)).toEqual({ ok: false, retryAfterS: 1, reason: 'in-flight' });
    limiter.done();
    expect(limiter.admit(0).ok).toBe(true);
  });
});

describe('EventQueue', () => {
  const event = (seq: number): PluginEvent => ({ seq, at: '2026-01-01T00:00:00.000Z', type: 'host', host: { name: 'h1', change: 'joined' } });

  it('drops the oldest when full and says how many', () => {
    const q = new EventQueue(3);
    for (let i = 1; i <= 5; i++) q.push(event(i));
    expect(q.peek(10).map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(q.takeDropped()).toBe(2);
    expect(q.takeDropped()).toBe(0);
    expect(q.totalDropped).toBe(2);
  });

  it('removes only what was delivered (a webhook batch), even if the front moved meanwhile', () => {
    const q = new EventQueue(3);
    q.push(event(1));
    q.push(event(2));
    const batch = q.peek(2);
    q.push(event(3));
    q.push(event(4)); // 1 falls out while the batch is in flight
    q.remove(batch);
    expect(q.peek(10).map((e) => e.seq)).toEqual([3, 4]);
  });
});

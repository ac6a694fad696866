import { describe, expect, it } from 'vitest';
import { MAX_IDLE_POLL_MS, PollBackoff } from '../../../switch/offload/poll-backoff.js';

describe('PollBackoff', () => {
  it('doubles the wait while read-backs find nothing, up to MAX_IDLE_POLL_MS', () => {
    const b = new PollBackoff(25);
    expect([1, 2, 3, 4, 5, 6].map(() => b.next(false))).toEqual([50, 100, 200, MAX_IDLE_POLL_MS, MAX_IDLE_POLL_MS, MAX_IDLE_POLL_MS]);
    expect(MAX_IDLE_POLL_MS).toBe(250); // VTTIF's 1 s reaction to a resumed flow needs the cap well under it
  });

  it('keeps the base while traffic flows, and a read-back with traffic snaps back to it', () => {
    const b = new PollBackoff(25);
    expect(b.next(true)).toBe(25);
    for (let i = 0; i < 10; i++) b.next(false);
    expect(b.waitMs).toBe(MAX_IDLE_POLL_MS);
    expect(b.next(true)).toBe(25);
  });

  it('snapBack says whether the wait got shorter', () => {
    const b = new PollBackoff(100);
    expect(b.snapBack()).toBe(false);
    b.next(false);
    expect(b.snapBack()).toBe(true);
    expect(b.waitMs).toBe(100);
  });

  it('a new base applies at once', () => {
    const b = new PollBackoff(100);
    b.next(false);
    b.setBase(25);
    expect(b.waitMs).toBe(25);
    expect(b.next(false)).toBe(50);
  });

  it('never waits less than a base above the idle cap', () => {
    const b = new PollBackoff(2_000);
    expect(b.next(false)).toBe(2_000);
  });
});

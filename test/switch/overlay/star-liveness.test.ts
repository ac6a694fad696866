import { describe, expect, it } from 'vitest';
import { StarLiveness } from '../../../switch/overlay/star-liveness.js';

describe('StarLiveness', () => {
  it('stays quiet while the Proxy is heard', () => {
    const s = new StarLiveness(0);
    for (let t = 0; t < 10_000; t += 1000) {
      s.heard(t);
      expect(s.shouldReconnect(t + 500)).toBe(false);
    }
  });

  it('reconnects after 3 s of silence with a backoff capped at 5 s, forever', () => {
    const s = new StarLiveness(0);
    const tries: number[] = [];
    for (let t = 0; t <= 60_000; t += 100) if (s.shouldReconnect(t)) tries.push(t);
    expect(tries.slice(0, 5)).toEqual([3000, 3500, 4500, 6500, 10_500]);
    const gaps = tries.slice(1).map((t, i) => t - tries[i]!);
    expect(Math.max(...gaps)).toBe(5000);
    expect(tries.at(-1)).toBeGreaterThan(55_000); // it never gives up
  });

  it('resets the backoff once the Proxy answers', () => {
    const s = new StarLiveness(0);
    for (let t = 0; t <= 20_000; t += 100) s.shouldReconnect(t);
    s.heard(20_000);
    expect(s.shouldReconnect(22_000)).toBe(false);
    expect(s.shouldReconnect(23_000)).toBe(true);
    expect(s.shouldReconnect(23_400)).toBe(false);
    expect(s.shouldReconnect(23_500)).toBe(true);
  });
});

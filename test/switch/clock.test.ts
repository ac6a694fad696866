import { describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from '../../switch/clock.js';

describe('ManualClock', () => {
  it('fires timers in time order as time advances, intervals repeatedly, cancelled ones never', async () => {
    const clock = new ManualClock(1000);
    const fired: string[] = [];
    clock.after(50, () => fired.push(`a@${clock.now()}`));
    clock.after(20, () => fired.push(`b@${clock.now()}`));
    const every = clock.every(30, () => fired.push(`e@${clock.now()}`));
    const cancelled = clock.after(10, () => fired.push('never'));
    cancelled.cancel();
    await clock.advance(60);
    expect(fired).toEqual(['b@1020', 'e@1030', 'a@1050', 'e@1060']);
    every.cancel();
    await clock.advance(100);
    expect(fired).toHaveLength(4);
    expect(clock.now()).toBe(1160);
    expect(clock.pending).toBe(0);
  });

  it('a timer set by a timer fires in the same advance when it falls due', async () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    clock.after(10, () => clock.after(10, () => fired.push(clock.now())));
    await clock.advance(25);
    expect(fired).toEqual([20]);
  });

  it('lets queued I/O run between firings (what the memory network delivers)', async () => {
    const clock = new ManualClock();
    let delivered = false;
    clock.after(5, () => setImmediate(() => (delivered = true)));
    await clock.advance(5);
    expect(delivered).toBe(true);
  });

  it('advanceUntil stops when the condition holds, or reports that it never did', async () => {
    const clock = new ManualClock();
    let n = 0;
    clock.every(100, () => n++);
    expect(await clock.advanceUntil(() => n === 3, 1000)).toBe(true);
    expect(clock.now()).toBe(300);
    expect(await clock.advanceUntil(() => n === 100, 500)).toBe(false);
  });
});

describe('systemClock', () => {
  it('runs a real timer and cancels one', async () => {
    let fired = 0;
    systemClock.after(0, () => fired++).cancel();
    await new Promise<void>((resolve) => systemClock.after(1, () => resolve())); // real time: this IS the real clock
    expect(fired).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../switch/clock.js';
import { SharedTickClock } from '../../switch/shared-tick-clock.js';

describe('SharedTickClock', () => {
  it('runs the periodic timers of one period on ONE timer of the wrapped clock, each still every period', async () => {
    const inner = new ManualClock();
    const clock = new SharedTickClock(inner);
    const calls: string[] = [];
    clock.every(1000, () => calls.push(`a@${inner.now()}`));
    await inner.advance(300);
    clock.every(1000, () => calls.push(`b@${inner.now()}`));
    expect(inner.pending).toBe(1);
    await inner.advance(2700);
    // b's first call comes on the next shared tick (700 ms after it subscribed: sooner, never later), then in step.
    expect(calls).toEqual(['a@1000', 'b@1000', 'a@2000', 'b@2000', 'a@3000', 'b@3000']);
  });

  it('keeps periods apart, passes one-shot timers through unmoved, and drops a period with its last subscriber', async () => {
    const inner = new ManualClock();
    const clock = new SharedTickClock(inner);
    const calls: string[] = [];
    const a = clock.every(1000, () => calls.push(`a@${inner.now()}`));
    const fast = clock.every(250, () => calls.push(`fast@${inner.now()}`));
    clock.after(1500, () => calls.push(`once@${inner.now()}`));
    expect(inner.pending).toBe(3);
    expect(clock.sharedTimers).toBe(2);
    await inner.advance(1500);
    expect(calls).toEqual(['fast@250', 'fast@500', 'fast@750', 'a@1000', 'fast@1000', 'fast@1250', 'fast@1500', 'once@1500']);
    fast.cancel();
    fast.cancel(); // idempotent
    a.cancel();
    expect(inner.pending).toBe(0);
    expect(clock.sharedTimers).toBe(0);
    calls.length = 0;
    clock.every(1000, () => calls.push(`c@${inner.now()}`)); // a new period timer, phased from now
    await inner.advance(1000);
    expect(calls).toEqual(['c@2500']);
  });

  it('a cancelled subscriber stops at once (also within a tick); the others keep their timer', async () => {
    const inner = new ManualClock();
    const clock = new SharedTickClock(inner);
    const calls: string[] = [];
    let b: { cancel(): void } | undefined;
    clock.every(1000, () => {
      calls.push('a');
      b?.cancel(); // cancels b before its turn in the same tick
    });
    b = clock.every(1000, () => calls.push('b'));
    await inner.advance(3000);
    expect(calls).toEqual(['a', 'a', 'a']);
    expect(inner.pending).toBe(1);
  });

  it('one callback that throws does not keep the others of its tick from running; its error still surfaces', async () => {
    const inner = new ManualClock();
    const clock = new SharedTickClock(inner);
    const calls: string[] = [];
    clock.every(1000, () => {
      throw new Error('first');
    });
    clock.every(1000, () => calls.push('second'));
    await expect(inner.advance(1000)).rejects.toThrow('first');
    expect(calls).toEqual(['second']);
  });
});

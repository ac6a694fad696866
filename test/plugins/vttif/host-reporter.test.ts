/**
 * VttifReporter on a ManualClock: updates at the rate while the counter has traffic, no timer at all while it is
 * empty (an idle host has no VTTIF wake-up), and the first frame after a quiet spell wakes it for an update one
 * interval later.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../switch/clock.js';
import { VttifReporter } from '../../../plugins/vttif/host-reporter.js';
import type { MatrixUpdate } from '../../../plugins/vttif/matrix.js';
import { testMac } from '../../support/frames.js';

const A = testMac(1);
const B = testMac(2);

function setUp(updateRateHz = 20) {
  const clock = new ManualClock(1_000);
  const sent: MatrixUpdate[] = [];
  const reporter = new VttifReporter({ host: 'h1', clock, updateRateHz, send: (u) => void sent.push(u) });
  reporter.start();
  return { clock, sent, reporter };
}

describe('VttifReporter', () => {
  it('sends the deltas at its rate while traffic flows', async () => {
    const { clock, sent, reporter } = setUp(20);
    for (let i = 0; i < 4; i++) {
      reporter.counter.count(A, B, 100);
      await clock.advance(50);
    }
    expect(sent.map((u) => u.entries.map((e) => e.bytes))).toEqual([[100], [100], [100], [100]]);
  });

  it('sleeps while the counter is empty: no timer armed, nothing sent', async () => {
    const { clock, sent, reporter } = setUp(20);
    await clock.advance(50); // the first drain finds nothing
    expect(reporter.isAwake).toBe(false);
    expect(clock.pending).toBe(0);
    await clock.advance(10_000);
    expect(sent).toHaveLength(0);
  });

  it('goes to sleep one empty interval after traffic stops (that drain drops the idle cells)', async () => {
    const { clock, sent, reporter } = setUp(10);
    reporter.counter.count(A, B, 100);
    await clock.advance(100);
    expect(sent).toHaveLength(1);
    expect(reporter.isAwake).toBe(true); // the pair still holds a cell
    await clock.advance(100);
    expect(reporter.isAwake).toBe(false);
    expect(reporter.counter.isEmpty).toBe(true);
  });

  it('wakes on the first frame after a quiet spell and reports it one interval later', async () => {
    const { clock, sent, reporter } = setUp(20);
    await clock.advance(5_000);
    expect(reporter.isAwake).toBe(false);
    reporter.counter.count(B, A, 64);
    expect(reporter.isAwake).toBe(true);
    await clock.advance(49);
    expect(sent).toHaveLength(0);
    await clock.advance(1);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.entries).toEqual([{ src: B, dst: A, frames: 1, bytes: 64 }]);
  });

  it('group frames do not wake it (they are not counted)', async () => {
    const { clock, reporter } = setUp(20);
    await clock.advance(50);
    reporter.counter.count(A, 0xffff_ffff_ffff, 64);
    expect(reporter.isAwake).toBe(false);
  });

  it('stays stopped after stop(), even when frames come', async () => {
    const { clock, sent, reporter } = setUp(20);
    await clock.advance(50);
    reporter.stop();
    reporter.counter.count(A, B, 100);
    expect(reporter.isAwake).toBe(false);
    await clock.advance(1_000);
    expect(sent).toHaveLength(0);
  });
});

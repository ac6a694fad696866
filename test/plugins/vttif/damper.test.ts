import { describe, expect, it } from 'vitest';
import { damperTiming, TopologyDamper, type DamperChange } from '../../../plugins/vttif/damper.js';

const A = new Set(['0-1', '1-2', '2-3', '0-3']);
const B = new Set(['0-2', '1-3']);
const AB = new Set([...A, ...B]);
const C = new Set(['0-1', '0-4', '1-4']);

/** Feeds `sets(t)` every stepMs from 0 to durationMs; returns [t, change] for every report. */
function run(damper: TopologyDamper, sets: (tMs: number) => ReadonlySet<string>, durationMs: number, stepMs = 50) {
  const reports: [number, DamperChange][] = [];
  for (let t = 0; t <= durationMs; t += stepMs) {
    const change = damper.observe(sets(t), t);
    if (change) reports.push([t, change]);
  }
  return reports;
}

describe('TopologyDamper', () => {
  it('reports a steady topology once, settleMs after it appeared', () => {
    const damper = new TopologyDamper(damperTiming(1000));
    const reports = run(damper, (t) => (t < 500 ? new Set<string>() : A), 60_000);
    expect(reports).toHaveLength(1);
    expect(reports[0]![0]).toBe(1500);
    expect(reports[0]![1]).toEqual({ reason: 'settled', edges: A });
  });

  it('never reports a change that reverts within settleMs', () => {
    const damper = new TopologyDamper(damperTiming(1000));
    const reports = run(damper, (t) => (t >= 5000 && t < 5600 ? C : A), 20_000);
    expect(reports.map(([, c]) => c.edges)).toEqual([A]);
  });

  it('two topologies alternating fast: the union is reported, then nothing more', () => {
    const damper = new TopologyDamper(damperTiming(1000));
    const reports = run(damper, (t) => (Math.floor(t / 400) % 2 === 0 ? A : B), 120_000);
    expect(reports.map(([, c]) => c)).toEqual([{ reason: 'damped', edges: AB }]);
    expect(damper.isDamped).toBe(true);
  });

  it('alternating slowly: every change is reported', () => {
    const damper = new TopologyDamper(damperTiming(1000));
    const reports = run(damper, (t) => (Math.floor(t / 5000) % 2 === 0 ? A : B), 60_000);
    expect(reports).toHaveLength(12);
    expect(reports.every(([, c]) => c.reason === 'settled')).toBe(true);
    expect(reports.map(([, c]) => [...c.edges].length)).toEqual([4, 2, 4, 2, 4, 2, 4, 2, 4, 2, 4, 2]);
  });

  it('after damping, a topology that holds for releaseMs is reported and followed again', () => {
    const damper = new TopologyDamper(damperTiming(1000));
    const reports = run(damper, (t) => (t < 20_000 ? (Math.floor(t / 300) % 2 === 0 ? A : B) : C), 40_000);
    expect(reports.map(([t, c]) => [t, c.reason])).toEqual([
      [2000, 'damped'],
      [24_000, 'released'],
    ]);
    expect(reports[1]![1].edges).toEqual(C);
    expect(damper.isDamped).toBe(false);
  });

  it('a damped union only grows (a third topology joins it) and is re-reported once it stops growing', () => {
    const damper = new TopologyDamper(damperTiming(1000));
    const phase = (t: number) => Math.floor(t / 300) % 3;
    const reports = run(damper, (t) => (t < 10_000 ? (phase(t) === 0 ? A : B) : [A, B, C][phase(t)]!), 60_000);
    expect(reports.map(([, c]) => c.reason)).toEqual(['damped', 'damped']);
    expect(reports[1]![1].edges).toEqual(new Set([...AB, ...C]));
  });

  it('reported changes against the alternation rate rise, then collapse and stay flat (Figure 6)', () => {
    const halfPeriodsMs = [100, 200, 400, 800, 1200, 1600, 2000, 3000, 5000, 10_000];
    const counts = halfPeriodsMs.map(
      (half) => run(new TopologyDamper(damperTiming(1000)), (t) => (Math.floor(t / half) % 2 === 0 ? A : B), 120_000).length,
    );
    // Slow enough to follow (phases ≥ settleMs): one report per phase. Faster: one union report, however fast.
    expect(counts).toEqual([1, 1, 1, 1, 120_000 / 1200, 120_000 / 1600, 60, 40, 24, 12]);
  });
});

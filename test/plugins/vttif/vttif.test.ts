import { describe, expect, it } from 'vitest';
import { VttifParameterError } from '../../../plugins/vttif/errors.js';
import { topologyToJson } from '../../../plugins/vttif/infer.js';
import { createVttif } from '../../../plugins/vttif/vttif.js';
import { alternating, CROSS4, RING4, simulate, vm, type PairList } from './simulate.js';

const K4: PairList = [...RING4, ...CROSS4];

describe('Vttif parameters', () => {
  it('defaults: 20 Hz, threshold 0.1, smoothing derived as max(1000, 2 × config-time bound), settle ≥ window', () => {
    expect(createVttif().settings()).toEqual({
      updateRateHz: 20,
      smoothingMs: 1000,
      threshold: 0.1,
      isSmoothingDerived: true,
      configTimeBoundMs: 0,
      settleMs: 1000,
    });
    expect(createVttif({ configTimeBoundMs: 3000 }).settings().smoothingMs).toBe(6000);
    // settle is at least two update intervals (1 Hz → 2000 ms) even with a short window.
    expect(createVttif({ updateRateHz: 1, smoothingMs: 500 }).settings().settleMs).toBe(2000);
  });

  it('the config-time bound re-derives a derived window, never an explicit one', () => {
    const derived = createVttif();
    expect(derived.setConfigTimeBound(2500).smoothingMs).toBe(5000);
    const explicit = createVttif({ smoothingMs: 800 });
    expect(explicit.setConfigTimeBound(2500).smoothingMs).toBe(800);
    expect(explicit.setParameters({ smoothingMs: null })).toMatchObject({ smoothingMs: 5000, isSmoothingDerived: true });
    expect(explicit.setParameters({ smoothingMs: 1500 })).toMatchObject({ smoothingMs: 1500, isSmoothingDerived: false, settleMs: 1500 });
  });

  it.each([
    [{ updateRateHz: 0 }, 'updateRateHz'],
    [{ updateRateHz: 21 }, 'updateRateHz'],
    [{ updateRateHz: Number.NaN }, 'updateRateHz'],
    [{ smoothingMs: 50 }, 'smoothingMs'],
    [{ smoothingMs: Number.POSITIVE_INFINITY }, 'smoothingMs'],
    [{ threshold: -0.1 }, 'threshold'],
    [{ threshold: 1.5 }, 'threshold'],
  ])('rejects %j with VttifParameterError and changes nothing', (change, parameter) => {
    const vttif = createVttif();
    const before = vttif.settings();
    let caught: unknown;
    try {
      vttif.setParameters(change);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(VttifParameterError);
    expect(caught).toMatchObject({ code: 'vttif-invalid-parameter', name: 'VttifParameterError', parameter });
    expect(vttif.settings()).toEqual(before);
    expect(() => createVttif(change)).toThrow(VttifParameterError);
  });

  it('rejects a negative config-time bound', () => {
    expect(() => createVttif().setConfigTimeBound(-1)).toThrow(VttifParameterError);
  });
});

describe('Vttif inference', () => {
  it('counts and drops an invalid update without throwing', () => {
    const vttif = createVttif();
    const result = vttif.ingest({ host: 'h1', atMs: 0, entries: [{ src: -1, dst: vm(1), frames: 1, bytes: 1 }] }, 0);
    expect(result).toEqual({ kind: 'rejected', reason: 'invalid-update' });
    expect(vttif.stats()).toMatchObject({ updatesRejected: 1, updatesAccepted: 0 });
  });

  it('takes at most 40 updates a second from one host (twice the highest rate a host reports at); the rest are counted', () => {
    const vttif = createVttif();
    const update = (host: string) => ({ host, atMs: 0, entries: [{ src: vm(1), dst: vm(2), frames: 1, bytes: 100 }] });
    const results = Array.from({ length: 100 }, () => vttif.ingest(update('h1'), 0));
    expect(results.filter((r) => r.kind === 'accepted')).toHaveLength(40);
    expect(results.at(-1)).toEqual({ kind: 'rejected', reason: 'rate-limited' });
    expect(vttif.ingest(update('h2'), 0)).toEqual({ kind: 'accepted' }); // per host
    expect(vttif.ingest(update('h1'), 25)).toEqual({ kind: 'accepted' }); // 25 ms later: one more
    expect(vttif.stats()).toMatchObject({ updatesAccepted: 42, updatesRateLimited: 60, updatesRejected: 0 });
    // A host at 20 Hz for a minute loses nothing.
    const steady = createVttif();
    for (let t = 0; t < 60_000; t += 50) expect(steady.ingest(update('h1'), t).kind).toBe('accepted');
  });

  it('a steady ring is reported once, ~settle after the window filled, with the ring shape', () => {
    const vttif = createVttif();
    const changes = simulate({ vttif, durationMs: 60_000, topologyAt: () => RING4 });
    expect(changes).toHaveLength(1);
    expect(changes[0]!.atMs).toBe(1000);
    expect(changes[0]!.reason).toBe('settled');
    expect(changes[0]!.added).toHaveLength(4);
    const json = topologyToJson(vttif.current());
    expect(json.shape).toBe('ring');
    expect(json.edges.map((e) => [e.a, e.b])).toEqual([
      ['02:00:c6:13:00:00', '02:00:c6:13:00:01'],
      ['02:00:c6:13:00:00', '02:00:c6:13:00:03'],
      ['02:00:c6:13:00:01', '02:00:c6:13:00:02'],
      ['02:00:c6:13:00:02', '02:00:c6:13:00:03'],
    ]);
    expect(json.edges.every((e) => e.intensity === 1)).toBe(true);
  });

  it('VMs sharing a host are not under-weighted next to VMs on different hosts', () => {
    const vttif = createVttif();
    simulate({ vttif, durationMs: 3000, topologyAt: () => RING4, hostOf: (n) => (n < 2 ? 'h1' : 'h2') });
    expect(vttif.current().edges.map((e) => e.intensity)).toEqual([1, 1, 1, 1]);
  });

  it('a topology change is reported with what was added and removed', () => {
    const vttif = createVttif();
    const changes = simulate({ vttif, durationMs: 20_000, topologyAt: (t) => (t < 10_000 ? RING4 : CROSS4) });
    expect(changes.map((c) => c.topology.shape)).toEqual(['ring', null]);
    expect(changes[1]!.added).toEqual([
      { a: vm(0), b: vm(2) },
      { a: vm(1), b: vm(3) },
    ]);
    expect(changes[1]!.removed).toHaveLength(4);
    // Reaction: the old edges fall below 0.1 of the new ones ~W/(1+τ) after the switch, then settle 1 s.
    expect(changes[1]!.atMs - 10_000).toBeGreaterThanOrEqual(1000);
    expect(changes[1]!.atMs - 10_000).toBeLessThanOrEqual(2000);
  });

  it('alternating faster than it can follow: the union (here K4) is reported, then no further changes', () => {
    const vttif = createVttif();
    const changes = simulate({ vttif, durationMs: 120_000, topologyAt: alternating(RING4, CROSS4, 1000) });
    expect(changes.length).toBeLessThanOrEqual(2);
    expect(changes.at(-1)!.topology.shape).toBe('all-to-all');
    expect(changes.at(-1)!.atMs).toBeLessThan(10_000);
    expect(vttif.current().edges).toHaveLength(K4.length);
  });

  it('alternating slowly: every change is reported', () => {
    const vttif = createVttif();
    const changes = simulate({ vttif, durationMs: 60_000, topologyAt: alternating(RING4, CROSS4, 10_000) });
    expect(changes.map((c) => c.topology.edges.length)).toEqual([4, 2, 4, 2, 4, 2]);
  });

  it('Figure 6: reported changes against the alternation period rise to a knee, then flatten (20 Hz)', () => {
    const count = (halfPeriodMs: number, smoothingMs: number) =>
      simulate({
        vttif: createVttif({ updateRateHz: 20, smoothingMs }),
        durationMs: 120_000,
        topologyAt: alternating(RING4, CROSS4, halfPeriodMs),
      }).length;
    const halves = [50, 200, 600, 1000, 1500, 2000, 3000, 6000, 20_000];
    // 1 s window: follows phases of ≥ 2 s (window transition + 1 s settle).
    expect(halves.map((h) => count(h, 1000))).toEqual([1, 1, 1, 2, 2, 60, 40, 20, 6]);
    // 500 ms window: the paper's best case, a knee at about one change per second.
    expect(halves.map((h) => count(h, 500))).toEqual([1, 1, 2, 120, 80, 60, 40, 20, 6]);
  });

  it('Figure 7: the ring is found the same way across detection thresholds 0.1 … 0.9', () => {
    // The ring carries 20× what the other pairs carry (acknowledgements, ARP, a chatty daemon).
    const noisyRing = (t: number): PairList => (Math.floor(t / 50) % 20 === 0 ? K4 : RING4);
    for (const threshold of [0.1, 0.2, 0.3, 0.5, 0.7, 0.9]) {
      const vttif = createVttif({ threshold });
      const changes = simulate({ vttif, durationMs: 20_000, topologyAt: noisyRing });
      expect(changes.map((c) => c.topology.shape), `threshold ${threshold}`).toEqual(['ring']);
    }
    // At 0 every pair counts: the noise makes it all-to-all. The threshold is what tells similar topologies apart.
    const vttif = createVttif({ threshold: 0 });
    simulate({ vttif, durationMs: 20_000, topologyAt: noisyRing });
    expect(vttif.current().shape).toBe('all-to-all');
  });

  it('a run-time threshold change takes effect while running', () => {
    const vttif = createVttif({ threshold: 0 });
    const noisyRing = (t: number): PairList => (Math.floor(t / 50) % 20 === 0 ? K4 : RING4);
    const changes = simulate({
      vttif,
      durationMs: 10_000,
      topologyAt: noisyRing,
      beforeTick: (t) => (t === 5000 ? vttif.setParameters({ threshold: 0.5 }) : undefined),
    });
    expect(changes.map((c) => [c.topology.shape, c.atMs])).toEqual([
      ['all-to-all', 1000],
      ['ring', 6000],
    ]);
  });
});

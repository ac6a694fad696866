/**
 * Per-subscriber events (the registry's perSubscriber sources; VTTIF's matrix-delta): each policy that takes the
 * type gets its own stream, starting with the whole matrix; a policy whose queue dropped events, that opened a new
 * stream, or that was disabled and enabled again starts over with the whole matrix; the others are not disturbed.
 * Manual time: the registry's tick is called by the test.
 */
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../switch/clock.js';
import { EVENT_QUEUE_CAPACITY } from '../../../plugins/host/event-queue.js';
import { HttpPolicyEntry } from '../../../plugins/host/http-policy.js';
import { EMPTY_SNAPSHOT } from '../../../plugins/host/overlay-watch.js';
import type { PluginEvent } from '../../../plugins/host/plugin.js';
import { PluginRegistry } from '../../../plugins/host/registry.js';
import { matrixDeltaSource } from '../../../plugins/vttif/matrix-delta-source.js';
import type { DeltaPair, MatrixLike } from '../../../plugins/vttif/matrix-delta.js';
import { createLogger } from '../../../switch/log.js';
import type { Primitives } from '../../../switch/overlay/primitives.js';

const nothing = { links: async () => [], rules: async () => [] } as unknown as Primitives;
const pair = (a: string, b: string, bytes: number): DeltaPair => ({ a, b, bytes, frames: 1 });
const A = '02:00:00:00:00:01';
const B = '02:00:00:00:00:02';
const C = '02:00:00:00:00:03';

function setup() {
  const log = createLogger({ write: () => {} });
  const clock = { ...systemClock, now: () => 0 };
  const registry = new PluginRegistry({
    clock,
    wallClock: () => 1_700_000_000_000,
    log,
    context: (name, actor) => ({ name, actor, host: () => undefined, proxy: nothing, hosts: () => [], proxyLinks: () => [], proxyMacs: () => [], clock, log }),
    places: { proxy: nothing, hostNames: () => [], host: () => undefined },
    countOwned: async () => new Map(),
    snapshot: () => EMPTY_SNAPSHOT,
  });
  const state: { matrix: MatrixLike | undefined } = { matrix: { windowMs: 1000, pairs: [pair(A, B, 100_000), pair(A, C, 100_000)] } };
  registry.addEventSource(matrixDeltaSource(() => state.matrix));
  /** A policy taking matrix-delta (and host, to fill its queue), with its SSE stream open. */
  const policy = async (name: string) => {
    await registry.register({ name, events: ['matrix-delta', 'host'], leaseSeconds: 300 }, { name: 'admin' });
    const entry = registry.entry(name) as HttpPolicyEntry;
    let stream = entry.openStream([]);
    return {
      entry,
      reopen: () => (stream = entry.openStream([])),
      /** The matrix-delta payloads queued since the last read. */
      deltas: () => stream.take().events.filter((e) => e.type === 'matrix-delta').map((e) => (e as PluginEvent).matrixDelta!),
    };
  };
  return { registry, state, policy };
}

describe('per-subscriber events: matrix-delta', () => {
  it('each policy gets its own deltas, starting with the whole matrix', async () => {
    const { registry, state, policy } = setup();
    const p = await policy('p');
    registry.tick();
    expect(p.deltas()).toEqual([{ seq: 1, full: true, windowMs: 1000, pairs: state.matrix!.pairs, removed: [] }]);
    registry.tick();
    expect(p.deltas()).toEqual([]); // nothing changed: nothing sent

    state.matrix = { windowMs: 1000, pairs: [pair(A, B, 200_000)] };
    const q = await policy('q');
    registry.tick();
    expect(p.deltas()).toEqual([{ seq: 2, full: false, windowMs: 1000, pairs: [pair(A, B, 200_000)], removed: [{ a: A, b: C }] }]);
    expect(q.deltas()).toEqual([{ seq: 1, full: true, windowMs: 1000, pairs: [pair(A, B, 200_000)], removed: [] }]);
    await registry.stop();
  });

  it('a policy whose queue dropped events gets the whole matrix on the next tick; another is not disturbed', async () => {
    const { registry, state, policy } = setup();
    const lossy = await policy('lossy');
    const steady = await policy('steady');
    registry.tick();
    expect(lossy.deltas()[0]?.full).toBe(true);
    expect(steady.deltas()[0]?.full).toBe(true);

    // `lossy` reads nothing while more than its queue holds is published: it lost events.
    // `steady` reads as they come (half a queue at a time): it loses nothing.
    for (let i = 0; i <= EVENT_QUEUE_CAPACITY; i++) {
      registry.publish({ type: 'host', host: { name: `h${i}`, change: 'joined' } });
      if (i % (EVENT_QUEUE_CAPACITY / 2) === 0) steady.deltas();
    }
    steady.deltas();
    expect(lossy.entry.counters.dropped).toBeGreaterThan(0);
    expect(steady.entry.counters.dropped).toBe(0);
    state.matrix = { windowMs: 1000, pairs: [pair(A, B, 300_000), pair(A, C, 100_000)] };
    registry.tick();
    expect(lossy.deltas()).toEqual([{ seq: 2, full: true, windowMs: 1000, pairs: state.matrix.pairs, removed: [] }]);
    expect(steady.deltas()).toEqual([{ seq: 2, full: false, windowMs: 1000, pairs: [pair(A, B, 300_000)], removed: [] }]);
    // Its queue was still full when that full one was pushed: the push dropped an older event, so (not knowing which)
    // one more full follows; it now reads, and gets deltas again.
    registry.tick();
    expect(lossy.deltas()).toMatchObject([{ seq: 3, full: true }]);
    registry.tick();
    expect(lossy.deltas()).toEqual([]);
    await registry.stop();
  });

  it('a new stream, or a disable and enable, starts over with the whole matrix', async () => {
    const { registry, policy } = setup();
    const p = await policy('p');
    registry.tick();
    expect(p.deltas().map((d) => d.full)).toEqual([true]);
    registry.tick();
    expect(p.deltas()).toEqual([]);
    p.reopen();
    registry.tick();
    expect(p.deltas().map((d) => d.full)).toEqual([true]);

    await registry.setEnabled('p', false);
    registry.tick();
    await registry.setEnabled('p', true);
    p.reopen();
    registry.tick();
    expect(p.deltas()).toMatchObject([{ seq: 1, full: true }]); // a new subscription: its seq starts again
    await registry.stop();
  });

  it('nothing while VTTIF is not running; a loss meanwhile still re-syncs when it is back', async () => {
    const { registry, state, policy } = setup();
    const p = await policy('p');
    registry.tick();
    p.deltas();
    const before = state.matrix;
    state.matrix = undefined;
    p.reopen();
    registry.tick();
    expect(p.deltas()).toEqual([]);
    state.matrix = before;
    registry.tick();
    expect(p.deltas().map((d) => d.full)).toEqual([true]);
    await registry.stop();
  });
});

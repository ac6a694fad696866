import { describe, expect, it } from 'vitest';
import {
  adapt,
  DEFAULT_FASTPATH_PARAMETERS,
  EMPTY_ADAPT_STATE,
  forgetMovedVm,
  markUnreachable,
  type AdaptState,
  type AppEdge,
  type FastPathChange,
  type FastPathParameters,
} from '../../../plugins/fastpath/adapt.js';

const vm = (h: number) => `02:00:c6:13:0${h}:01`;
const macToHost = new Map(Array.from({ length: 8 }, (_, i) => [vm(i + 1), `h${i + 1}`] as const));
const edge = (x: number, y: number, intensity = 1): AppEdge => ({ a: vm(x), b: vm(y), intensity });
const params = (p: Partial<FastPathParameters> = {}): FastPathParameters => ({ ...DEFAULT_FASTPATH_PARAMETERS, ...p });

function step(edges: AppEdge[], state: AdaptState, nowMs: number, p = params()) {
  return adapt({ edges, macToHost, state, parameters: p, nowMs });
}
const links = (s: AdaptState) => [...s.links.keys()].sort();
const kinds = (c: FastPathChange[]) => c.map((x) => x.kind);

describe('adapt', () => {
  it('adds a link and a rule on each end for a VM pair on two hosts, link before rules', () => {
    const r = step([edge(1, 2)], EMPTY_ADAPT_STATE, 0);
    expect(links(r.state)).toEqual(['h1 h2']);
    expect(kinds(r.changes)).toEqual(['add-link', 'add-rule', 'add-rule']);
    expect(r.changes.filter((c) => c.kind === 'add-rule').map((c) => c.kind === 'add-rule' && c.rule)).toEqual([
      { host: 'h1', peer: 'h2', src: vm(1), dst: vm(2) },
      { host: 'h2', peer: 'h1', src: vm(2), dst: vm(1) },
    ]);
  });

  it('leaves unknown VMs and VMs on one host to the star', () => {
    const r = step([{ a: vm(1), b: '02:00:00:00:00:99', intensity: 1 }], EMPTY_ADAPT_STATE, 0);
    expect(r.changes).toEqual([]);
    const same = adapt({ edges: [edge(1, 2)], macToHost: new Map([[vm(1), 'h1'], [vm(2), 'h1']]), state: EMPTY_ADAPT_STATE, parameters: params(), nowMs: 0 });
    expect(same.changes).toEqual([]);
  });

  it('takes the heaviest host pairs first, up to the cap per host', () => {
    const edges = [edge(1, 2, 0.2), edge(1, 3, 1), edge(1, 4, 0.5), edge(2, 3, 0.9)];
    const r = step(edges, EMPTY_ADAPT_STATE, 0, params({ maxLinksPerHost: 1 }));
    // h1-h3 (1) first; h2-h3 (0.9) blocked by h3's cap; h1-h4 blocked by h1's; h1-h2 too.
    expect(links(r.state)).toEqual(['h1 h3']);
    const two = step(edges, EMPTY_ADAPT_STATE, 0, params({ maxLinksPerHost: 2 }));
    expect(links(two.state)).toEqual(['h1 h3', 'h1 h4', 'h2 h3']);
    expect(links(step(edges, EMPTY_ADAPT_STATE, 0, params({ maxLinksPerHost: 0 })).state)).toEqual([]);
  });

  it('all-to-all on 8 hosts with the default cap: 28 links, 56 rules', () => {
    const edges: AppEdge[] = [];
    for (let i = 1; i <= 8; i++) for (let j = i + 1; j <= 8; j++) edges.push(edge(i, j));
    const r = step(edges, EMPTY_ADAPT_STATE, 0);
    expect(r.state.links.size).toBe(28);
    expect(r.changes.filter((c) => c.kind === 'add-rule')).toHaveLength(56);
  });

  it('caps the links in all (maxLinks), heaviest first', () => {
    const edges: AppEdge[] = [];
    for (let i = 1; i <= 8; i++) for (let j = i + 1; j <= 8; j++) edges.push(edge(i, j, (i * 8 + j) / 100));
    for (const k of [0, 7, 14, 21, 28]) expect(step(edges, EMPTY_ADAPT_STATE, 0, params({ maxLinks: k })).state.links.size).toBe(k);
    expect(links(step(edges, EMPTY_ADAPT_STATE, 0, params({ maxLinks: 1 })).state)).toEqual(['h7 h8']);
  });

  it('waits addAfterMs before adding a link', () => {
    const p = params({ addAfterMs: 1000 });
    const r1 = step([edge(1, 2)], EMPTY_ADAPT_STATE, 0, p);
    expect(r1.changes).toEqual([]);
    expect(step([edge(1, 2)], r1.state, 999, p).changes).toEqual([]);
    expect(kinds(step([edge(1, 2)], r1.state, 1000, p).changes)).toContain('add-link');
  });

  it('removes a link only after its pair has been absent for removeAfterMs, rules before the link', () => {
    const p = params({ removeAfterMs: 5000 });
    const r1 = step([edge(1, 2)], EMPTY_ADAPT_STATE, 0, p);
    const r2 = step([], r1.state, 4999, p);
    expect(r2.changes).toEqual([]);
    expect(links(r2.state)).toEqual(['h1 h2']);
    const r3 = step([], r2.state, 5000, p);
    expect(kinds(r3.changes)).toEqual(['delete-rule', 'delete-rule', 'delete-link']);
    expect(r3.state.links.size).toBe(0);
  });

  it('a pair that comes back within the hysteresis keeps its link with no churn', () => {
    const p = params({ removeAfterMs: 5000 });
    const r1 = step([edge(1, 2)], EMPTY_ADAPT_STATE, 0, p);
    const r2 = step([], r1.state, 3000, p);
    const r3 = step([edge(1, 2)], r2.state, 4000, p);
    expect(r3.changes).toEqual([]);
    expect(step([], r3.state, 8999, p).changes).toEqual([]);
  });

  it('a VM pair that goes away loses its rules after the hysteresis while the link stays', () => {
    const twoVms = new Map([...macToHost, ['02:00:c6:13:01:02', 'h1']]);
    const p = params({ removeAfterMs: 1000 });
    const both = [edge(1, 2), { a: '02:00:c6:13:01:02', b: vm(2), intensity: 0.5 }];
    const r1 = adapt({ edges: both, macToHost: twoVms, state: EMPTY_ADAPT_STATE, parameters: p, nowMs: 0 });
    expect(r1.changes.filter((c) => c.kind === 'add-rule')).toHaveLength(4);
    const r2 = adapt({ edges: [edge(1, 2)], macToHost: twoVms, state: r1.state, parameters: p, nowMs: 500 });
    expect(r2.changes).toEqual([]);
    const r3 = adapt({ edges: [edge(1, 2)], macToHost: twoVms, state: r2.state, parameters: p, nowMs: 1000 });
    expect(kinds(r3.changes)).toEqual(['delete-rule', 'delete-rule']);
  });

  it('an unreachable pair backs off, then is tried again', () => {
    const p = params({ unreachableBackoffMs: 10_000 });
    const r1 = step([edge(1, 2)], EMPTY_ADAPT_STATE, 0, p);
    const failed = markUnreachable(r1.state, 'h2', 'h1', 2000, p);
    expect(failed.links.size).toBe(0);
    const r2 = step([edge(1, 2)], failed, 5000, p);
    expect(r2.changes).toEqual([]);
    const r3 = step([edge(1, 2)], r2.state, 12_000, p);
    expect(kinds(r3.changes)).toEqual(['add-link', 'add-rule', 'add-rule']);
  });

  it('existing links keep their slots against slightly heavier newcomers (no churn)', () => {
    const r1 = step([edge(1, 2, 0.9)], EMPTY_ADAPT_STATE, 0, params({ maxLinks: 1 }));
    const r2 = step([edge(1, 2, 0.9), edge(3, 4, 1)], r1.state, 1, params({ maxLinks: 1 }));
    expect(r2.changes).toEqual([]);
    expect(links(r2.state)).toEqual(['h1 h2']);
  });

  it('a lowered cap removes the lightest links', () => {
    const edges = [edge(1, 2, 1), edge(1, 3, 0.5)];
    const r1 = step(edges, EMPTY_ADAPT_STATE, 0);
    const r2 = step(edges, r1.state, 1, params({ maxLinksPerHost: 1 }));
    expect(kinds(r2.changes)).toEqual(['delete-rule', 'delete-rule', 'delete-link']);
    expect(links(r2.state)).toEqual(['h1 h2']);
  });
});

describe('fast link liveness, one direction at a time', () => {
  it('never judges an idle direction, and fails one whose receiver hears nothing 3 s after its sender sent', async () => {
    const { directionBroken, newDirection, LINK_SILENT_MS } = await import('../../../plugins/fastpath/fastpath.js');
    const d = newDirection();
    expect(directionBroken(d, 5, 5, 0)).toBe(false);
    // Idle for a long time: nothing sent, nothing received.
    expect(directionBroken(d, 5, 5, 60_000)).toBe(false);
    // Sent, and received: fine.
    expect(directionBroken(d, 6, 6, 61_000)).toBe(false);
    // Sent, not received: judged only after LINK_SILENT_MS.
    expect(directionBroken(d, 7, 6, 62_000)).toBe(false);
    expect(directionBroken(d, 8, 6, 62_000 + LINK_SILENT_MS)).toBe(false);
    expect(directionBroken(d, 9, 6, 62_001 + LINK_SILENT_MS)).toBe(true);
    // Something arrives: healthy again.
    expect(directionBroken(d, 9, 7, 70_000)).toBe(false);
  });
});

describe('forgetMovedVm', () => {
  it('drops at once the moved VM\'s pairs where it is not on its new host, and a link left with none; the next adapt re-forms at the new host', () => {
    // vm1 (h1) talks to vm3 (h3) and vm4 (h4); vm2 (h2) talks to vm4.
    let state = step([edge(1, 3), edge(1, 4), edge(2, 4)], EMPTY_ADAPT_STATE, 0).state;
    expect(links(state)).toEqual(['h1 h3', 'h1 h4', 'h2 h4']);
    const moved = forgetMovedVm(state, vm(1), 'h2');
    expect(links(moved.state)).toEqual(['h2 h4']);
    expect(moved.changes).toEqual([
      { kind: 'delete-rule', rule: { host: 'h1', peer: 'h3', src: vm(1), dst: vm(3) } },
      { kind: 'delete-rule', rule: { host: 'h3', peer: 'h1', src: vm(3), dst: vm(1) } },
      { kind: 'delete-rule', rule: { host: 'h1', peer: 'h4', src: vm(1), dst: vm(4) } },
      { kind: 'delete-rule', rule: { host: 'h4', peer: 'h1', src: vm(4), dst: vm(1) } },
      { kind: 'delete-link', a: 'h1', b: 'h3' },
      { kind: 'delete-link', a: 'h1', b: 'h4' },
    ]);
    const movedMap = new Map(macToHost).set(vm(1), 'h2');
    state = adapt({ edges: [edge(1, 3), edge(1, 4), edge(2, 4)], macToHost: movedMap, state: moved.state, parameters: params(), nowMs: 100 }).state;
    expect(links(state)).toEqual(['h2 h3', 'h2 h4']);
    expect([...state.links.get('h2 h4')!.vmPairs.keys()].sort()).toEqual([`${vm(1)} ${vm(4)}`, `${vm(2)} ${vm(4)}`]);
  });

  it('keeps a link that still carries other pairs, and changes nothing for a VM already where it moved to', () => {
    const state = step([edge(1, 3), edge(5, 3)], EMPTY_ADAPT_STATE, 0, params()).state;
    const withShared = adapt({ edges: [edge(1, 3), edge(5, 3)], macToHost: new Map(macToHost).set(vm(5), 'h1'), state: EMPTY_ADAPT_STATE, parameters: params(), nowMs: 0 }).state;
    const moved = forgetMovedVm(withShared, vm(1), 'h2');
    expect(links(moved.state)).toEqual(['h1 h3']);
    expect(kinds(moved.changes)).toEqual(['delete-rule', 'delete-rule']);
    expect(forgetMovedVm(state, vm(1), 'h1')).toEqual({ state, changes: [] });
  });

  it('without it, the old pair lingers: the hysteresis alone would keep a rule toward the old host', () => {
    const state = step([edge(1, 3)], EMPTY_ADAPT_STATE, 0).state;
    const movedMap = new Map(macToHost).set(vm(1), 'h2');
    const next = adapt({ edges: [edge(1, 3)], macToHost: movedMap, state, parameters: params({ removeAfterMs: 10_000 }), nowMs: 100 });
    expect(links(next.state)).toEqual(['h1 h3', 'h2 h3']);
    expect(next.changes.filter((c) => c.kind === 'delete-rule')).toEqual([]);
  });
});

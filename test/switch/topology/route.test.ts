import { describe, expect, it } from 'vitest';
import type { RuleView } from '../../../switch/overlay/primitives.js';
import { traceRoute } from '../../../switch/topology/route.js';
import type { HostState, TopologyState } from '../../../switch/topology/state.js';
import { KEYS } from './fixtures.js';

const A = '02:00:c6:13:01:01'; // a VM on h1 (port vm1)
const B = '02:00:c6:13:02:01'; // a VM on h2 (port vm2)
let id = 1;
const rule = (src: string, dst: string, target: string, priority = 0, owner = 'star'): RuleView => ({ id: id++, src, dst, target, priority, owner, hitFrames: 0, hitBytes: 0 });
const link = (name: string) => ({ name, publicKey: KEYS.proxy, mode: 'auto' as const, state: 'up' as const });
const mac = (m: string, port: string) => ({ mac: m, port, static: false, ageS: 1 });

function host(name: string, links: string[], ports: string[], rules: RuleView[], macs: ReturnType<typeof mac>[]): HostState {
  return {
    name,
    isProxy: name === 'proxy',
    reachable: true,
    links: links.map(link),
    rules,
    interfaces: [...ports.map((p) => ({ name: p, kind: 'tap' as const })), ...links.map((l) => ({ name: l, kind: 'link' as const }))],
    macs,
  };
}

/** The star: hosts default to the Proxy, the Proxy learned both VMs on its star links. */
function star(): TopologyState {
  return {
    proxy: { name: 'proxy' },
    hosts: [
      host('proxy', ['h1', 'h2'], [], [], [mac(A, 'h1'), mac(B, 'h2')]),
      host('h1', ['proxy'], ['vm1'], [rule('any', 'none', 'proxy')], [mac(A, 'vm1')]),
      host('h2', ['proxy'], ['vm2'], [rule('any', 'none', 'proxy')], [mac(B, 'vm2')]),
    ],
  };
}

describe('traceRoute', () => {
  it('follows the star: default rule up, learned MAC across, learned MAC down', () => {
    const route = traceRoute(star(), { src: A, dst: B });
    expect(route.outcome).toBe('delivered');
    expect(route.hops.map((h) => [h.host, h.inPort, h.step, h.outPort, h.next])).toEqual([
      ['h1', 'vm1', 'default-rule', 'proxy', 'proxy'],
      ['proxy', 'h1', 'learned', 'h2', 'h2'],
      ['h2', 'proxy', 'learned', 'vm2', undefined],
    ]);
    expect(route.hops[0]!.rule).toMatchObject({ src: 'any', dst: 'none', target: 'proxy', owner: 'star' });
  });

  it('takes a shortcut link when a rule says so; the highest-priority rule wins', () => {
    const state = star();
    const h1 = state.hosts[1]!;
    h1.links.push(link('h2'));
    h1.interfaces!.push({ name: 'h2', kind: 'link' });
    h1.rules.push(rule('any', B, 'h2', 10, 'proxy:topology'), rule('any', B, 'proxy', 5, 'cli'));
    state.hosts[2]!.links.push(link('h1'));
    const route = traceRoute(state, { src: A, dst: B.toUpperCase() });
    expect(route.hops.map((h) => [h.host, h.step, h.outPort])).toEqual([
      ['h1', 'rule', 'h2'],
      ['h2', 'learned', 'vm2'],
    ]);
    expect(route.hops[0]!.rule).toMatchObject({ priority: 10, owner: 'proxy:topology' });
  });

  it('skips a rule whose target does not exist on that host, as the switch does', () => {
    const state = star();
    state.hosts[1]!.rules.push(rule('any', B, 'gone', 50));
    expect(traceRoute(state, { src: A, dst: B }).hops[0]!.step).toBe('default-rule');
  });

  it('ends in a flood for an unknown destination and for a group address', () => {
    const state = star();
    state.hosts[0]!.macs = [];
    const route = traceRoute(state, { src: A, dst: B });
    expect(route.outcome).toBe('flooded');
    expect(route.hops.at(-1)).toMatchObject({ host: 'proxy', step: 'flood', reason: 'unknown unicast: no rule, not learned' });
    expect(traceRoute(star(), { src: A, dst: 'ff:ff:ff:ff:ff:ff' })).toMatchObject({ outcome: 'flooded', hops: [{ host: 'h1', reason: 'group destination' }] });
  });

  it('detects a loop, and a hairpin', () => {
    const state = star();
    state.hosts[0]!.rules.push(rule('any', B, 'h1', 1));
    state.hosts[1]!.rules.push(rule('any', B, 'proxy', 1));
    expect(traceRoute(state, { src: A, dst: B }).outcome).toBe('dropped'); // the Proxy's rule sends it back to h1: hairpin
    const loop = star(); // h2 → proxy → h1 → h2 → …
    loop.hosts[2]!.rules.push(rule('any', B, 'proxy', 1));
    loop.hosts[2]!.links.push(link('h1'));
    loop.hosts[2]!.macs = [];
    loop.hosts[0]!.rules.push(rule(A, B, 'h1', 1));
    loop.hosts[1]!.links.push(link('h2'));
    loop.hosts[1]!.interfaces!.push({ name: 'h2', kind: 'link' });
    loop.hosts[1]!.rules.push(rule('any', B, 'h2', 1));
    expect(traceRoute(loop, { src: A, dst: B, from: 'h2' }).outcome).toBe('loop');
  });

  it('stops at a host that did not answer', () => {
    const state = star();
    state.hosts[2] = { name: 'h2', isProxy: false, reachable: false, error: { code: 'host-timeout', message: '' }, links: [], rules: [] };
    expect(traceRoute(state, { src: A, dst: B })).toMatchObject({ outcome: 'unreachable', hops: [{}, {}, { host: 'h2', reason: 'unreachable (host-timeout)' }] });
  });

  it('needs --from when src is not learned on exactly one local port; refuses bad input by field', () => {
    expect(() => traceRoute(star(), { src: '02:00:00:00:00:99', dst: B })).toThrow(expect.objectContaining({ code: 'invalid-input', field: 'from' }));
    expect(traceRoute(star(), { src: '02:00:00:00:00:99', dst: B, from: 'h1' }).hops[0]).toMatchObject({ host: 'h1', inPort: '(local)' });
    expect(() => traceRoute(star(), { src: A, dst: B, from: 'h9' })).toThrow(expect.objectContaining({ field: 'from' }));
    expect(() => traceRoute(star(), { src: 'nope', dst: B })).toThrow(expect.objectContaining({ field: 'src' }));
  });
});

/**
 * The topology tools with fast paths up: the fast-path plugin names its link ends "fp-<peer>", so a link end's
 * name is not its peer. A link's peer is the host with the end's public key: `show` prints each fast path once, as
 * a host–host link (no phantom hosts fp-h1…), `diff` of that output is empty, and `route` follows the fast path
 * hop by hop.
 */
import { describe, expect, it } from 'vitest';
import type { RuleView } from '../../../switch/overlay/primitives.js';
import { checkTopology } from '../../../switch/topology/check.js';
import { diffTopology } from '../../../switch/topology/diff.js';
import { formatTopology } from '../../../switch/topology/format.js';
import { parseTopology } from '../../../switch/topology/parser.js';
import { traceRoute } from '../../../switch/topology/route.js';
import { toOverlay, type HostState, type LinkEndView, type TopologyState } from '../../../switch/topology/state.js';
import { key } from './fixtures.js';

const FASTPATH = 'proxy:fastpath';
const names = Array.from({ length: 8 }, (_, i) => `h${i + 1}`);
const keyOf = (n: string) => key(n === 'proxy' ? 'P' : String.fromCharCode(66 + Number(n.slice(1)))); // proxy P, h1 C, h2 D, …
const vmMac = (n: string) => `02:00:c6:13:0${n.slice(1)}:01`;
const vmPort = (n: string) => `vm${n.slice(1)}`;
let nextId = 1;
const rule = (src: string, dst: string, target: string, owner: string, priority = 0): RuleView => ({ id: nextId++, src, dst, target, priority, owner, hitFrames: 0, hitBytes: 0 });
const end = (name: string, peer: string, owner: string, endpoint?: string): LinkEndView => ({ name, publicKey: keyOf(peer), mode: 'auto', state: 'up', owner, ...(endpoint ? { endpoint } : {}) });
const address = (n: string) => (n === 'proxy' ? '198.18.1.1' : `198.18.0.${n.slice(1)}`);

/** The star of `hosts`, plus a fast path (ends fp-<peer>, rules both ways, owner proxy:fastpath) for every pair in `fast`. */
function overlayState(hosts: readonly string[], fast: readonly [string, string][], forwarding = false): TopologyState {
  const peersOf = (h: string) => fast.flatMap(([a, b]) => (a === h ? [b] : b === h ? [a] : []));
  const host = (h: string): HostState => ({
    name: h,
    isProxy: false,
    reachable: true,
    links: [end('proxy', 'proxy', 'config', `udp:${address('proxy')}:51820`), ...peersOf(h).map((p) => end(`fp-${p}`, p, FASTPATH, `udp:${address(p)}:51820`))],
    rules: [rule('any', 'none', 'proxy', 'star'), ...peersOf(h).map((p) => rule(vmMac(h), vmMac(p), `fp-${p}`, FASTPATH))],
    ...(forwarding
      ? {
          interfaces: [{ name: vmPort(h), kind: 'tap' as const }, { name: 'proxy', kind: 'link' as const }, ...peersOf(h).map((p) => ({ name: `fp-${p}`, kind: 'link' as const }))],
          // Each host learned its VM on its port, and the peers' VMs on their fast paths.
          macs: [{ mac: vmMac(h), port: vmPort(h), static: false, ageS: 1 }, ...peersOf(h).map((p) => ({ mac: vmMac(p), port: `fp-${p}`, static: false, ageS: 1 }))],
        }
      : {}),
  });
  return {
    proxy: { name: 'proxy', publicKey: keyOf('proxy') },
    hosts: [
      {
        name: 'proxy',
        isProxy: true,
        reachable: true,
        links: hosts.map((h) => end(h, h, 'config', `udp:${address(h)}:51820`)),
        rules: [],
        ...(forwarding ? { interfaces: hosts.map((h) => ({ name: h, kind: 'link' as const })), macs: [] } : {}),
      },
      ...hosts.map(host),
    ],
  };
}

const allPairs = (hosts: readonly string[]) => hosts.flatMap((a, i) => hosts.slice(i + 1).map((b): [string, string] => [a, b]));

describe('topology with fast paths up', () => {
  it('shows 8 hosts all-to-all (28 fast paths) as 36 host–host links, no phantom hosts, and diff of that output is empty', () => {
    const state = overlayState(names, allPairs(names));
    const text = formatTopology(toOverlay(state));
    const lines = text.split('\n');
    expect(lines.filter((l) => l.startsWith('host '))).toHaveLength(9);
    expect(text).not.toMatch(/host fp-/);
    expect(lines.filter((l) => l.startsWith('link '))).toHaveLength(8 + 28);
    expect(lines).toContain('link h1 h2');
    expect(lines).toContain('link h7 h8');
    expect(text).not.toMatch(/link \S*fp-/);
    // A fast-path rule goes via the host its link leads to, in the language's terms.
    expect(lines).toContain(`rule h1 src ${vmMac('h1')} dst ${vmMac('h2')} via h2  # owner: ${FASTPATH}`);

    const parsed = parseTopology(text, 'shown.vnet');
    expect(checkTopology(parsed, 'shown.vnet')).toEqual({ problems: [], warnings: [] });
    expect(diffTopology(state, parsed)).toEqual({ changes: [], conflicts: [], pending: [] });
  });

  it('diff of a description with a link its fast path already provides: nothing to add', () => {
    const state = overlayState(['h1', 'h2'], [['h1', 'h2']]);
    const host = (n: string, proxy = false) => `host ${n} key "${keyOf(n)}"${proxy ? ' proxy' : ''}\n`;
    const desc = `${host('proxy', true)}${host('h1')}${host('h2')}link h1 proxy\nlink h2 proxy\nlink h1 h2\nrule h1 src ${vmMac('h1')} dst ${vmMac('h2')} via h2\n`;
    expect(diffTopology(state, parseTopology(desc))).toEqual({ changes: [], conflicts: [], pending: [] });
  });

  it('route follows a fast path hop by hop: h1 → fast path → h2 → the VM port', () => {
    const state = overlayState(['h1', 'h2', 'h3'], [['h1', 'h2']], true);
    const route = traceRoute(state, { src: vmMac('h1'), dst: vmMac('h2') });
    expect(route.outcome).toBe('delivered');
    expect(route.hops.map((h) => [h.host, h.inPort, h.step, h.outPort, h.next])).toEqual([
      ['h1', 'vm1', 'rule', 'fp-h2', 'h2'],
      ['h2', 'fp-h1', 'learned', 'vm2', undefined],
    ]);
    expect(route.hops[0]!.rule).toMatchObject({ target: 'fp-h2', owner: FASTPATH });
  });
});

import { describe, expect, it } from 'vitest';
import type { RuleView } from '../../../switch/overlay/primitives.js';
import { describeChange, diffTopology } from '../../../switch/topology/diff.js';
import { parseTopology } from '../../../switch/topology/parser.js';
import type { HostState, TopologyState } from '../../../switch/topology/state.js';
import { toOverlay } from '../../../switch/topology/state.js';
import { KEYS } from './fixtures.js';

const DESC = `host proxy key "${KEYS.proxy}" endpoint 198.18.1.1:51820 proxy
host h1 key "${KEYS.h1}" endpoint 198.18.0.1:51820
host h2 key "${KEYS.h2}" endpoint 198.18.0.2:51820
link h1 proxy
link h2 proxy
link h1 h2
rule h1 src any dst 02:00:00:00:00:02 via h2 priority 5
rule h1 src any dst none via proxy
`;

let nextId = 1;
const rule = (src: string, dst: string, target: string, owner: string, priority = 0): RuleView => ({ id: nextId++, src, dst, target, priority, owner, hitFrames: 0, hitBytes: 0 });
const end = (name: string, publicKey: string, mode: 'udp' | 'tcp' | 'auto' = 'auto', endpoint?: string) => ({ name, publicKey, mode, state: 'up' as const, ...(endpoint ? { endpoint } : {}) });

/** The star as the daemons start it from their configs: star links and the hosts' default rules (owner star). */
function started(): TopologyState {
  const host = (name: string, extra: Partial<HostState> = {}): HostState => ({ name, isProxy: false, reachable: true, links: [end('proxy', KEYS.proxy, 'auto', 'udp:198.18.1.1:51820')], rules: [rule('any', 'none', 'proxy', 'star')], ...extra });
  return {
    proxy: { name: 'proxy', publicKey: KEYS.proxy },
    hosts: [
      { name: 'proxy', isProxy: true, reachable: true, links: [end('h1', KEYS.h1, 'auto', 'udp:198.18.0.1:51820'), end('h2', KEYS.h2, 'auto', 'udp:198.18.0.2:51820')], rules: [] },
      host('h1'),
      host('h2'),
    ],
  };
}

describe('diffTopology', () => {
  it('adds the shortcut link on both ends and the rules, in order; an equal rule of another owner satisfies the description', () => {
    const diff = diffTopology(started(), parseTopology(DESC));
    expect(diff.conflicts).toEqual([]);
    expect(diff.pending).toEqual([]);
    expect(diff.changes.map(describeChange)).toEqual([
      'h1: add link h2 (transport auto, endpoint 198.18.0.2:51820)',
      'h2: add link h1 (transport auto, endpoint 198.18.0.1:51820)',
      'h1: add rule src any dst 02:00:00:00:00:02 via h2 priority 5',
    ]);
  });

  it('is empty when the state already matches (what makes apply idempotent)', () => {
    const state = started();
    state.hosts[1]!.links.push(end('h2', KEYS.h2));
    state.hosts[2]!.links.push(end('h1', KEYS.h1));
    state.hosts[1]!.rules.push(rule('any', '02:00:00:00:00:02', 'h2', 'proxy:topology', 5));
    expect(diffTopology(state, parseTopology(DESC))).toEqual({ changes: [], conflicts: [], pending: [] });
  });

  it('deletes managed rules and non-star links that are not described, never other owners\' rules; deletes come first', () => {
    const state = started();
    state.hosts[1]!.links.push(end('h2', KEYS.h2, 'udp'));
    state.hosts[1]!.rules.push(rule('02:00:00:00:00:01', 'any', 'h2', 'proxy:topology'), rule('02:00:00:00:00:09', 'any', 'h2', 'cli'));
    const only = `host proxy key "${KEYS.proxy}" proxy\nhost h1 key "${KEYS.h1}"\nhost h2 key "${KEYS.h2}"\nlink h1 proxy\nlink h2 proxy\nlink h1 h2\n`;
    const diff = diffTopology(state, parseTopology(only));
    expect(diff.changes.map((c) => c.op + ' ' + c.host)).toEqual(['delete-rule h1', 'delete-link h1', 'add-link h1', 'add-link h2']);
    expect(diff.changes[1]).toMatchObject({ op: 'delete-link', name: 'h2', was: { name: 'h2', publicKey: KEYS.h2, transport: 'udp' } });
  });

  it('reports conflicts: a rule of another owner holding the key, an undescribed host, a changed star link, a silent host', () => {
    const state = started();
    state.hosts[1]!.rules.push(rule('any', '02:00:00:00:00:02', 'vm9', 'cli', 5));
    state.hosts[0]!.links[1] = end('h2', KEYS.h3);
    state.hosts.push({ name: 'h3', isProxy: false, reachable: false, error: { code: 'host-timeout', message: 'x' }, links: [], rules: [] });
    const diff = diffTopology(state, parseTopology(DESC));
    expect(diff.conflicts).toEqual([
      'host "h3" is linked to the Proxy but not described (apply never removes a host: describe it)',
      "star link proxy → h2 differs from the description (key or transport): change it in the daemons' configs",
      `h1: rule ${state.hosts[1]!.rules[1]!.id} (src any dst 02:00:00:00:00:02 priority 5 via vm9, owner cli) blocks the described rule via h2: delete it or change the description`,
    ]);
    const silent = started();
    silent.hosts[2] = { name: 'h2', isProxy: false, reachable: false, error: { code: 'host-timeout', message: 'x' }, links: [], rules: [] };
    expect(diffTopology(silent, parseTopology(DESC)).conflicts).toEqual(['host "h2" did not answer (host-timeout): cannot compare or change it']);
  });

  it('adds the Proxy\'s star link to a new host and leaves the rest pending until the host is up', () => {
    const state = started();
    state.hosts.pop();
    state.hosts[0]!.links.pop();
    const diff = diffTopology(state, parseTopology(DESC));
    expect(diff.changes.map(describeChange)).toContain('proxy: add link h2 (transport auto, endpoint 198.18.0.2:51820)');
    expect(diff.pending).toEqual(['host "h2" is not linked to the Proxy yet: its 1 link(s)/rule(s) wait until it is up (start it with its config, then apply again)']);
  });

  it('compares mentioned ports, never changes them: one not attached, or attached otherwise, is noted in pending', () => {
    const state = started();
    state.hosts[1]!.ports = [{ name: 'tap-h1v1', kind: 'tap' }, { name: 'qvm1', kind: 'capture', interface: 'vnet3' }];
    const described = `${DESC}port h1 tap-h1v1 tap\nport h1 qvm1 capture qvm1\nport h1 qvm2 capture qvm2\n`;
    const diff = diffTopology(state, parseTopology(described));
    expect(diff.conflicts).toEqual([]);
    expect(diff.changes.every((c) => !c.op.includes('port'))).toBe(true);
    expect(diff.pending).toEqual([
      'h1: port qvm1 is attached as capture on vnet3, described as capture on qvm1: apply does not change ports',
      'h1: port qvm2 (capture on qvm2) is not attached: apply does not add ports (the VM manager attaches it: vswitch-ifup, vswitch port add)',
    ]);
    // A host that could not list its ports (an older daemon): not compared, and said so.
    delete state.hosts[1]!.ports;
    expect(diffTopology(state, parseTopology(described)).pending).toEqual(['h1: did not list its ports (an older daemon): its 3 described port(s) are not compared']);
  });

  it("refuses, before anything changes, a rule via a name that is no port or link of the host (when it listed its ports)", () => {
    const state = started();
    state.hosts[1]!.ports = [{ name: 'tap-h1v1', kind: 'tap' }];
    const viaPort = (port: string) => `${DESC}rule h1 src any dst 02:00:00:00:00:09 via ${port}\n`;
    expect(diffTopology(state, parseTopology(viaPort('qvm1'))).conflicts).toEqual([
      'h1: the rule src any dst 02:00:00:00:00:09 goes via "qvm1", which is no port or link of h1: attach the port first (apply does not add ports)',
    ]);
    expect(diffTopology(state, parseTopology(viaPort('tap-h1v1'))).conflicts).toEqual([]);
    // Via a link the same apply adds (h1 → h2): not a conflict.
    expect(diffTopology(state, parseTopology(DESC)).conflicts).toEqual([]);
  });

  it('refuses a description whose proxy is another daemon', () => {
    const other = `host centre key "${KEYS.proxy}" proxy\nhost h1 key "${KEYS.h1}"\nhost h2 key "${KEYS.h2}"\nlink h1 centre\nlink h2 centre\n`;
    const diff = diffTopology(started(), parseTopology(other));
    expect(diff.conflicts[0]).toBe('the description\'s proxy is "centre", but this Proxy is "proxy"');
  });
});

describe('toOverlay', () => {
  it('turns the state into the language: hosts from link ends, one link per pair, all rules with owners', () => {
    const overlay = toOverlay(started());
    expect(overlay.hosts).toEqual([
      { name: 'proxy', publicKey: KEYS.proxy, endpoint: '198.18.1.1:51820', isProxy: true },
      { name: 'h1', publicKey: KEYS.h1, endpoint: '198.18.0.1:51820', isProxy: false },
      { name: 'h2', publicKey: KEYS.h2, endpoint: '198.18.0.2:51820', isProxy: false },
    ]);
    expect(overlay.links).toEqual([
      { a: 'proxy', b: 'h1', transport: 'auto' },
      { a: 'proxy', b: 'h2', transport: 'auto' },
    ]);
    expect(overlay.rules).toEqual([
      { host: 'h1', src: 'any', dst: 'none', via: 'proxy', priority: 0, owner: 'star' },
      { host: 'h2', src: 'any', dst: 'none', via: 'proxy', priority: 0, owner: 'star' },
    ]);
    expect(overlay.ports).toBeUndefined();
  });

  it("mentions each host's ports: tap, or capture with its interface; names the language cannot write are left out", () => {
    const state = started();
    state.hosts[1]!.ports = [{ name: 'tap-h1v1', kind: 'tap' }, { name: 'qvm1', kind: 'capture', interface: 'qvm1' }, { name: 'odd@name', kind: 'tap' }];
    expect(toOverlay(state).ports).toEqual([
      { host: 'h1', name: 'tap-h1v1', type: 'tap' },
      { host: 'h1', name: 'qvm1', type: 'capture', interface: 'qvm1' },
    ]);
  });
});

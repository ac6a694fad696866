/**
 * The precedence between the config file and the saved state (pure: the plan): the config is the base, the saved
 * changes are layered on it, and a saved change that contradicts the config as it is now is skipped, reported and
 * deleted from the state — never applied, never dropped silently.
 */
import { describe, expect, it } from 'vitest';
import { encodeKeyBase64 } from '../../../switch/link/noise/crypto.js';
import { primitiveRecords } from '../../../switch/state/primitive-records.js';
import { RestoreReport } from '../../../switch/state/restore-report.js';
import { planPrimitiveRestore, type ConfigFacts } from '../../../switch/state/restore-primitives.js';
import { StateCorruptError } from '../../../switch/state/state-errors.js';
import { StateTable } from '../../../switch/state/state-table.js';
import type { StateChange } from '../../../switch/state/state-record.js';

const problem = (where: string, p: string) => new StateCorruptError('f', where, p, '');
const key = (n: number) => new Uint8Array(32).fill(n);
const b64 = (n: number) => encodeKeyBase64(key(n));
const link = (name: string, n: number, owner = 'ops'): StateChange[] => primitiveRecords({ type: 'link-added', name, config: { name, publicKey: key(n), transport: 'auto' }, owner });
const tomb = (name: string, n: number): StateChange[] => primitiveRecords({ type: 'link-deleted', name, config: { name, publicKey: key(n), transport: 'auto' }, owner: 'config' });

function plan(changes: StateChange[], config: Partial<ConfigFacts> = {}) {
  const saved = new StateTable();
  saved.apply(changes);
  const report = new RestoreReport();
  const facts: ConfigFacts = { makesLinks: true, peers: new Map([['proxy', b64(9)], ['direct', b64(8)]]), ports: [{ type: 'tap', name: 'tap-h1v1', mtu: 1500 }], rules: [{ src: 'any', dst: 'none' }], ...config };
  return { plan: planPrimitiveRestore(saved, facts, report, problem), report };
}

describe('restore against the config (precedence)', () => {
  it('restores what does not contradict the config: run-time links, a config link kept deleted, rules under their ids, the bound', () => {
    const { plan: p, report } = plan([
      ...link('x1', 1),
      ...tomb('direct', 8),
      ...primitiveRecords({ type: 'rule-added', rule: { id: 12, src: 'any', dst: 'any', target: 'gone', owner: 'ops' }, nextRuleId: 15 }),
      ...primitiveRecords({ type: 'rule-added', rule: { id: 7, src: 'any', dst: 'none', target: 'x1', priority: 1, owner: 'ops' }, nextRuleId: 13 }),
      ...primitiveRecords({ type: 'config-time', upperBoundMs: 900 }),
    ]);
    expect(p.links.map((l) => [l.config.name, l.owner])).toEqual([['x1', 'ops']]);
    expect([...p.deletedConfigLinks]).toEqual(['direct']);
    expect(p.rules.map((r) => r.id)).toEqual([7, 12]); // by id; a rule toward a target that is gone is kept, as it was
    expect(p.nextRuleId).toBe(13); // the last mark written
    expect(p.configTimeBoundMs).toBe(900);
    expect(p.cleanup).toEqual([]);
    expect(report.outcomes().every((o) => o.outcome === 'restored')).toBe(true);
  });

  it('skips (and deletes) a saved link whose name a config peer or port now has, or whose key a config peer now has', () => {
    const { plan: p, report } = plan([...link('proxy', 1), ...link('tap-h1v1', 2), ...link('x3', 8), ...link('x4', 4)]);
    expect(p.links.map((l) => l.config.name)).toEqual(['x4']);
    expect(report.outcomes().filter((o) => o.outcome === 'skipped')).toEqual([
      { kind: 'link', key: 'proxy', outcome: 'skipped', reason: 'the config now has a peer named "proxy": the config wins' },
      { kind: 'link', key: 'tap-h1v1', outcome: 'skipped', reason: 'the config now has a port named "tap-h1v1": the config wins' },
      { kind: 'link', key: 'x3', outcome: 'skipped', reason: 'the config\'s peer "direct" now has this link\'s key: the config wins' },
    ]);
    expect(p.cleanup).toEqual(['proxy', 'tap-h1v1', 'x3'].map((k) => ({ kind: 'link', key: k, value: null })));
  });

  it('a config without peers (or key) any more makes no links: every saved link is skipped, saying why', () => {
    const { plan: p, report } = plan([...link('x1', 1)], { makesLinks: false, peers: new Map(), rules: [] });
    expect(p.links).toEqual([]);
    expect(report.outcomes()).toEqual([{ kind: 'link', key: 'x1', outcome: 'skipped', reason: expect.stringContaining('makes no links') }]);
  });

  it('a config link deleted at run time and then added again under its name with another key: both stand', () => {
    const { plan: p } = plan([...tomb('direct', 8), ...link('direct', 5), ...link('x9', 8)]);
    expect([...p.deletedConfigLinks]).toEqual(['direct']);
    // The config's "direct" is deleted, so its name and its key are free for run-time links.
    expect(p.links.map((l) => l.config.name)).toEqual(['direct', 'x9']);
  });

  it('a tombstone whose config peer is gone or has another key is dropped: the config wins', () => {
    const { plan: p, report } = plan([...tomb('direct', 7), ...tomb('old', 6)]);
    expect([...p.deletedConfigLinks]).toEqual([]);
    expect(report.outcomes().map((o) => [o.key, o.outcome, o.reason])).toEqual([
      ['direct', 'skipped', 'the config\'s peer "direct" has another key now: the config wins, the link is back'],
      ['old', 'skipped', 'the config no longer has a peer "old": nothing to keep deleted'],
    ]);
  });

  it('skips a saved rule with the match and priority of a rule the config now makes (the star\'s default rule)', () => {
    const rule = (id: number, priority?: number): StateChange[] =>
      primitiveRecords({ type: 'rule-added', rule: { id, src: 'any', dst: 'none', target: 'tap-h1v1', ...(priority === undefined ? {} : { priority }), owner: 'ops' }, nextRuleId: id + 1 });
    const { plan: p, report } = plan([...rule(2), ...rule(3, 4)]);
    expect(p.rules.map((r) => r.id)).toEqual([3]);
    expect(report.outcomeOf('rule', '2')).toMatchObject({ outcome: 'skipped', reason: expect.stringContaining("the star's default rule") });
    // Without a Proxy in the config there is no such rule, and nothing is skipped.
    expect(plan([...rule(2)], { rules: [] }).plan.rules.map((r) => r.id)).toEqual([2]);
  });

  describe('ports', () => {
    const tap = (name: string, owner = 'ops'): StateChange[] => primitiveRecords({ type: 'port-added', config: { type: 'tap', name, mtu: 1500 }, owner });
    const capture = (name: string, iface: string, owner = 'ops'): StateChange[] => primitiveRecords({ type: 'port-added', config: { type: 'capture', name, interface: iface, promiscuous: true }, owner });
    const configPort = { type: 'capture' as const, name: 'cap0', interface: 'eth9', promiscuous: true };
    const deleted = (config: typeof configPort | { type: 'tap'; name: string; mtu: number }): StateChange[] => primitiveRecords({ type: 'port-deleted', config, owner: 'config', rules: [] });
    const ports = [{ type: 'tap' as const, name: 'tap-h1v1', mtu: 1500 }, configPort];

    it('brings back run-time ports and keeps a config port deleted while the config has it as the same device', () => {
      const { plan: p, report } = plan([...tap('vm-a'), ...capture('vm-b', 'vm-b', 'proxy:local'), ...deleted(configPort)], { ports });
      expect(p.ports).toEqual([
        { config: { type: 'tap', name: 'vm-a', mtu: 1500 }, owner: 'ops' },
        { config: { type: 'capture', name: 'vm-b', interface: 'vm-b', promiscuous: true }, owner: 'proxy:local' },
      ]);
      expect([...p.deletedConfigPorts]).toEqual(['cap0']);
      expect(p.cleanup).toEqual([]);
      expect(report.outcomeOf('config-port-deleted', 'cap0')).toMatchObject({ outcome: 'restored' });
      // Once deleted, the config port's name and interface are free for run-time ports (and a link).
      const again = plan([...deleted(configPort), ...capture('cap0', 'eth9'), ...link('tap-h1v1', 3)], { ports: [configPort] });
      expect(again.plan.ports.map((x) => x.config.name)).toEqual(['cap0']);
      expect(again.plan.links.map((l) => l.config.name)).toEqual(['tap-h1v1']);
    });

    it('skips (and deletes) a saved port whose name a config port or peer now has, or whose interface a config port captures', () => {
      const { plan: p, report } = plan([...tap('tap-h1v1'), ...tap('proxy'), ...capture('vm-c', 'eth9'), ...tap('vm-d')], { ports });
      expect(p.ports.map((x) => x.config.name)).toEqual(['vm-d']);
      expect(report.outcomes().filter((o) => o.outcome === 'skipped')).toEqual([
        { kind: 'port', key: 'tap-h1v1', outcome: 'skipped', reason: 'the config now has a port named "tap-h1v1": the config wins' },
        { kind: 'port', key: 'proxy', outcome: 'skipped', reason: 'the config now has a peer named "proxy": the config wins' },
        { kind: 'port', key: 'vm-c', outcome: 'skipped', reason: 'the config\'s port "cap0" now captures interface "eth9": the config wins' },
      ]);
      expect(p.cleanup).toEqual(['tap-h1v1', 'proxy', 'vm-c'].map((k) => ({ kind: 'port', key: k, value: null })));
    });

    it('a config port\'s deletion is dropped once the config no longer has it, or has it as another device', () => {
      const { plan: p, report } = plan([...deleted(configPort), ...deleted({ type: 'tap', name: 'old', mtu: 1500 })], { ports: [{ ...configPort, interface: 'eth7' }] });
      expect([...p.deletedConfigPorts]).toEqual([]);
      expect(report.outcomes().map((o) => [o.key, o.outcome, o.reason])).toEqual([
        ['cap0', 'skipped', 'the config\'s port "cap0" is another device now (a capture of eth7, was a capture of eth9): the config wins, the port is back'],
        ['old', 'skipped', 'the config no longer has a port "old": nothing to keep deleted'],
      ]);
    });
  });
});

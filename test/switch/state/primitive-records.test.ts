/**
 * The primitives' records: restore(save(x)) == x for every kind (links with every field, tombstones, rules of every
 * match kind, the id mark, the config-time bound), what is saved for which owner, and a bad record's error naming
 * the record and the field.
 */
import { describe, expect, it } from 'vitest';
import { parseMac } from '../../../switch/frame/mac.js';
import type { LinkPeerConfig } from '../../../switch/link/link-manager.js';
import type { PrimitiveChange } from '../../../switch/overlay/primitive-change.js';
import type { Rule } from '../../../switch/rules/rule.js';
import {
  decodeConfigLinkDeleted,
  decodeConfigPortDeleted,
  decodeConfigTime,
  decodeLink,
  decodeNextRuleId,
  decodePort,
  decodeRule,
  isSavedOwner,
  primitiveRecords,
} from '../../../switch/state/primitive-records.js';
import { StateCorruptError } from '../../../switch/state/state-errors.js';
import type { JsonValue } from '../../../switch/state/state-record.js';

const problem = (where: string, p: string) => new StateCorruptError('/s/state.journal', where, p, 'reset it');
const key = (fill: number) => new Uint8Array(32).fill(fill);
const viaJson = (v: JsonValue | null): JsonValue => JSON.parse(JSON.stringify(v)) as JsonValue;

const fullLink: LinkPeerConfig = {
  name: 'x1',
  publicKey: key(1),
  presharedKey: key(2),
  transport: 'auto',
  udpEndpoint: { transport: 'udp', host: '198.18.0.7', port: 51820 },
  tcpEndpoint: { transport: 'tcp', host: '::1', port: 443, connectionId: 9 },
  persistentKeepaliveS: 25,
};

describe('primitive records', () => {
  it('a link round-trips with every field (a TCP connection id is not a setting: it is left out)', () => {
    const [change] = primitiveRecords({ type: 'link-added', name: 'x1', config: fullLink, owner: 'ops' });
    expect(change).toMatchObject({ kind: 'link', key: 'x1' });
    const back = decodeLink('x1', viaJson(change!.value), problem);
    expect(back.owner).toBe('ops');
    expect(back.config).toEqual({ ...fullLink, tcpEndpoint: { transport: 'tcp', host: '::1', port: 443 } });
    const minimal: LinkPeerConfig = { name: 'x2', publicKey: key(3), transport: 'udp' };
    const [m] = primitiveRecords({ type: 'link-added', name: 'x2', config: minimal, owner: 'proxy:policy:pin' });
    expect(decodeLink('x2', viaJson(m!.value), problem)).toEqual({ config: minimal, owner: 'proxy:policy:pin' });
  });

  it('rules of every match kind round-trip under their id, with and without a priority', () => {
    const rules: Rule[] = [
      { id: 3, src: parseMac('02:00:00:00:00:01')!, dst: parseMac('02:00:00:00:00:02')!, target: 'x1', priority: -5, owner: 'ops' },
      { id: 4, src: 'any', dst: parseMac('02:00:00:00:00:02')!, target: 'x1', owner: 'ops' },
      { id: 5, src: parseMac('02:00:00:00:00:01')!, dst: 'any', target: 'p1', priority: 1_000_000, owner: 'policy:pin' },
      { id: 6, src: 'any', dst: 'any', target: 'p1', owner: 'local' },
      { id: 7, src: parseMac('02:00:00:00:00:01')!, dst: 'none', target: 'p1', owner: 'ops' },
      { id: 8, src: 'any', dst: 'none', target: 'p1', priority: 2, owner: 'ops' },
    ];
    for (const rule of rules) {
      const changes = primitiveRecords({ type: 'rule-added', rule, nextRuleId: rule.id + 1 });
      expect(changes.map((c) => c.kind)).toEqual(['rule', 'rule-ids']);
      expect(decodeRule(changes[0]!.key, viaJson(changes[0]!.value), problem)).toEqual(rule);
      expect(decodeNextRuleId(viaJson(changes[1]!.value), problem)).toBe(rule.id + 1);
    }
  });

  it('a config link deleted at run time is a tombstone with its key; restoring it removes the tombstone; the config-time bound round-trips', () => {
    const config = { ...fullLink, name: 'direct' };
    const [tomb] = primitiveRecords({ type: 'link-deleted', name: 'direct', config, owner: 'config' });
    expect(tomb).toEqual({ kind: 'config-link-deleted', key: 'direct', value: { publicKey: Buffer.from(key(1)).toString('base64') } });
    expect(decodeConfigLinkDeleted('direct', viaJson(tomb!.value), problem)).toEqual({ publicKey: Buffer.from(key(1)).toString('base64') });
    expect(primitiveRecords({ type: 'link-added', name: 'direct', config, owner: 'config' })).toEqual([{ kind: 'config-link-deleted', key: 'direct', value: null }]);
    const [bound] = primitiveRecords({ type: 'config-time', upperBoundMs: 750 });
    expect(decodeConfigTime(viaJson(bound!.value), problem)).toBe(750);
  });

  it('run-time ports round-trip (tap and capture, with owner); a config port deleted is a tombstone naming its device; a deleted port\'s policy rules go in the same batch', () => {
    const tap = { type: 'tap' as const, name: 'vm-h1v1', mtu: 9000 };
    const capture = { type: 'capture' as const, name: 'vm-h1v2', interface: 'vm-h1v2', promiscuous: false };
    for (const [config, owner] of [[tap, 'ops'], [capture, 'proxy:local']] as const) {
      const [added] = primitiveRecords({ type: 'port-added', config, owner });
      expect(added).toMatchObject({ kind: 'port', key: config.name });
      expect(decodePort(config.name, viaJson(added!.value), problem)).toEqual({ config, owner });
      expect(primitiveRecords({ type: 'port-deleted', config, owner, rules: [] })).toEqual([{ kind: 'port', key: config.name, value: null }]);
    }
    const policyRule: Rule = { id: 12, src: 'any', dst: 'any', target: 'cap0', owner: 'proxy:policy:pin' };
    const fastRule: Rule = { id: 13, src: 'any', dst: 'none', target: 'cap0', owner: 'proxy:fastpath' };
    const bpf = [{ code: 6, jt: 0, jf: 0, k: 65535 }];
    const changes = primitiveRecords({ type: 'port-deleted', config: { type: 'capture', name: 'cap0', interface: 'eth9', promiscuous: true, bpf }, owner: 'config', rules: [policyRule, fastRule] });
    expect(changes).toEqual([
      { kind: 'config-port-deleted', key: 'cap0', value: { type: 'capture', interface: 'eth9' } },
      { kind: 'rule', key: '12', value: null }, // the fast path's rule was never saved
    ]);
    expect(decodeConfigPortDeleted('cap0', viaJson(changes[0]!.value), problem)).toEqual({ type: 'capture', interface: 'eth9' });
    expect(decodeConfigPortDeleted('t0', viaJson(primitiveRecords({ type: 'port-deleted', config: tap, owner: 'config', rules: [] })[0]!.value), problem)).toEqual({ type: 'tap' });
    // The config's own ports are the config's to bring back: adding one writes nothing.
    expect(primitiveRecords({ type: 'port-added', config: tap, owner: 'config' })).toEqual([]);
  });

  it('saves what operators and module/HTTP policies own, not the built-in fast path\'s, the star\'s or the config\'s', () => {
    expect(['ops', 'local', 'cli', 'policy:pin', 'proxy:policy:pin', 'proxy:ops'].every(isSavedOwner)).toBe(true);
    expect(['fastpath', 'proxy:fastpath', 'star', 'config'].some(isSavedOwner)).toBe(false);
    const fast: PrimitiveChange[] = [
      { type: 'link-added', name: 'fp-h2', config: { name: 'fp-h2', publicKey: key(4), transport: 'auto' }, owner: 'proxy:fastpath' },
      { type: 'link-deleted', name: 'fp-h2', config: { name: 'fp-h2', publicKey: key(4), transport: 'auto' }, owner: 'proxy:fastpath' },
      { type: 'rule-deleted', rule: { id: 9, src: 'any', dst: 'any', target: 'fp-h2', owner: 'proxy:fastpath' } },
    ];
    for (const change of fast) expect(primitiveRecords(change)).toEqual([]);
    // A fast-path rule moves only the id mark on, so its id is never given again after a restart.
    expect(primitiveRecords({ type: 'rule-added', rule: { id: 9, src: 'any', dst: 'any', target: 'fp-h2', owner: 'proxy:fastpath' }, nextRuleId: 10 })).toEqual([
      { kind: 'rule-ids', key: 'next', value: { next: 10 } },
    ]);
  });

  it('a bad record is an error naming the record and the field', () => {
    const bad = (f: () => unknown, where: string, field: RegExp) => {
      try {
        f();
        expect.unreachable();
      } catch (err) {
        expect(err).toMatchObject({ code: 'state-corrupt', where });
        expect((err as StateCorruptError).problem).toMatch(field);
      }
    };
    bad(() => decodeLink('x1', { publicKey: 'short', transport: 'udp', owner: 'ops' }, problem), 'link "x1"', /^publicKey: /);
    bad(() => decodeLink('x1', { publicKey: Buffer.from(key(1)).toString('base64'), transport: 'quic', owner: 'ops' }, problem), 'link "x1"', /^transport: must be one of udp, tcp, auto/);
    bad(() => decodeLink('x1', { publicKey: Buffer.from(key(1)).toString('base64'), transport: 'udp', udpEndpoint: 'host:1', owner: 'ops' }, problem), 'link "x1"', /^udpEndpoint: /);
    bad(() => decodeLink('bad name!', { publicKey: Buffer.from(key(1)).toString('base64'), transport: 'udp', owner: 'ops' }, problem), 'link "bad name!"', /link name/);
    bad(() => decodeRule('0', { src: 'any', dst: 'any', target: 'p1', owner: 'ops' }, problem), 'rule "0"', /positive integer/);
    bad(() => decodeRule('3', { src: 'every', dst: 'any', target: 'p1', owner: 'ops' }, problem), 'rule "3"', /^src: must be a MAC or any/);
    bad(() => decodeRule('3', { src: 'any', dst: 'none', target: 'p1' }, problem), 'rule "3"', /^owner: must be a string/);
    bad(() => decodeConfigTime({ upperBoundMs: 0 }, problem), 'config-time "bound"', /^upperBoundMs: must be an integer 1..3600000/);
    bad(() => decodeRule('3', [1, 2] as unknown as JsonValue, problem), 'rule "3"', /the value must be an object/);
    bad(() => decodePort('vm/1', { type: 'tap', mtu: 1500, owner: 'ops' }, problem), 'port "vm/1"', /Linux interface name/);
    bad(() => decodePort('a-name-of-16-byt', { type: 'tap', mtu: 1500, owner: 'ops' }, problem), 'port "a-name-of-16-byt"', /Linux interface name/);
    bad(() => decodePort('vm1', { type: 'tun', mtu: 1500, owner: 'ops' }, problem), 'port "vm1"', /^type: must be one of tap, capture/);
    bad(() => decodePort('vm1', { type: 'tap', mtu: 67, owner: 'ops' }, problem), 'port "vm1"', /^mtu: must be an integer 68..65521/);
    bad(() => decodePort('vm1', { type: 'tap', mtu: 1500, interface: 'eth0', owner: 'ops' }, problem), 'port "vm1"', /^interface: a tap port/);
    bad(() => decodePort('vm1', { type: 'capture', interface: 'eth0', promiscuous: true, mtu: 1500, owner: 'ops' }, problem), 'port "vm1"', /^mtu: a capture port/);
    bad(() => decodePort('vm1', { type: 'capture', interface: 'eth 0', promiscuous: true, owner: 'ops' }, problem), 'port "vm1"', /^interface: must be a Linux interface name/);
    bad(() => decodePort('vm1', { type: 'capture', interface: 'eth0', promiscuous: 'yes', owner: 'ops' }, problem), 'port "vm1"', /^promiscuous: must be true or false/);
    bad(() => decodePort('vm1', { type: 'capture', interface: 'eth0', promiscuous: true }, problem), 'port "vm1"', /^owner: must be a string/);
    bad(() => decodeConfigPortDeleted('vm1', { type: 'capture' }, problem), 'config-port-deleted "vm1"', /^interface: must be a string/);
  });
});

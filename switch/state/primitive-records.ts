/**
 * The primitives' records (the kinds below), written from each change (primitive-change.ts) and read back at start.
 *
 *   link                 name  a link added at run time: its peer (key, pre-shared key, endpoints, transport,
 *                              keepalive) and its owner
 *   config-link-deleted  name  a link of the config deleted at run time (its key): it stays deleted at restart
 *   rule                 id    a rule added at run time, under its own id
 *   rule-ids             next  the next rule id (written with every rule added, saved or not), so a restart never
 *                              gives a rule's id to another
 *   config-time          bound the upper bound on configuration time set at run time
 *   port                 name  a TAP or capture port added at run time (POST /v1/ports, the QEMU hook): its
 *                              PortConfig (type, mtu | interface and promiscuous) and its owner
 *   config-port-deleted  name  a port of the config deleted at run time (its type, and interface): it stays deleted
 *                              at restart while the config's port is that device
 * A port deleted takes the policies' rules toward it along (local-ports.ts): their deletions are in the same batch.
 *
 * What is not written: what the built-in policies own (the fast-path plugin's links and rules: it re-creates them from
 * what VTTIF infers after a restart — replaying them blindly would leave links it does not know it has), and what
 * comes from the config (the star, the config's peers), which the config brings back itself. What module and HTTP
 * policies own IS written, as operators' changes are: an HTTP policy cannot tell that a daemon restarted, its
 * registration (and lease) is restored on the Proxy, and disabling, unregistering or its lease running out still
 * removes what it owns, found by owner on the daemons themselves.
 */
import { decodeKeyBase64, encodeKeyBase64 } from '../link/noise/crypto.js';
import type { LinkPeerConfig } from '../link/link-manager.js';
import type { PortConfig } from '../config/config.js';
import { formatEndpoint, parseEndpoint, type Endpoint } from '../link/transport/endpoint.js';
import { formatMac, parseMac, type Mac } from '../frame/mac.js';
import type { Rule } from '../rules/rule.js';
import type { PrimitiveChange } from '../overlay/primitive-change.js';
import { isBuiltinPolicyActor, STAR_OWNER } from '../overlay/local-primitives.js';
import { isInterfaceName, PORT_MTU } from '../overlay/local-ports.js';
import { RecordReader, type RecordProblem } from './record-reader.js';
import type { JsonValue, StateChange } from './state-record.js';

export const LINK_KIND = 'link';
export const CONFIG_LINK_DELETED_KIND = 'config-link-deleted';
export const RULE_KIND = 'rule';
export const RULE_IDS_KIND = 'rule-ids';
export const RULE_IDS_KEY = 'next';
export const CONFIG_TIME_KIND = 'config-time';
export const CONFIG_TIME_KEY = 'bound';
export const PORT_KIND = 'port';
export const CONFIG_PORT_DELETED_KIND = 'config-port-deleted';

/** Whether what `owner` adds is written (see the note above). */
export function isSavedOwner(owner: string): boolean {
  return owner !== 'config' && owner !== STAR_OWNER && !isBuiltinPolicyActor(owner);
}

/** The records one primitive change makes (none for what is not saved). */
export function primitiveRecords(change: PrimitiveChange): StateChange[] {
  switch (change.type) {
    case 'link-added':
      // A config link deleted at run time and restored (topology apply's undo) is the config's again.
      if (change.owner === 'config') return [{ kind: CONFIG_LINK_DELETED_KIND, key: change.name, value: null }];
      return isSavedOwner(change.owner) ? [{ kind: LINK_KIND, key: change.name, value: encodeLink(change.config, change.owner) }] : [];
    case 'link-deleted':
      if (change.owner === 'config') return [{ kind: CONFIG_LINK_DELETED_KIND, key: change.name, value: { publicKey: encodeKeyBase64(change.config.publicKey) } }];
      return isSavedOwner(change.owner) ? [{ kind: LINK_KIND, key: change.name, value: null }] : [];
    case 'rule-added': {
      // The id mark is written for every rule, the fast path's too: no id is given twice, across restarts included.
      const ids: StateChange = { kind: RULE_IDS_KIND, key: RULE_IDS_KEY, value: { next: change.nextRuleId } };
      if (!isSavedOwner(change.rule.owner ?? 'config')) return [ids];
      return [{ kind: RULE_KIND, key: String(change.rule.id), value: encodeRule(change.rule) }, ids];
    }
    case 'rule-deleted':
      return isSavedOwner(change.rule.owner ?? 'config') ? [{ kind: RULE_KIND, key: String(change.rule.id), value: null }] : [];
    case 'config-time':
      return [{ kind: CONFIG_TIME_KIND, key: CONFIG_TIME_KEY, value: { upperBoundMs: change.upperBoundMs } }];
    case 'port-added':
      return isSavedOwner(change.owner) ? [{ kind: PORT_KIND, key: change.config.name, value: encodePort(change.config, change.owner) }] : [];
    case 'port-deleted': {
      const rules = change.rules.filter((r) => isSavedOwner(r.owner ?? 'config')).map((r): StateChange => ({ kind: RULE_KIND, key: String(r.id), value: null }));
      if (change.owner === 'config') return [{ kind: CONFIG_PORT_DELETED_KIND, key: change.config.name, value: portDevice(change.config) }, ...rules];
      return isSavedOwner(change.owner) ? [{ kind: PORT_KIND, key: change.config.name, value: null }, ...rules] : rules;
    }
  }
}

/** A run-time port as saved: what the API took (the add's checks made it; a run-time port has no BPF program). */
export function encodePort(config: Readonly<PortConfig>, owner: string): JsonValue {
  if (config.type === 'tap') return { type: 'tap', mtu: config.mtu, owner };
  return { type: 'capture', interface: config.interface, promiscuous: config.promiscuous, owner };
}

export function decodePort(key: string, value: JsonValue, problem: RecordProblem): { config: PortConfig; owner: string } {
  const r = new RecordReader(PORT_KIND, key, value, problem);
  if (!isInterfaceName(key)) throw r.fail('', 'a port name is a Linux interface name: 1 to 15 bytes, no "/", ":" or whitespace, not "." or ".."');
  const type = r.oneOf('type', ['tap', 'capture'] as const);
  const owner = r.string('owner', { maxChars: 256 });
  const stray = (type === 'tap' ? ['interface', 'promiscuous', 'bpf'] : ['mtu', 'bpf']).find((f) => r.has(f));
  if (stray !== undefined) throw r.fail(stray, `a ${type} port saved at run time has no ${stray}`);
  if (type === 'tap') return { config: { type, name: key, mtu: r.integer('mtu', PORT_MTU) }, owner };
  const iface = r.string('interface', { maxChars: 15 });
  if (!isInterfaceName(iface)) throw r.fail('interface', 'must be a Linux interface name');
  return { config: { type, name: key, interface: iface, promiscuous: r.boolean('promiscuous') }, owner };
}

/** Which device a port is (its type, a capture port's interface): a config port's tombstone holds while it is the same. */
export type PortDevice = { type: 'tap' } | { type: 'capture'; interface: string };

export function portDevice(config: Readonly<PortConfig>): PortDevice {
  return config.type === 'tap' ? { type: 'tap' } : { type: 'capture', interface: config.interface };
}

export function decodeConfigPortDeleted(key: string, value: JsonValue, problem: RecordProblem): PortDevice {
  const r = new RecordReader(CONFIG_PORT_DELETED_KIND, key, value, problem);
  if (!isInterfaceName(key)) throw r.fail('', 'a port name is a Linux interface name');
  if (r.oneOf('type', ['tap', 'capture'] as const) === 'tap') return { type: 'tap' };
  const iface = r.string('interface', { maxChars: 15 });
  if (!isInterfaceName(iface)) throw r.fail('interface', 'must be a Linux interface name');
  return { type: 'capture', interface: iface };
}

export function encodeLink(config: Readonly<LinkPeerConfig>, owner: string): JsonValue {
  return {
    publicKey: encodeKeyBase64(config.publicKey),
    // The pre-shared key is kept (the link needs it back as it was): the state file is 0600 in a 0700 directory.
    ...(config.presharedKey ? { presharedKey: encodeKeyBase64(config.presharedKey) } : {}),
    transport: config.transport,
    ...(config.udpEndpoint ? { udpEndpoint: endpointText(config.udpEndpoint) } : {}),
    ...(config.tcpEndpoint ? { tcpEndpoint: endpointText(config.tcpEndpoint) } : {}),
    ...(config.persistentKeepaliveS ? { persistentKeepaliveS: config.persistentKeepaliveS } : {}),
    owner,
  };
}

export function decodeLink(key: string, value: JsonValue, problem: RecordProblem): { config: LinkPeerConfig; owner: string } {
  const r = new RecordReader(LINK_KIND, key, value, problem);
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(key)) throw r.fail('', 'a link name is 1..64 letters, digits, "_", ".", ":" or "-"');
  const publicKey = r.decoded('publicKey', () => decodeKeyBase64(r.string('publicKey')));
  const presharedText = r.optionalString('presharedKey');
  const udp = r.optionalString('udpEndpoint', { maxChars: 80 });
  const tcp = r.optionalString('tcpEndpoint', { maxChars: 80 });
  const keepalive = r.optionalInteger('persistentKeepaliveS', { min: 1, max: 65535 });
  return {
    config: {
      name: key,
      publicKey,
      ...(presharedText === undefined ? {} : { presharedKey: r.decoded('presharedKey', () => decodeKeyBase64(presharedText)) }),
      transport: r.oneOf('transport', ['udp', 'tcp', 'auto'] as const),
      ...(udp === undefined ? {} : { udpEndpoint: r.decoded('udpEndpoint', () => parseEndpoint(udp, 'udp')) }),
      ...(tcp === undefined ? {} : { tcpEndpoint: r.decoded('tcpEndpoint', () => parseEndpoint(tcp, 'tcp')) }),
      ...(keepalive === undefined ? {} : { persistentKeepaliveS: keepalive }),
    },
    owner: r.string('owner', { maxChars: 256 }),
  };
}

/** A config link deleted at run time: the key it had (the tombstone applies only while the config's peer has it). */
export function decodeConfigLinkDeleted(key: string, value: JsonValue, problem: RecordProblem): { publicKey: string } {
  const r = new RecordReader(CONFIG_LINK_DELETED_KIND, key, value, problem);
  return { publicKey: r.decoded('publicKey', () => encodeKeyBase64(decodeKeyBase64(r.string('publicKey')))) };
}

export function encodeRule(rule: Rule): JsonValue {
  return {
    src: rule.src === 'any' ? 'any' : formatMac(rule.src),
    dst: rule.dst === 'any' || rule.dst === 'none' ? rule.dst : formatMac(rule.dst),
    target: rule.target,
    ...(rule.priority === undefined ? {} : { priority: rule.priority }),
    owner: rule.owner ?? 'config',
  };
}

export function decodeRule(key: string, value: JsonValue, problem: RecordProblem): Rule {
  const r = new RecordReader(RULE_KIND, key, value, problem);
  if (!/^[1-9][0-9]{0,15}$/.test(key) || !Number.isSafeInteger(Number(key))) throw r.fail('', 'a rule is saved under its id, a positive integer');
  const mac = (field: string, words: readonly string[]): Mac | string => {
    const text = r.string(field, { maxChars: 17 });
    if (words.includes(text)) return text;
    const parsed = parseMac(text);
    if (parsed === undefined) throw r.fail(field, `must be a MAC or ${words.join(' or ')}`);
    return parsed;
  };
  const priority = r.optionalInteger('priority', { min: -1_000_000, max: 1_000_000 });
  return {
    id: Number(key),
    src: mac('src', ['any']) as Mac | 'any',
    dst: mac('dst', ['any', 'none']) as Mac | 'any' | 'none',
    target: r.string('target', { maxChars: 64 }),
    ...(priority === undefined ? {} : { priority }),
    owner: r.string('owner', { maxChars: 256 }),
  };
}

export function decodeNextRuleId(value: JsonValue, problem: RecordProblem): number {
  return new RecordReader(RULE_IDS_KIND, RULE_IDS_KEY, value, problem).integer('next', { min: 1, max: Number.MAX_SAFE_INTEGER });
}

export function decodeConfigTime(value: JsonValue, problem: RecordProblem): number {
  return new RecordReader(CONFIG_TIME_KIND, CONFIG_TIME_KEY, value, problem).integer('upperBoundMs', { min: 1, max: 3_600_000 });
}

function endpointText(endpoint: Endpoint): string {
  // The endpoint as configured: transport, host and port (a TCP connection id is a run-time detail).
  return formatEndpoint({ transport: endpoint.transport, host: endpoint.host, port: endpoint.port });
}

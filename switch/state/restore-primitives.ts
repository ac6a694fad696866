/**
 * Restoring the primitives' records at start, and the precedence between the config file and the saved state:
 * the config file is the base, the saved state is the run-time changes layered on it. A saved change that
 * conflicts with the config as it is now is reported, skipped and deleted from the state — never applied half, never
 * dropped silently:
 *   - a saved link whose name the config now uses (a peer or a port), or whose key a config peer now has, or any
 *     saved link when the config has no peers (or no key) any more: such a daemon makes no links;
 *   - a saved deletion of a config link whose peer the config no longer has, or now has with another key;
 *   - a saved run-time port whose name the config now uses (a port or a peer), or whose interface a config port now
 *     captures; a saved deletion of a config port the config no longer has, or has as another device now (another
 *     type, another interface);
 *   - a saved rule with the same match and priority as a rule the config makes (the star's default rule).
 * A saved rule whose target no longer exists is restored as it was (rules name their target; one toward nowhere
 * is skipped at forwarding time, as before the restart).
 *
 * A saved port whose device does not open at start (a TAP name something else took meanwhile) is skipped the same
 * way, with the device's error: the daemon starts without it (a capture port whose interface is only missing opens
 * down and comes up with it: that is not a failure).
 *
 * The plan is pure (planPrimitiveRestore); the daemon applies it while it starts: ports, then links before they
 * start, then rules (a rule may leave by a run-time port).
 */
import { encodeKeyBase64 } from '../link/noise/crypto.js';
import type { LinkPeerConfig } from '../link/link-manager.js';
import type { PortConfig } from '../config/config.js';
import type { Rule } from '../rules/rule.js';
import type { LocalPrimitives } from '../overlay/local-primitives.js';
import {
  CONFIG_LINK_DELETED_KIND,
  CONFIG_PORT_DELETED_KIND,
  CONFIG_TIME_KEY,
  CONFIG_TIME_KIND,
  decodeConfigLinkDeleted,
  decodeConfigPortDeleted,
  decodeConfigTime,
  decodeLink,
  decodeNextRuleId,
  decodePort,
  decodeRule,
  LINK_KIND,
  PORT_KIND,
  RULE_IDS_KEY,
  RULE_IDS_KIND,
  RULE_KIND,
} from './primitive-records.js';
import type { RecordProblem } from './record-reader.js';
import type { RestoreReport } from './restore-report.js';
import type { StateChange } from './state-record.js';
import type { SavedState } from './state-table.js';

/** What the config makes, which saved changes must not contradict. */
export interface ConfigFacts {
  /** The daemon makes links (the config has peers and a private key): without, saved links cannot come back. */
  readonly makesLinks: boolean;
  /** The config's peers: name → base64 public key. */
  readonly peers: ReadonlyMap<string, string>;
  /** The config's ports. */
  readonly ports: readonly PortConfig[];
  /** The rules the config makes (on a host with a Proxy: the star's default rule, any → none). */
  readonly rules: readonly Pick<Rule, 'src' | 'dst' | 'priority'>[];
}

export interface PrimitiveRestorePlan {
  /** Config peers deleted at run time: not started. */
  readonly deletedConfigLinks: ReadonlySet<string>;
  /** Config ports deleted at run time: not opened. */
  readonly deletedConfigPorts: ReadonlySet<string>;
  /** Run-time ports, opened after the config's (restorePorts). */
  readonly ports: readonly { readonly config: PortConfig; readonly owner: string }[];
  readonly links: readonly { readonly config: LinkPeerConfig; readonly owner: string }[];
  /** By id, ascending. */
  readonly rules: readonly Rule[];
  readonly nextRuleId: number | undefined;
  readonly configTimeBoundMs: number | undefined;
  /** Deletions of what was skipped. */
  readonly cleanup: readonly StateChange[];
}

export function planPrimitiveRestore(saved: SavedState, config: ConfigFacts, report: RestoreReport, problem: RecordProblem): PrimitiveRestorePlan {
  report.read(CONFIG_LINK_DELETED_KIND, LINK_KIND, CONFIG_PORT_DELETED_KIND, PORT_KIND, RULE_KIND, RULE_IDS_KIND, CONFIG_TIME_KIND);
  const cleanup: StateChange[] = [];
  const skip = (kind: string, key: string, reason: string): void => {
    report.skipped(kind, key, reason);
    cleanup.push({ kind, key, value: null });
  };

  const deletedConfigLinks = new Set<string>();
  for (const [name, value] of saved.kind(CONFIG_LINK_DELETED_KIND)) {
    const { publicKey } = decodeConfigLinkDeleted(name, value, problem);
    const now = config.peers.get(name);
    if (now === undefined) skip(CONFIG_LINK_DELETED_KIND, name, `the config no longer has a peer "${name}": nothing to keep deleted`);
    else if (now !== publicKey) skip(CONFIG_LINK_DELETED_KIND, name, `the config's peer "${name}" has another key now: the config wins, the link is back`);
    else {
      deletedConfigLinks.add(name);
      report.restored(CONFIG_LINK_DELETED_KIND, name, 'the config link stays deleted');
    }
  }

  const { deletedConfigPorts, ports } = planPorts(saved, config, deletedConfigLinks, skip, report, problem);

  const keysInUse = new Map<string, string>();
  for (const [name, key] of config.peers) if (!deletedConfigLinks.has(name)) keysInUse.set(key, name);
  const links: { config: LinkPeerConfig; owner: string }[] = [];
  for (const [name, value] of saved.kind(LINK_KIND)) {
    const link = decodeLink(name, value, problem);
    const key = encodeKeyBase64(link.config.publicKey);
    const holder = keysInUse.get(key);
    if (!config.makesLinks) skip(LINK_KIND, name, 'the config now has no peers (or no private key), so this daemon makes no links');
    else if (config.peers.has(name) && !deletedConfigLinks.has(name)) skip(LINK_KIND, name, `the config now has a peer named "${name}": the config wins`);
    else if (config.ports.some((p) => p.name === name) && !deletedConfigPorts.has(name)) skip(LINK_KIND, name, `the config now has a port named "${name}": the config wins`);
    else if (ports.some((p) => p.config.name === name)) skip(LINK_KIND, name, `a saved run-time port is named "${name}" too: the port is kept`);
    else if (holder !== undefined) skip(LINK_KIND, name, `the config's peer "${holder}" now has this link's key: the config wins`);
    else {
      keysInUse.set(key, name);
      links.push(link);
      report.restored(LINK_KIND, name, `owner ${link.owner}`);
    }
  }

  const rules: Rule[] = [];
  for (const [id, value] of saved.kind(RULE_KIND)) {
    const rule = decodeRule(id, value, problem);
    const clash = config.rules.find((r) => r.src === rule.src && r.dst === rule.dst && (r.priority ?? 0) === (rule.priority ?? 0));
    if (clash) skip(RULE_KIND, id, 'the config now makes a rule with the same match and priority (the star\'s default rule): the config wins');
    else rules.push(rule);
  }
  rules.sort((a, b) => a.id - b.id);

  const nextValue = saved.get(RULE_IDS_KIND, RULE_IDS_KEY);
  const configTime = saved.get(CONFIG_TIME_KIND, CONFIG_TIME_KEY);
  const configTimeBoundMs = configTime === undefined ? undefined : decodeConfigTime(configTime, problem);
  if (configTimeBoundMs !== undefined) report.restored(CONFIG_TIME_KIND, CONFIG_TIME_KEY, `${configTimeBoundMs} ms`);
  const highest = rules.reduce((max, r) => Math.max(max, r.id + 1), 1);
  return {
    deletedConfigLinks,
    deletedConfigPorts,
    ports,
    links,
    rules,
    nextRuleId: nextValue === undefined ? (rules.length > 0 ? highest : undefined) : Math.max(decodeNextRuleId(nextValue, problem), highest),
    configTimeBoundMs,
    cleanup,
  };
}

/** The config ports deleted at run time that stay deleted, and the run-time ports that come back. */
function planPorts(
  saved: SavedState,
  config: ConfigFacts,
  deletedConfigLinks: ReadonlySet<string>,
  skip: (kind: string, key: string, reason: string) => void,
  report: RestoreReport,
  problem: RecordProblem,
): { deletedConfigPorts: Set<string>; ports: { config: PortConfig; owner: string }[] } {
  const deletedConfigPorts = new Set<string>();
  for (const [name, value] of saved.kind(CONFIG_PORT_DELETED_KIND)) {
    const device = decodeConfigPortDeleted(name, value, problem);
    const now = config.ports.find((p) => p.name === name);
    if (now === undefined) skip(CONFIG_PORT_DELETED_KIND, name, `the config no longer has a port "${name}": nothing to keep deleted`);
    else if (now.type !== device.type || (now.type === 'capture' && device.type === 'capture' && now.interface !== device.interface)) {
      skip(CONFIG_PORT_DELETED_KIND, name, `the config's port "${name}" is another device now (${deviceText(now)}, was ${deviceText(device)}): the config wins, the port is back`);
    } else {
      deletedConfigPorts.add(name);
      report.restored(CONFIG_PORT_DELETED_KIND, name, 'the config port stays deleted');
    }
  }

  const captured = new Map<string, string>();
  for (const p of config.ports) if (p.type === 'capture' && !deletedConfigPorts.has(p.name)) captured.set(p.interface, p.name);
  const ports: { config: PortConfig; owner: string }[] = [];
  for (const [name, value] of saved.kind(PORT_KIND)) {
    const port = decodePort(name, value, problem);
    const holder = port.config.type === 'capture' ? captured.get(port.config.interface) : undefined;
    if (config.ports.some((p) => p.name === name) && !deletedConfigPorts.has(name)) skip(PORT_KIND, name, `the config now has a port named "${name}": the config wins`);
    else if (config.peers.has(name) && !deletedConfigLinks.has(name)) skip(PORT_KIND, name, `the config now has a peer named "${name}": the config wins`);
    else if (holder !== undefined) skip(PORT_KIND, name, `the config's port "${holder}" now captures interface "${(port.config as { interface: string }).interface}": the config wins`);
    else {
      if (port.config.type === 'capture') captured.set(port.config.interface, name);
      ports.push(port);
    }
  }
  return { deletedConfigPorts, ports };
}

function deviceText(device: { type: 'tap' } | { type: 'capture'; interface: string }): string {
  return device.type === 'tap' ? 'a tap' : `a capture of ${device.interface}`;
}

/**
 * The plan's run-time ports, onto the datapath (after the config's, before links and rules). One whose device does
 * not open is skipped with the device's error (see above). Returns the deletions of what was skipped.
 */
export function restorePorts(plan: PrimitiveRestorePlan, primitives: LocalPrimitives, report: RestoreReport): StateChange[] {
  const cleanup: StateChange[] = [];
  for (const { config, owner } of plan.ports) {
    try {
      const port = primitives.restorePort(config, owner);
      const down = port.pendingError ? `; down until it opens: ${port.pendingError.message}` : '';
      report.restored(PORT_KIND, config.name, `owner ${owner}${down}`);
    } catch (err) {
      report.skipped(PORT_KIND, config.name, `its device did not open: ${(err as Error).message}`);
      cleanup.push({ kind: PORT_KIND, key: config.name, value: null });
    }
  }
  return cleanup;
}

/**
 * The plan's rules, into the table under their own ids (after the config's rules: a clash the plan could not see
 * — none is expected — is skipped like the others). Returns the deletions of what was skipped.
 */
export function restoreRules(plan: PrimitiveRestorePlan, primitives: LocalPrimitives, report: RestoreReport): StateChange[] {
  const cleanup: StateChange[] = [];
  for (const rule of plan.rules) {
    try {
      primitives.restoreRule(rule);
      report.restored(RULE_KIND, String(rule.id), `owner ${rule.owner ?? 'config'}`);
    } catch (err) {
      report.skipped(RULE_KIND, String(rule.id), `the rule table refused it: ${(err as Error).message}`);
      cleanup.push({ kind: RULE_KIND, key: String(rule.id), value: null });
    }
  }
  return cleanup;
}

/** The plan's links, onto the link manager and the datapath (before the links start, so they handshake with the rest). */
export function restoreLinks(plan: PrimitiveRestorePlan, primitives: LocalPrimitives): void {
  for (const { config, owner } of plan.links) primitives.restoreLink(config, owner);
}

/**
 * The VNET primitives acting on this daemon: rules go into the switch core's
 * rule table, links into the LinkManager and the datapath. Inputs are checked
 * whole before anything changes, so a bad request never half-applies.
 *
 * Ownership. Every rule carries the actor that added it (`owner`), and so does
 * every link added through the primitives (links from the config: "config").
 * Policies — the plugins that change the overlay on their own: the built-in
 * POLICY_ACTORS and every module or HTTP policy, whose actor is "policy:<name>"
 * (plugins/host/plugin.ts), also when the Proxy relays them as
 * "proxy:<actor>" — may delete only what
 * they own: deleting another's link or rule is a ConflictError naming the
 * owner (HTTP 409). Everyone else is an operator ("local", a token's name,
 * "cli", the topology tool applying an operator's description) and may delete
 * anything: the operator is the last word, a policy adapts around it.
 *
 * The star. A host's link to its Proxy (and the Proxy's end of it) and the
 * host's default rule (owner "star") are the control path: no actor may
 * delete them through the primitives (StarProtectedError, HTTP 409); they
 * come from the daemons' configs and go only with a config change. A rule
 * must leave by a port or link that exists when it is added (else 400 naming
 * `target`): a rule toward nowhere would be kept and silently skipped.
 *
 * What a policy may add (PolicyLimitError, HTTP 403 `policy-forbidden`
 * naming the field): a rule's priority (absent = 0) must lie in
 * POLICY_PRIORITY_BAND, below what an operator may give, and the rule must
 * rank below every operator rule of the same (src, dst) match — the star's
 * default rule included; a link must lead to a peer of the overlay (a host the
 * Proxy knows, or the Proxy: overlayKeys). A host cannot tell the overlay's
 * keys, so for a policy relayed by the Proxy ("proxy:…") the Proxy checks the
 * key before relaying (relayed-primitives.ts); the rule limits are checked
 * here, where the rule table is.
 *
 * Durability. With a `durable` hook (the daemon's state store), a change is
 * answered only once the hook has made it durable: a delete or a set is
 * written first and then made (it cannot fail once checked); an add is made,
 * written, and undone if the write fails — either way a change that could not
 * be saved is not made, and the caller gets the store's error (HTTP 503).
 * Changes run one at a time, so the saved order is the order they were made.
 */
import type { Datapath } from '../datapath.js';
import { NO_EVENTS, type EventSink, type SwitchEvent } from '../events.js';
import { formatMac, parseMac, type Mac } from '../frame/mac.js';
import type { LinkManager, LinkPeerConfig, LinkStatus } from '../link/link-manager.js';
import { decodeKeyBase64, encodeKeyBase64 } from '../link/noise/crypto.js';
import { parseEndpoint, type Endpoint } from '../link/transport/endpoint.js';
import type { Logger } from '../log.js';
import type { PortConfig } from '../config/config.js';
import type { Port } from '../port/port.js';
import type { Rule } from '../rules/rule.js';
import type { DurableChange, PrimitiveChange } from './primitive-change.js';
import { ChangeQueue } from '../state/change-queue.js';
import {
  ConflictError,
  InvalidInputError,
  NotFoundError,
  PolicyLimitError,
  StarProtectedError,
  type Actor,
  type InterfaceView,
  type LinkInput,
  type MacView,
  type PortInput,
  type PortView,
  type Primitives,
  type RuleInput,
  type RuleView,
} from './primitives.js';
import { isPolicyActor, POLICY_PRIORITY_BAND, STAR_OWNER } from './policy-actors.js';
import { LocalPorts } from './local-ports.js';
import { interfaceViews } from './interface-views.js';

export { isBuiltinPolicyActor, isPolicyActor, POLICY_ACTOR_PREFIX, POLICY_ACTORS, POLICY_PRIORITY_BAND, STAR_OWNER } from './policy-actors.js';
export { interfaceViews } from './interface-views.js';

export interface LocalPrimitivesOptions {
  datapath: Datapath;
  links: () => LinkManager | undefined;
  log: Logger;
  /** Starting value of the configuration-time bound (ms), fed to VTTIF's smoothing interval. */
  configTimeBoundMs?: number;
  /** Whether a link added at run time floods (only the star's does on a host with a Proxy). Default: yes. */
  linkFloods?: (name: string) => boolean;
  /** Called with each change so the daemon can report it (control channel, events). */
  onChange?: (what: 'link' | 'rule' | 'config-time' | 'port', actor: Actor) => void;
  /** Opens a run-time port's device (DaemonDeps.openPort); absent: addPort refuses (409). */
  openPort?: (config: PortConfig) => Port;
  /** Whether the host has an interface of this name (checked before a capture port opens); absent: the open decides. */
  interfaceExists?: (name: string) => boolean;
  /** Device ports at most (default MAX_PORTS, local-ports.ts). */
  maxPorts?: number;
  /** The MAC learning table with ages (the daemon reads its clock); absent = empty. */
  macs?: () => MacView[];
  /** Where link-added, link-deleted, rule-added, rule-deleted, port-added and port-deleted are raised (switch/events.ts); absent: nowhere. */
  events?: EventSink;
  /**
   * Whether link `name` is of the star (a host's link to its Proxy; on the Proxy, its link to a host), which the
   * primitives never delete. Absent: the link the default rule (owner "star") leaves by.
   */
  isStarLink?: (name: string) => boolean;
  /** Makes each change durable before it is answered (daemon/: the state store); absent: changes live in memory only. */
  durable?: DurableChange;
}

/** How many deleted links a daemon remembers for `restore` (LinkInput.restore): the newest, one per name. */
export const MAX_DELETED_LINKS = 64;

/** A link with who added it ("config" for the config's peers). */
export type OwnedLinkStatus = LinkStatus & { owner: string };

export class LocalPrimitives implements Primitives {
  private configTimeBoundMs: number;
  /** Links added through addLink, by name → the actor that added them. */
  private readonly linkOwners = new Map<string, string>();
  /** The last links deleted, by name (at most MAX_DELETED_LINKS, oldest dropped first): what `restore` re-creates. */
  private readonly deletedLinks = new Map<string, { config: Readonly<LinkPeerConfig>; owner: string }>();

  private readonly events: EventSink;
  /** The TAP and capture ports (local-ports.ts). */
  readonly portTable: LocalPorts;
  /** Changes run one at a time (see Durability). */
  private readonly changes = new ChangeQueue();

  constructor(private readonly options: LocalPrimitivesOptions) {
    this.configTimeBoundMs = options.configTimeBoundMs ?? 2000;
    this.events = options.events ?? NO_EVENTS;
    this.portTable = new LocalPorts({
      datapath: options.datapath,
      log: options.log,
      ...(options.openPort ? { openPort: options.openPort } : {}),
      ...(options.interfaceExists ? { interfaceExists: options.interfaceExists } : {}),
      ...(options.maxPorts === undefined ? {} : { maxPorts: options.maxPorts }),
      linkOwner: (name) => this.linkOwners.get(name) ?? 'config',
      isLink: (name) => this.options.links()?.status().some((l) => l.name === name) ?? false,
      events: this.events,
      onChange: (actor) => this.options.onChange?.('port', actor),
      persist: (change) => this.persist(change),
    });
  }

  async interfaces(): Promise<InterfaceView[]> {
    return interfaceViews(this.options.datapath);
  }

  async ports(): Promise<PortView[]> {
    return this.portTable.list();
  }

  /** The ports with owners, synchronously (the daemon's status). */
  portsNow(): PortView[] {
    return this.portTable.list();
  }

  addPort(input: PortInput, actor: Actor): Promise<PortView> {
    return this.oneAtATime(() => this.portTable.add(input, actor));
  }

  deletePort(name: string, actor: Actor): Promise<void> {
    return this.oneAtATime(() => this.portTable.delete(name, actor));
  }

  /** A saved run-time port, back as it was (daemon start, before links and rules; no event, nothing written). */
  restorePort(config: PortConfig, owner: string): Port {
    return this.portTable.restore(config, owner);
  }

  async links(): Promise<OwnedLinkStatus[]> {
    return this.linksNow();
  }

  /** The links with their owners, synchronously (the Proxy's plugin host reads them every second). */
  linksNow(): OwnedLinkStatus[] {
    return (this.options.links()?.status() ?? []).map((l) => ({ ...l, owner: this.linkOwners.get(l.name) ?? 'config' }));
  }

  addLink(input: LinkInput, actor: Actor): Promise<LinkStatus> {
    return this.oneAtATime(() => this.addLinkNow(input, actor));
  }

  private async addLinkNow(input: LinkInput, actor: Actor): Promise<LinkStatus> {
    const links = this.options.links();
    if (!links) throw new ConflictError('this daemon has no private key, so it cannot make links (set privateKey in its config)');
    const publicKey = decodeField('publicKey', () => decodeKeyBase64(input.publicKey));
    const udpEndpoint = input.endpoint === undefined ? undefined : endpointField('endpoint', input.endpoint, 'udp');
    const tcpText = input.tcpEndpoint ?? input.endpoint;
    const tcpEndpoint = tcpText === undefined ? undefined : endpointField(input.tcpEndpoint ? 'tcpEndpoint' : 'endpoint', tcpText, 'tcp');
    if (isPolicyActor(actor.name) && !isRelayedActor(actor.name)) checkPolicyLink(encodeKeyBase64(publicKey), this.overlayKeys());
    if (this.options.datapath.get(input.name)) throw new ConflictError(`a port or link named "${input.name}" exists`);
    if (links.status().some((l) => l.publicKey === input.publicKey.trim())) {
      throw new ConflictError(`a link to the peer with public key ${input.publicKey.trim()} exists`);
    }
    const restored = input.restore ? this.restorable(input.name, encodeKeyBase64(publicKey), actor) : undefined;
    const config: LinkPeerConfig = restored?.config ?? {
      name: input.name,
      publicKey,
      transport: input.transport ?? 'auto',
      ...(udpEndpoint ? { udpEndpoint } : {}),
      ...(tcpEndpoint ? { tcpEndpoint } : {}),
      ...(input.persistentKeepaliveS ? { persistentKeepaliveS: input.persistentKeepaliveS } : {}),
    };
    const owner = restored?.owner ?? actor.name;
    this.attachLink(links, config, owner);
    try {
      await this.persist({ type: 'link-added', name: input.name, config, owner });
    } catch (err) {
      this.detachLink(links, input.name);
      throw err;
    }
    if (restored) this.deletedLinks.delete(input.name);
    links.connectPeer(input.name);
    this.changed('link', actor, 'link added', { link: input.name, endpoint: input.endpoint }, {
      type: 'link-added',
      link: input.name,
      ...(input.endpoint === undefined ? {} : { endpoint: input.endpoint }),
      by: actor.name,
    });
    return links.status().find((l) => l.name === input.name)!;
  }

  deleteLink(name: string, actor: Actor): Promise<void> {
    return this.oneAtATime(() => this.deleteLinkNow(name, actor));
  }

  private async deleteLinkNow(name: string, actor: Actor): Promise<void> {
    const links = this.options.links();
    if (!links || !links.status().some((l) => l.name === name)) throw new NotFoundError('link', name);
    const owner = this.linkOwners.get(name) ?? 'config';
    checkOwner(actor, 'link', name, owner);
    if (this.isStarLink(name)) {
      throw new StarProtectedError(`link "${name}" is the star, this daemon's control path to the overlay: it comes from the daemons' configs and only a config change removes it`);
    }
    const config = links.peerConfig(name);
    if (config) await this.persist({ type: 'link-deleted', name, config, owner });
    if (config) this.rememberDeleted(name, config, owner);
    this.detachLink(links, name);
    this.changed('link', actor, 'link deleted', { link: name }, { type: 'link-deleted', link: name, by: actor.name });
  }

  /**
   * A saved link, back as it was (daemon start, before the links start; no event, nothing written): its peer,
   * its port on the datapath, its owner.
   */
  restoreLink(config: Readonly<LinkPeerConfig>, owner: string): void {
    const links = this.options.links();
    if (!links) throw new ConflictError('this daemon has no private key, so it cannot make links (set privateKey in its config)');
    if (this.options.datapath.get(config.name)) throw new ConflictError(`a port or link named "${config.name}" exists`);
    this.attachLink(links, config, owner);
  }

  private attachLink(links: LinkManager, config: Readonly<LinkPeerConfig>, owner: string): void {
    const port = links.addPeer(config);
    this.options.datapath.attach(port, { floods: this.options.linkFloods?.(config.name) ?? true });
    this.linkOwners.set(config.name, owner);
  }

  private detachLink(links: LinkManager, name: string): void {
    this.linkOwners.delete(name);
    this.options.datapath.detach(name);
    links.removePeer(name);
  }

  async rules(): Promise<RuleView[]> {
    const table = this.options.datapath.core.rules;
    return table.list().map((rule) => ruleView(rule, table.entry(rule.id)));
  }

  addRule(input: RuleInput, actor: Actor): Promise<RuleView> {
    return this.oneAtATime(() => this.addRuleNow(input, actor));
  }

  private async addRuleNow(input: RuleInput, actor: Actor): Promise<RuleView> {
    const src = macField('src', input.src, ['any']);
    const dst = macField('dst', input.dst, ['any', 'none']);
    if (input.target.trim() === '') throw new InvalidInputError('target', 'must name a port or link');
    if (!this.options.datapath.get(input.target)) throw new InvalidInputError('target', `names no port or link of this daemon ("${input.target}"): add the link first`);
    const table = this.options.datapath.core.rules;
    if (isPolicyActor(actor.name)) checkPolicyRule(table.list(), src as Mac | 'any', dst as Mac | 'any' | 'none', input.priority ?? 0);
    let rule: Rule;
    try {
      rule = table.insert({
        src: src as Mac | 'any',
        dst: dst as Mac | 'any' | 'none',
        target: input.target,
        ...(input.priority === undefined ? {} : { priority: input.priority }),
        owner: actor.name,
      });
    } catch (err) {
      if ((err as { code?: string }).code === 'rule-conflict') throw new ConflictError((err as Error).message, { cause: err });
      if ((err as { code?: string }).code === 'rule-invalid') throw new InvalidInputError((err as { field?: string }).field ?? 'rule', (err as Error).message);
      throw err;
    }
    try {
      await this.persist({ type: 'rule-added', rule, nextRuleId: table.nextRuleId });
    } catch (err) {
      table.remove(rule.id);
      throw err;
    }
    const fields = { rule: rule.id, src: input.src, dst: input.dst, target: input.target };
    this.changed('rule', actor, 'rule added', fields, { type: 'rule-added', ...fields, by: actor.name });
    return ruleView(rule, table.entry(rule.id));
  }

  deleteRule(id: number, actor: Actor): Promise<void> {
    return this.oneAtATime(() => this.deleteRuleNow(id, actor));
  }

  private async deleteRuleNow(id: number, actor: Actor): Promise<void> {
    const rule = this.options.datapath.core.rules.get(id);
    if (rule === undefined) throw new NotFoundError('rule', id);
    checkOwner(actor, 'rule', id, rule.owner ?? 'config');
    if (rule.owner === STAR_OWNER) {
      throw new StarProtectedError(`rule ${id} is the star's default rule (owner "${STAR_OWNER}"), the way to the Proxy: it comes from the daemon's config and only a config change removes it`);
    }
    await this.persist({ type: 'rule-deleted', rule });
    if (!this.options.datapath.core.rules.remove(id)) throw new NotFoundError('rule', id);
    this.changed('rule', actor, 'rule deleted', { rule: id }, { type: 'rule-deleted', rule: id, by: actor.name });
  }

  /** A saved rule, back under its own id (daemon start; no event, nothing written). Throws the rule table's errors. */
  restoreRule(rule: Rule): void {
    this.options.datapath.core.rules.restore(rule);
  }

  async macs(): Promise<MacView[]> {
    return this.options.macs?.() ?? [];
  }

  async configTimeBound(): Promise<{ upperBoundMs: number }> {
    return { upperBoundMs: this.configTimeBoundMs };
  }

  setConfigTimeBound(upperBoundMs: number, actor: Actor): Promise<{ upperBoundMs: number }> {
    return this.oneAtATime(async () => {
      if (!Number.isInteger(upperBoundMs) || upperBoundMs < 1 || upperBoundMs > 3_600_000) {
        throw new InvalidInputError('upperBoundMs', 'must be an integer between 1 and 3600000');
      }
      await this.persist({ type: 'config-time', upperBoundMs });
      this.configTimeBoundMs = upperBoundMs;
      this.changed('config-time', actor, 'configuration time bound set', { upperBoundMs });
      return { upperBoundMs };
    });
  }

  /** The saved bound, back (daemon start, before the plugins read it; nothing written). */
  restoreConfigTimeBound(upperBoundMs: number): void {
    this.configTimeBoundMs = upperBoundMs;
  }

  /**
   * The public keys a policy may link to from this daemon: its own and those of the links no policy made — on the
   * Proxy, every host it knows (its star links and the links operators added).
   */
  overlayKeys(): Set<string> {
    const links = this.options.links();
    if (!links) return new Set();
    const keys = new Set([encodeKeyBase64(links.device.publicKey)]);
    for (const l of this.linksNow()) if (!isPolicyActor(l.owner)) keys.add(l.publicKey);
    return keys;
  }

  /** The deleted link `restore` re-creates: the last one deleted under `name`, to the same key (else none). */
  private restorable(name: string, publicKey: string, actor: Actor): { config: Readonly<LinkPeerConfig>; owner: string } | undefined {
    const deleted = this.deletedLinks.get(name);
    if (!deleted || encodeKeyBase64(deleted.config.publicKey) !== publicKey) return undefined;
    if (isPolicyActor(actor.name) && deleted.owner !== actor.name) {
      throw new PolicyLimitError('restore', `link "${name}" was owned by "${deleted.owner}": a policy may restore only a link it owned`);
    }
    return deleted;
  }

  private rememberDeleted(name: string, config: Readonly<LinkPeerConfig>, owner: string): void {
    this.deletedLinks.delete(name);
    this.deletedLinks.set(name, { config, owner });
    if (this.deletedLinks.size > MAX_DELETED_LINKS) this.deletedLinks.delete(this.deletedLinks.keys().next().value!);
  }

  private isStarLink(name: string): boolean {
    if (this.options.isStarLink) return this.options.isStarLink(name);
    return this.options.datapath.core.rules.list().some((r) => r.owner === STAR_OWNER && r.target === name);
  }

  /** Runs one change after the one under way (see Durability): the saved order is the order they were made. */
  private oneAtATime<T>(change: () => Promise<T>): Promise<T> {
    return this.changes.run(change);
  }

  private async persist(change: PrimitiveChange): Promise<void> {
    await this.options.durable?.(change);
  }

  /** Logs a change (for people), raises its event (if it is one) and tells the daemon. */
  private changed(what: 'link' | 'rule' | 'config-time', actor: Actor, msg: string, fields: Record<string, unknown>, event?: SwitchEvent): void {
    this.options.log.info(msg, { ...fields, actor: actor.name });
    if (event) this.events.emit(event);
    this.options.onChange?.(what, actor);
  }
}

/** A policy may delete only what it owns; operators may delete anything. */
function checkOwner(actor: Actor, what: 'link' | 'rule', name: string | number, owner: string): void {
  if (owner === actor.name || !isPolicyActor(actor.name)) return;
  throw new ConflictError(`${what} ${JSON.stringify(name)} is owned by "${owner}": ${actor.name} may delete only its own`);
}

/** An actor the Proxy relayed ("proxy:" + its actor on the Proxy). */
function isRelayedActor(name: string): boolean {
  return name.startsWith('proxy:');
}

/** A policy links only to a peer of the overlay (`overlay`: overlayKeys of the daemon that knows them). */
export function checkPolicyLink(publicKey: string, overlay: ReadonlySet<string>): void {
  if (overlay.has(publicKey)) return;
  throw new PolicyLimitError('publicKey', `a policy may link only to peers of the overlay (a host the Proxy knows, or the Proxy), and ${publicKey} is none`);
}

/** A policy's rule: priority in the band, and below every operator rule of the same match. */
function checkPolicyRule(rules: readonly Rule[], src: Mac | 'any', dst: Mac | 'any' | 'none', priority: number): void {
  const { min, max } = POLICY_PRIORITY_BAND;
  if (priority < min || priority > max) {
    throw new PolicyLimitError('priority', `a policy's rule priority must be between ${min} and ${max} (found ${priority}): higher ones are for operators`);
  }
  for (const r of rules) {
    const owner = r.owner ?? 'config';
    if (r.src !== src || r.dst !== dst || isPolicyActor(owner) || (r.priority ?? 0) >= priority) continue;
    throw new PolicyLimitError('priority', `priority ${priority} would outrank rule ${r.id} of "${owner}" (same match, priority ${r.priority ?? 0}): a policy's rule must rank below an operator's`);
  }
}

function ruleView(rule: Rule, entry: { hitFrames: number; hitBytes: number } | undefined): RuleView {
  return {
    id: rule.id,
    src: rule.src === 'any' ? 'any' : formatMac(rule.src),
    dst: rule.dst === 'any' || rule.dst === 'none' ? rule.dst : formatMac(rule.dst),
    target: rule.target,
    priority: rule.priority ?? 0,
    owner: rule.owner ?? 'config',
    hitFrames: entry?.hitFrames ?? 0,
    hitBytes: entry?.hitBytes ?? 0,
  };
}

function macField(field: string, text: string, words: readonly string[]): Mac | string {
  const lower = text.trim().toLowerCase();
  if (words.includes(lower)) return lower;
  const mac = parseMac(lower);
  if (mac === undefined) throw new InvalidInputError(field, `must be a MAC address or ${words.join(' or ')} (found "${text}")`);
  return mac;
}

function endpointField(field: string, text: string, transport: 'udp' | 'tcp'): Endpoint {
  return decodeField(field, () => parseEndpoint(text.replace(/^(udp|tcp):/, ''), transport));
}

function decodeField<T>(field: string, decode: () => T): T {
  try {
    return decode();
  } catch (err) {
    throw new InvalidInputError(field, (err as Error).message);
  }
}

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
 */
import type { Datapath } from '../datapath.js';
import { NO_EVENTS, type EventSink, type SwitchEvent } from '../events.js';
import { formatMac, parseMac, type Mac } from '../frame/mac.js';
import type { LinkManager, LinkPeerConfig, LinkStatus } from '../link/link-manager.js';
import { decodeKeyBase64, encodeKeyBase64 } from '../link/noise/crypto.js';
import { parseEndpoint, type Endpoint } from '../link/transport/endpoint.js';
import type { Logger } from '../log.js';
import type { Rule } from '../rules/rule.js';
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
  type Primitives,
  type RuleInput,
  type RuleView,
} from './primitives.js';

export interface LocalPrimitivesOptions {
  datapath: Datapath;
  links: () => LinkManager | undefined;
  log: Logger;
  /** Starting value of the configuration-time bound (ms), fed to VTTIF's smoothing interval. */
  configTimeBoundMs?: number;
  /** Whether a link added at run time floods (only the star's does on a host with a Proxy). Default: yes. */
  linkFloods?: (name: string) => boolean;
  /** Called with each change so the daemon can report it (control channel, events). */
  onChange?: (what: 'link' | 'rule' | 'config-time', actor: Actor) => void;
  /** The MAC learning table with ages (the daemon reads its clock); absent = empty. */
  macs?: () => MacView[];
  /** Where link-added, link-deleted, rule-added and rule-deleted are raised (switch/events.ts); absent: nowhere. */
  events?: EventSink;
  /**
   * Whether link `name` is of the star (a host's link to its Proxy; on the Proxy, its link to a host), which the
   * primitives never delete. Absent: the link the default rule (owner "star") leaves by.
   */
  isStarLink?: (name: string) => boolean;
}

/** Actors that are policies: they may delete only their own links and rules. */
export const POLICY_ACTORS: ReadonlySet<string> = new Set(['fastpath']);

/** Module and HTTP policies act as "policy:<name>"; API token names cannot contain ":", so no operator can. */
export const POLICY_ACTOR_PREFIX = 'policy:';

/**
 * The priorities a policy's rule may have (absent = 0). Operators (tokens, "local", the CLI, the config, the star,
 * an operator's topology apply) may give any priority the API takes (±1 000 000); policies stay below 10 000 and
 * under every operator rule of the same match.
 */
export const POLICY_PRIORITY_BAND = { min: 0, max: 9999 } as const;

/** "fastpath" and "proxy:fastpath" are the same policy; so are "policy:x" and "proxy:policy:x". */
export function isPolicyActor(name: string): boolean {
  const bare = name.startsWith('proxy:') ? name.slice('proxy:'.length) : name;
  return POLICY_ACTORS.has(bare) || bare.startsWith(POLICY_ACTOR_PREFIX);
}

/** How many deleted links a daemon remembers for `restore` (LinkInput.restore): the newest, one per name. */
export const MAX_DELETED_LINKS = 64;

/** The owner of a host's default rule toward its Proxy (daemon/daemon.ts installs it from the config). */
export const STAR_OWNER = 'star';

/** A link with who added it ("config" for the config's peers). */
export type OwnedLinkStatus = LinkStatus & { owner: string };

export class LocalPrimitives implements Primitives {
  private configTimeBoundMs: number;
  /** Links added through addLink, by name → the actor that added them. */
  private readonly linkOwners = new Map<string, string>();
  /** The last links deleted, by name (at most MAX_DELETED_LINKS, oldest dropped first): what `restore` re-creates. */
  private readonly deletedLinks = new Map<string, { config: Readonly<LinkPeerConfig>; owner: string }>();

  private readonly events: EventSink;

  constructor(private readonly options: LocalPrimitivesOptions) {
    this.configTimeBoundMs = options.configTimeBoundMs ?? 2000;
    this.events = options.events ?? NO_EVENTS;
  }

  async interfaces(): Promise<InterfaceView[]> {
    return interfaceViews(this.options.datapath);
  }

  async links(): Promise<OwnedLinkStatus[]> {
    return this.linksNow();
  }

  /** The links with their owners, synchronously (the Proxy's plugin host reads them every second). */
  linksNow(): OwnedLinkStatus[] {
    return (this.options.links()?.status() ?? []).map((l) => ({ ...l, owner: this.linkOwners.get(l.name) ?? 'config' }));
  }

  async addLink(input: LinkInput, actor: Actor): Promise<LinkStatus> {
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
    const port = links.addPeer(
      restored?.config ?? {
        name: input.name,
        publicKey,
        transport: input.transport ?? 'auto',
        ...(udpEndpoint ? { udpEndpoint } : {}),
        ...(tcpEndpoint ? { tcpEndpoint } : {}),
        ...(input.persistentKeepaliveS ? { persistentKeepaliveS: input.persistentKeepaliveS } : {}),
      },
    );
    if (restored) this.deletedLinks.delete(input.name);
    this.options.datapath.attach(port, { floods: this.options.linkFloods?.(input.name) ?? true });
    links.connectPeer(input.name);
    this.linkOwners.set(input.name, restored?.owner ?? actor.name);
    this.changed('link', actor, 'link added', { link: input.name, endpoint: input.endpoint }, {
      type: 'link-added',
      link: input.name,
      ...(input.endpoint === undefined ? {} : { endpoint: input.endpoint }),
      by: actor.name,
    });
    return links.status().find((l) => l.name === input.name)!;
  }

  async deleteLink(name: string, actor: Actor): Promise<void> {
    const links = this.options.links();
    if (!links || !links.status().some((l) => l.name === name)) throw new NotFoundError('link', name);
    checkOwner(actor, 'link', name, this.linkOwners.get(name) ?? 'config');
    if (this.isStarLink(name)) {
      throw new StarProtectedError(`link "${name}" is the star, this daemon's control path to the overlay: it comes from the daemons' configs and only a config change removes it`);
    }
    const config = links.peerConfig(name);
    if (config) this.rememberDeleted(name, config, this.linkOwners.get(name) ?? 'config');
    this.linkOwners.delete(name);
    this.options.datapath.detach(name);
    links.removePeer(name);
    this.changed('link', actor, 'link deleted', { link: name }, { type: 'link-deleted', link: name, by: actor.name });
  }

  async rules(): Promise<RuleView[]> {
    const table = this.options.datapath.core.rules;
    return table.list().map((rule) => ruleView(rule, table.entry(rule.id)));
  }

  async addRule(input: RuleInput, actor: Actor): Promise<RuleView> {
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
    const fields = { rule: rule.id, src: input.src, dst: input.dst, target: input.target };
    this.changed('rule', actor, 'rule added', fields, { type: 'rule-added', ...fields, by: actor.name });
    return ruleView(rule, table.entry(rule.id));
  }

  async deleteRule(id: number, actor: Actor): Promise<void> {
    const rule = this.options.datapath.core.rules.get(id);
    if (rule === undefined) throw new NotFoundError('rule', id);
    checkOwner(actor, 'rule', id, rule.owner ?? 'config');
    if (rule.owner === STAR_OWNER) {
      throw new StarProtectedError(`rule ${id} is the star's default rule (owner "${STAR_OWNER}"), the way to the Proxy: it comes from the daemon's config and only a config change removes it`);
    }
    if (!this.options.datapath.core.rules.remove(id)) throw new NotFoundError('rule', id);
    this.changed('rule', actor, 'rule deleted', { rule: id }, { type: 'rule-deleted', rule: id, by: actor.name });
  }

  async macs(): Promise<MacView[]> {
    return this.options.macs?.() ?? [];
  }

  async configTimeBound(): Promise<{ upperBoundMs: number }> {
    return { upperBoundMs: this.configTimeBoundMs };
  }

  async setConfigTimeBound(upperBoundMs: number, actor: Actor): Promise<{ upperBoundMs: number }> {
    if (!Number.isInteger(upperBoundMs) || upperBoundMs < 1 || upperBoundMs > 3_600_000) {
      throw new InvalidInputError('upperBoundMs', 'must be an integer between 1 and 3600000');
    }
    this.configTimeBoundMs = upperBoundMs;
    this.changed('config-time', actor, 'configuration time bound set', { upperBoundMs });
    return { upperBoundMs };
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

/** Every port and link of the datapath with its counters (the status view and the list-interfaces primitive). */
export function interfaceViews(datapath: Datapath): InterfaceView[] {
  return datapath.ports().map((p) => {
    const c = datapath.core.portStats(p.id);
    return {
      name: p.port.name,
      kind: p.port.kind,
      state: p.state,
      ...(p.lastError === undefined ? {} : { lastError: p.lastError }),
      rxFrames: c.rxFrames,
      rxBytes: c.rxBytes,
      txFrames: c.txFrames,
      txBytes: c.txBytes,
      // The core's drops by reason, and what the port dropped before the core saw it (a refused virtio-net header).
      drops: { ...c.drops, ...p.port.drops?.() },
    };
  });
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

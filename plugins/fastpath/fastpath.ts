/**
 * FastPath: the built-in adaptation policy, on the Proxy (Virtuoso paper §4). Thin glue around adapt.ts (pure):
 *
 *   1. VTTIF reports a topology (subscribe) → the VM MACs are mapped to hosts with the Proxy's MAC table (a MAC
 *      learned on the Proxy's link `hN` lives on host hN; remembered, since fast-path traffic stops refreshing it);
 *   2. adapt() says which fast links and rules should exist; the changes run through the Proxy's relayed
 *      primitives with the actor "fastpath" (owner "proxy:fastpath" on the hosts), one reconcile at a time:
 *      rules are deleted before their link, links added on both ends (the peer's key and underlay address come
 *      from the Proxy's own link to it, its ports from what it reported listening on — over a TCP star the
 *      Proxy sees only an ephemeral source port; keepalive every second, so a silent link is a dead link);
 *   3. every second (watch): each fast link's two ends are polled. Both ends up → its rules are installed (only
 *      then, so a link that never comes up black-holes nothing). Not up 10 s after being added, or a direction whose
 *      sender sent and whose receiver heard nothing for 3 s → its rules go at once, then the link, and the pair backs off to the star.
 *   4. a VM moves (the Proxy's announcement, vmMoved): its rules toward the host it left go at once, on every host,
 *      and its MAC maps to the new host, so the next reconcile forms its fast paths there. The Proxy's MAC table only
 *      teaches MACs not known yet: it may hold a VM for a moment behind a host that merely relayed its frame, and
 *      following that would point fast paths at the wrong host; moves come from the announcements, which are checked.
 *   5. hosts behind a NAT (no endpoint in the Proxy's config: `reachability`, switch/overlay/nat-kind.ts) are dialed
 *      at their observed endpoint, and both ends of their link handshake at once: a punch (punch.ts). Its link has
 *      5 s to come up, not 10; a failed punch keeps the pair on the star (`punch-failed`, with both NAT kinds) and
 *      its backoff doubles per failure in a row.
 * The star is never touched: what no rule claims goes to the Proxy, so removing a rule is always safe.
 * Timings: time to adapt = from the VTTIF report that asked for new links to the last of them up with its rules.
 */
import type { Timer, TimerClock } from '../../switch/clock.js';
import { pluginEvent, type EventLevel, type EventSink, type PluginEventFields } from '../../switch/events.js';
import type { LinkStatus, ListenPorts } from '../../switch/link/link-manager.js';
import type { Logger } from '../../switch/log.js';
import type { MacView, Primitives } from '../../switch/overlay/primitives.js';
import { ChangeQueue } from '../../switch/state/change-queue.js';
import { needsPunch, type HostReachability, type NatKind } from '../../switch/overlay/nat-kind.js';
import { PUNCH_TIMEOUT_MS, PunchBook, type PunchView } from './punch.js';
import { adoptFastPaths, type HostFastPaths } from './adopt.js';
import {
  adapt,
  forgetMovedVm,
  DEFAULT_FASTPATH_PARAMETERS,
  EMPTY_ADAPT_STATE,
  hostPairKey,
  markUnreachable,
  rulesOf,
  type AdaptState,
  type AppEdge,
  type FastPathChange,
  type FastPathParameters,
  type FastRuleChange,
} from './adapt.js';

export const FASTPATH_ACTOR = { name: 'fastpath' } as const;
/** The owner of the plugin's rules and links on a host (the relay prefixes the actor). */
export const FASTPATH_HOST_OWNER = 'proxy:fastpath';
const LINK_PREFIX = 'fp-';
const WATCH_INTERVAL_MS = 1000;
/** A fast link not up this long after being added has failed. */
export const LINK_UP_TIMEOUT_MS = 10_000;
/** A direction of a fast link whose receiver hears nothing this long after its sender sent is broken (keepalive is 1 s). */
export const LINK_SILENT_MS = 3000;
const KEEPALIVE_S = 1;
/** After a takeover: rounds (ticks, 1 s apart) a host has to answer what fast paths it has before it is given up. */
export const ADOPT_ROUNDS = 5;
const DEFAULT_LINK_PORT = 51820;

export interface FastPathComponents {
  readonly clock: TimerClock;
  readonly log: Logger;
  /** Where its events are raised (fastpath-link-added, -up, -failed, -refused, -removed, adaptation); absent: nowhere. */
  readonly events?: EventSink;
  /** VTTIF on the Proxy: its change events and current topology. */
  subscribe(listener: (event: { edges: readonly AppEdge[] }) => void): () => void;
  currentEdges(): readonly AppEdge[];
  /** The relayed primitives of a host (undefined: no such host). */
  host(name: string): Primitives | undefined;
  /** The Proxy's own links (one per host: its key and underlay endpoint). */
  proxyLinks(): LinkStatus[];
  /** The ports a host last reported listening on (its control-channel report); undefined: not reported yet. */
  listenPorts(host: string): ListenPorts | undefined;
  /** The Proxy's MAC table. */
  proxyMacs(): MacView[];
  /**
   * How the Proxy reaches a host (its NAT kind and observed endpoint, from the hosts view); absent or undefined:
   * every host counts as open, as before NAT traversal.
   */
  reachability?(host: string): HostReachability | undefined;
  /** Saves new settings before they take effect (the daemon's durable state); rejects when it cannot (nothing changes). */
  persist?(settings: FastPathSettings): Promise<void>;
  /** Whether this Proxy is the active one (switch/ha/proxy-role.ts); absent: always. A standby plans and acts not at all. */
  isActive?(): boolean;
}

export interface FastPathSettings extends FastPathParameters {
  readonly enabled: boolean;
}

export interface FastLinkView {
  a: string;
  b: string;
  state: 'adding' | 'up';
  weight: number;
  vmPairs: number;
  rules: number;
  addedAt: number;
  upAfterMs?: number;
}

export interface FastPathCounters {
  reconciles: number;
  linksAdded: number;
  linksRemoved: number;
  rulesAdded: number;
  rulesRemoved: number;
  linkFailures: number;
  punches: number;
  punchFailures: number;
  movesFollowed: number;
  errors: number;
}

export interface FastPathStatus {
  settings: FastPathSettings;
  links: FastLinkView[];
  unreachable: { a: string; b: string; untilMs: number }[];
  punches: PunchView[];
  counters: FastPathCounters;
  timings: { lastTimeToAdaptMs: number | null; lastReportAtMs: number | null; lastAdaptedAtMs: number | null };
}

interface Watched {
  readonly a: string;
  readonly b: string;
  readonly addedAtMs: number;
  upAtMs?: number;
  /** Its hosts' NAT kinds when either is behind a NAT: the link is a punch. */
  readonly punch?: { readonly natA: NatKind; readonly natB: NatKind };
  /** Each direction's last seen counters: the sender's tx, the receiver's rx. */
  readonly ab: DirectionWatch;
  readonly ba: DirectionWatch;
}

/**
 * One direction of a fast link (sender → receiver). It is broken when the sender sent and the receiver has heard
 * nothing since for LINK_SILENT_MS. An idle direction is never judged: under WireGuard's timers an idle link's
 * keepalives may all go one way (a received packet postpones the persistent keepalive), so "each end heard
 * something lately" would fail healthy idle links.
 */
export interface DirectionWatch {
  tx: number;
  rx: number;
  /** Since when the sender has sent what the receiver has not acknowledged by receiving anything. */
  unansweredSinceMs: number | undefined;
}

export const newDirection = (): DirectionWatch => ({ tx: 0, rx: 0, unansweredSinceMs: undefined });

/** Updates one direction from a poll; true when it is broken. */
export function directionBroken(d: DirectionWatch, senderTx: number, receiverRx: number, nowMs: number): boolean {
  const sent = senderTx !== d.tx;
  const received = receiverRx !== d.rx;
  d.tx = senderTx;
  d.rx = receiverRx;
  if (received) d.unansweredSinceMs = undefined;
  else if (sent && d.unansweredSinceMs === undefined) d.unansweredSinceMs = nowMs;
  return d.unansweredSinceMs !== undefined && nowMs - d.unansweredSinceMs > LINK_SILENT_MS;
}

interface Installed {
  readonly pairKey: string;
  /** The host it is on, and the one its target link leads to. */
  readonly host: string;
  readonly peer: string;
  readonly src: string;
  readonly dst: string;
  readonly id: number;
}

/** Where an installed rule has `mac` living: on its host (the rule's source), or at its link's other end (destination). */
const hostOfMacIn = (r: Installed, mac: string): string | undefined => (r.src === mac ? r.host : r.dst === mac ? r.peer : undefined);

export const linkNameFor = (peer: string): string => `${LINK_PREFIX}${peer}`;
const ruleKey = (r: FastRuleChange): string => `${r.host} ${r.src} ${r.dst}`;

export class FastPath {
  #settings: FastPathSettings;
  #state: AdaptState = EMPTY_ADAPT_STATE;
  readonly #macToHost = new Map<string, string>();
  readonly #watched = new Map<string, Watched>();
  readonly #installed = new Map<string, Installed>();
  readonly #counters: FastPathCounters = { reconciles: 0, linksAdded: 0, linksRemoved: 0, rulesAdded: 0, rulesRemoved: 0, linkFailures: 0, punches: 0, punchFailures: 0, movesFollowed: 0, errors: 0 };
  readonly #punches = new PunchBook();
  #queue: Promise<void> = Promise.resolve();
  #timer: Timer | undefined;
  #unsubscribe: (() => void) | undefined;
  #lastReportAtMs: number | null = null;
  #awaiting: { fromMs: number; pairs: Set<string> } | undefined;
  #lastTimeToAdaptMs: number | null = null;
  #lastAdaptedAtMs: number | null = null;
  readonly #settingChanges = new ChangeQueue();
  /** After a takeover: hosts not read yet for the fast paths they have, each with the rounds it has left. */
  readonly #unadopted = new Map<string, number>();
  readonly #adoptAnswers: HostFastPaths[] = [];

  constructor(
    private readonly components: FastPathComponents,
    settings: Partial<FastPathSettings> = {},
  ) {
    this.#settings = { ...DEFAULT_FASTPATH_PARAMETERS, enabled: true, ...settings };
  }

  start(): void {
    this.#unsubscribe = this.components.subscribe(() => {
      this.#lastReportAtMs = this.components.clock.now();
      void this.reconcile();
    });
    this.#timer = this.components.clock.every(WATCH_INTERVAL_MS, () => void this.tick());
  }

  /** Stops watching; fast links stay (call setSettings({ enabled: false }) first to remove them). */
  stop(): void {
    this.#timer?.cancel();
    this.#unsubscribe?.();
  }

  settings(): FastPathSettings {
    return this.#settings;
  }

  /**
   * New parameters take effect at once (a lower cap removes links); disabling removes every fast link. They are
   * saved first (`persist`): settings that cannot be saved are not taken, and the store's error is thrown.
   */
  setSettings(change: Partial<FastPathSettings>): Promise<FastPathSettings> {
    return this.#settingChanges.run(async () => {
      const next = { ...this.#settings, ...change };
      await this.components.persist?.(next);
      this.#settings = next;
      this.components.log.info('fastpath: settings', { ...this.#settings });
      await this.reconcile();
      return this.#settings;
    });
  }

  /** Settings already saved elsewhere (the desired state a Proxy takes on winning): taken as they are, not saved again. */
  takeSettings(settings: FastPathSettings): Promise<FastPathSettings> {
    return this.#settingChanges.run(() => {
      this.#settings = { ...settings };
      this.components.log.info('fastpath: settings taken from the saved state', { ...this.#settings });
      return Promise.resolve(this.#settings);
    });
  }

  status(): FastPathStatus {
    const nowMs = this.components.clock.now();
    const links = [...this.#state.links].map(([key, l]): FastLinkView => {
      const w = this.#watched.get(key);
      return {
        a: l.a,
        b: l.b,
        state: w?.upAtMs === undefined ? 'adding' : 'up',
        weight: l.weight,
        vmPairs: l.vmPairs.size,
        rules: [...this.#installed.values()].filter((r) => r.pairKey === key).length,
        addedAt: w?.addedAtMs ?? nowMs,
        ...(w?.upAtMs === undefined ? {} : { upAfterMs: w.upAtMs - w.addedAtMs }),
      };
    });
    const unreachable = [...this.#state.unreachableUntilMs].map(([key, untilMs]) => {
      const [a = '', b = ''] = key.split(' ');
      return { a, b, untilMs };
    });
    return {
      settings: this.#settings,
      links,
      unreachable,
      punches: this.#punches.list(),
      counters: { ...this.#counters },
      timings: { lastTimeToAdaptMs: this.#lastTimeToAdaptMs, lastReportAtMs: this.#lastReportAtMs, lastAdaptedAtMs: this.#lastAdaptedAtMs },
    };
  }

  /**
   * VM `mac` moved from `from` to `to` (the Proxy's announcement, at detection). At once — not in turn behind a
   * reconcile — its MAC maps to `to`, and every rule of the plugin that sends its frames toward where it was is
   * deleted on every host (rules beat learning: a stale one would black-hole it), then any fast link left with no VM
   * pair. Their VM pairs leave the state without hysteresis, so nothing re-installs them; the next reconcile forms
   * the VM's fast paths at `to` from VTTIF's topology. Rules of other owners that name the MAC stay, with a warning
   * each. Resolves once the stale rules and links are gone.
   */
  async vmMoved(move: { readonly mac: string; readonly from: string; readonly to: string }): Promise<void> {
    const { mac, to } = move;
    const nowMs = this.components.clock.now();
    this.#macToHost.set(mac, to);
    if (!this.#isActive()) return; // a standby has no rules of its own to follow with
    const forgotten = forgetMovedVm(this.#state, mac, to);
    this.#state = forgotten.state;
    const stale = [...this.#installed].filter(([, r]) => {
      const at = hostOfMacIn(r, mac);
      return at !== undefined && at !== to;
    });
    for (const [key] of stale) this.#installed.delete(key);
    this.#counters.movesFollowed++;
    const warned = this.#settings.enabled ? this.#warnOtherRules(move) : Promise.resolve(0);
    await Promise.all(stale.map(([, r]) => this.#deleteInstalled(r)));
    const emptied = forgotten.changes.filter((c) => c.kind === 'delete-link');
    await Promise.all(emptied.map((c) => this.#apply(c, nowMs)));
    const followed = { ...move, rulesRemoved: stale.length, linksRemoved: emptied.length, otherRules: await warned };
    this.components.log.info('fastpath: vm move followed', followed);
    if (this.#settings.enabled) this.#raise('fastpath-move-followed', 'info', `VM ${mac} moved to ${to}: ${stale.length} fast-path rules toward ${move.from} removed`, followed);
  }

  /** Rules of other owners on any host that name the moved VM: left alone (they are not ours), each one warned of. */
  async #warnOtherRules(move: { readonly mac: string; readonly from: string; readonly to: string }): Promise<number> {
    const hosts = this.components.proxyLinks().map((l) => l.name);
    const found = await Promise.all(
      hosts.map(async (host) => {
        const rules = await this.components.host(host)?.rules().catch(() => undefined);
        return (rules ?? []).filter((r) => (r.src === move.mac || r.dst === move.mac) && r.owner !== FASTPATH_HOST_OWNER).map((r) => ({ host, r }));
      }),
    );
    const kept = found.flat();
    for (const { host, r } of kept) {
      const fields = { mac: move.mac, from: move.from, to: move.to, host, rule: r.id, owner: r.owner, target: r.target };
      this.components.log.warn('fastpath: a rule of another owner names a VM that moved; left alone', fields);
      this.#raise('fastpath-move-rule-kept', 'warn', `rule ${r.id} on ${host} (owner ${r.owner}, to ${r.target}) names ${move.mac}, which moved from ${move.from} to ${move.to}: left alone`, fields);
    }
    return kept.length;
  }

  /** One reconcile (adapt + apply), serialized with every other. */
  reconcile(): Promise<void> {
    return this.#serial(() => this.#reconcile());
  }

  /** The watch step (the timer runs it every second; tests may call it). */
  tick(): Promise<void> {
    return this.#serial(async () => {
      if (this.#unadopted.size > 0 && !(await this.#adoptRound())) return;
      await this.#watch();
      await this.#reconcile();
    });
  }

  /**
   * This Proxy stopped being the active one: its books are forgotten, nothing is removed — the fast links stay on
   * the hosts, and the new active Proxy's plugin adopts them. Until it wins again it plans and acts not at all.
   */
  standBy(): Promise<void> {
    return this.#queued(() => {
      const links = this.#state.links.size;
      this.#state = EMPTY_ADAPT_STATE;
      this.#watched.clear();
      this.#installed.clear();
      this.#awaiting = undefined;
      this.#unadopted.clear();
      this.#adoptAnswers.length = 0;
      this.components.log.info('fastpath: standing by; fast links left to the active proxy', { links });
      return Promise.resolve();
    });
  }

  /**
   * This Proxy became the active one: it reads the fast paths every host has (owner "proxy:fastpath": the old
   * active one's) and takes them as its own (adopt.ts), then plans. Until every host answered (or ADOPT_ROUNDS
   * rounds passed) it plans nothing, so it never adds a link that is there already.
   */
  takeOver(): Promise<void> {
    for (const l of this.components.proxyLinks()) this.#unadopted.set(l.name, ADOPT_ROUNDS);
    this.#adoptAnswers.length = 0;
    return this.tick();
  }

  #isActive(): boolean {
    return this.components.isActive?.() ?? true;
  }

  /** A step in turn; on a standby it does nothing (checked when its turn comes, not when it was queued). */
  #serial(step: () => Promise<void>): Promise<void> {
    return this.#queued(() => (this.#isActive() ? step() : Promise.resolve()));
  }

  #queued(step: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(step, step);
    this.#queue = run.catch((err: unknown) => {
      this.#counters.errors++;
      this.components.log.warn('fastpath: step failed', { error: (err as Error).message });
    });
    return this.#queue;
  }

  async #reconcile(): Promise<void> {
    if (this.#unadopted.size > 0) return; // still reading what the hosts have (takeOver)
    const nowMs = this.components.clock.now();
    this.#learnMacs();
    const parameters = this.#settings.enabled ? this.#settings : { ...this.#settings, maxLinksPerHost: 0 };
    const result = adapt({ edges: this.components.currentEdges(), macToHost: this.#macToHost, state: this.#state, parameters, nowMs });
    this.#state = result.state;
    this.#counters.reconciles++;
    const added = result.changes.flatMap((c) => (c.kind === 'add-link' ? [hostPairKey(c.a, c.b)] : []));
    // In order of kind (rules before links go, links before rules come), each kind's changes at once:
    // relayed primitives each wait a round trip over a star link that may be busy.
    for (const kind of ['delete-rule', 'delete-link', 'add-link'] as const) {
      await Promise.all(result.changes.filter((c) => c.kind === kind).map((c) => this.#apply(c, nowMs)));
    }
    if (added.length > 0) {
      const fromMs = this.#lastReportAtMs ?? nowMs;
      this.#awaiting = { fromMs, pairs: new Set([...(this.#awaiting?.pairs ?? []), ...added]) };
    }
    await this.#installRules();
  }

  async #apply(change: FastPathChange, nowMs: number): Promise<void> {
    switch (change.kind) {
      case 'delete-rule':
        return this.#deleteRule(change.rule);
      case 'delete-link':
        await this.#deleteLinkEnds(change.a, change.b);
        this.#watched.delete(hostPairKey(change.a, change.b));
        this.#punches.forget(hostPairKey(change.a, change.b));
        this.#counters.linksRemoved++;
        this.components.log.info('fastpath: link removed', { a: change.a, b: change.b });
        this.#raise('fastpath-link-removed', 'info', `fast link ${change.a}–${change.b} removed`, { a: change.a, b: change.b });
        return;
      case 'add-link':
        return this.#addLink(change.a, change.b, nowMs);
      case 'add-rule':
        return; // installed by #installRules once the link is up
    }
  }

  /** One round of reading the hosts not read yet; true once every host answered or ran out of rounds, and all is adopted. */
  async #adoptRound(): Promise<boolean> {
    await Promise.all(
      [...this.#unadopted].map(async ([host, rounds]) => {
        const primitives = this.components.host(host);
        const got = primitives ? await Promise.all([primitives.links(), primitives.rules()]).catch(() => undefined) : undefined;
        if (got) this.#adoptAnswers.push({ host, links: got[0], rules: got[1] });
        if (got || rounds <= 1) this.#unadopted.delete(host);
        else this.#unadopted.set(host, rounds - 1);
      }),
    );
    if (this.#unadopted.size > 0) return false;
    const nowMs = this.components.clock.now();
    const adopted = adoptFastPaths(this.#adoptAnswers.splice(0), { owner: FASTPATH_HOST_OWNER, linkPrefix: LINK_PREFIX, nowMs });
    const links = new Map(this.#state.links);
    for (const [key, l] of adopted.links) {
      if (links.has(key)) continue;
      links.set(key, { a: l.a, b: l.b, weight: 0, lastSeenMs: nowMs, vmPairs: l.vmPairs });
      this.#watched.set(key, { a: l.a, b: l.b, addedAtMs: nowMs, ...(l.up ? { upAtMs: nowMs } : {}), ab: newDirection(), ba: newDirection() });
    }
    this.#state = { ...this.#state, links };
    for (const r of adopted.rules) this.#installed.set(`${r.host} ${r.src} ${r.dst}`, r);
    for (const [mac, host] of adopted.macs) if (!this.#macToHost.has(mac)) this.#macToHost.set(mac, host);
    const fields = { links: adopted.links.size, rules: adopted.rules.length };
    this.components.log.info('fastpath: adopted the fast paths the hosts have', fields);
    this.#raise('fastpath-adopted', 'info', `took over ${fields.links} fast links and ${fields.rules} rules from the hosts`, fields);
    return true;
  }

  async #addLink(a: string, b: string, nowMs: number): Promise<void> {
    const key = hostPairKey(a, b);
    try {
      const ends = await Promise.allSettled([this.#addLinkEnd(a, b), this.#addLinkEnd(b, a)]);
      const failed = ends.find((e): e is PromiseRejectedResult => e.status === 'rejected');
      if (failed) {
        // Undo the end that was made, if any (a not-found is fine).
        if (ends[0]?.status === 'fulfilled') await this.components.host(a)?.deleteLink(linkNameFor(b), FASTPATH_ACTOR).catch(() => undefined);
        if (ends[1]?.status === 'fulfilled') await this.components.host(b)?.deleteLink(linkNameFor(a), FASTPATH_ACTOR).catch(() => undefined);
        throw failed.reason;
      }
    } catch (err) {
      this.#counters.linkFailures++;
      this.components.log.warn('fastpath: link could not be added; the pair stays on the star', { a, b, error: (err as Error).message });
      this.#raise('fastpath-link-refused', 'warn', `fast link ${a}–${b} could not be added; the pair stays on the star`, { a, b, error: (err as Error).message });
      this.#state = markUnreachable(this.#state, a, b, nowMs, this.#settings);
      return;
    }
    const natA = this.#natOf(a);
    const natB = this.#natOf(b);
    const punch = needsPunch(natA, natB) ? { natA, natB } : undefined;
    // Timed from both ends made, not from the reconcile: two relayed add-links over busy star links can take seconds,
    // which must not count against a punch's 5 s.
    const addedAtMs = this.components.clock.now();
    this.#watched.set(key, { a, b, addedAtMs, ab: newDirection(), ba: newDirection(), ...(punch ? { punch } : {}) });
    if (punch) this.#punches.begin(key, a, b, natA, natB);
    this.#counters.linksAdded++;
    this.components.log.info('fastpath: link added', { a, b, ...punch });
    this.#raise('fastpath-link-added', 'info', `fast link ${a}–${b} added`, { a, b });
  }

  async #addLinkEnd(host: string, peer: string): Promise<void> {
    const primitives = this.components.host(host);
    const peerLink = this.components.proxyLinks().find((l) => l.name === peer);
    if (!primitives || !peerLink) throw new Error(`host ${primitives ? peer : host} is not linked to the proxy`);
    const listen = this.components.listenPorts(peer);
    const endpoint = underlayEndpoint(peerLink.endpoint, listen);
    if (endpoint === undefined) throw new Error(`the proxy knows no underlay address of ${peer}`);
    const tcpEndpoint = listen?.tcp === undefined ? undefined : withPort(endpoint, listen.tcp);
    await primitives.addLink(
      { name: linkNameFor(peer), publicKey: peerLink.publicKey, endpoint, ...(tcpEndpoint ? { tcpEndpoint } : {}), transport: 'auto', persistentKeepaliveS: KEEPALIVE_S },
      FASTPATH_ACTOR,
    );
  }

  async #deleteLinkEnds(a: string, b: string): Promise<void> {
    const results = await Promise.allSettled([
      this.components.host(a)?.deleteLink(linkNameFor(b), FASTPATH_ACTOR),
      this.components.host(b)?.deleteLink(linkNameFor(a), FASTPATH_ACTOR),
    ]);
    for (const r of results) if (r.status === 'rejected' && (r.reason as { code?: string }).code !== 'not-found') this.#countError('delete link', r.reason);
  }

  async #deleteRule(rule: FastRuleChange): Promise<void> {
    const installed = this.#installed.get(ruleKey(rule));
    if (!installed) return;
    this.#installed.delete(ruleKey(rule));
    await this.#deleteInstalled(installed);
  }

  /** Deletes a rule already taken out of #installed (a not-found is fine: it is gone either way). */
  async #deleteInstalled(installed: Installed): Promise<void> {
    try {
      await this.components.host(installed.host)?.deleteRule(installed.id, FASTPATH_ACTOR);
      this.#counters.rulesRemoved++;
    } catch (err) {
      if ((err as { code?: string }).code !== 'not-found') this.#countError('delete rule', err);
    }
  }

  /** Whether `rule` is still one the state wants (a VM that moved meanwhile takes its pairs out of it). */
  #wants(key: string, rule: FastRuleChange): boolean {
    const link = this.#state.links.get(key);
    if (link === undefined) return false;
    for (const pair of link.vmPairs.values()) if (rulesOf(link, pair).some((r) => ruleKey(r) === ruleKey(rule))) return true;
    return false;
  }

  /** Rules of up links that are not installed yet (all at once). */
  async #installRules(): Promise<void> {
    const missing: { key: string; rule: FastRuleChange }[] = [];
    for (const [key, link] of this.#state.links) {
      if (this.#watched.get(key)?.upAtMs === undefined) continue;
      for (const pair of link.vmPairs.values()) {
        for (const rule of rulesOf(link, pair)) if (!this.#installed.has(ruleKey(rule))) missing.push({ key, rule });
      }
    }
    await Promise.all(
      missing.map(async ({ key, rule }) => {
        try {
          const view = await this.components.host(rule.host)?.addRule({ src: rule.src, dst: rule.dst, target: linkNameFor(rule.peer) }, FASTPATH_ACTOR);
          if (!view) return;
          this.#counters.rulesAdded++;
          const installed: Installed = { pairKey: key, host: rule.host, peer: rule.peer, src: rule.src, dst: rule.dst, id: view.id };
          // A VM of this rule moved while it was being added: it points at where the VM was, so it goes at once.
          if (!this.#wants(key, rule)) return void (await this.#deleteInstalled(installed));
          this.#installed.set(ruleKey(rule), installed);
        } catch (err) {
          this.#countError('add rule', err);
        }
      }),
    );
    this.#checkAdapted();
  }

  #checkAdapted(): void {
    const awaiting = this.#awaiting;
    if (!awaiting) return;
    for (const key of awaiting.pairs) {
      if (!this.#state.links.has(key)) awaiting.pairs.delete(key);
      else if (this.#watched.get(key)?.upAtMs === undefined) return;
    }
    const nowMs = this.components.clock.now();
    this.#lastTimeToAdaptMs = nowMs - awaiting.fromMs;
    this.#lastAdaptedAtMs = nowMs;
    this.#awaiting = undefined;
    const adapted = { timeToAdaptMs: this.#lastTimeToAdaptMs, links: this.#state.links.size };
    this.components.log.info('fastpath: adapted', adapted);
    this.#raise('adaptation', 'info', `adapted in ${adapted.timeToAdaptMs} ms (${adapted.links} fast links)`, adapted);
  }

  /** Polls both ends of every fast link; a failed one loses its rules at once, then its link. */
  async #watch(): Promise<void> {
    const nowMs = this.components.clock.now();
    const hosts = new Set([...this.#watched.values()].flatMap((w) => [w.a, w.b]));
    const linksOf = new Map<string, LinkStatus[] | undefined>();
    await Promise.all(
      [...hosts].map(async (h) => {
        linksOf.set(h, await this.components.host(h)?.links().catch(() => undefined));
      }),
    );
    for (const [key, w] of [...this.#watched]) {
      const linksA = linksOf.get(w.a);
      const linksB = linksOf.get(w.b);
      // A host that did not answer this round (a relay timeout under load) says nothing about the link:
      // unknown is not down, so judge it on the next round instead of tearing down a working fast path.
      if (linksA === undefined || linksB === undefined) continue;
      const endA = linksA.find((l) => l.name === linkNameFor(w.b));
      const endB = linksB.find((l) => l.name === linkNameFor(w.a));
      const isUp = endA?.state === 'up' && endB?.state === 'up';
      const broken =
        endA !== undefined &&
        endB !== undefined &&
        // Both directions are always updated (no short-circuit): each keeps its own baseline.
        [directionBroken(w.ab, endA.txPackets, endB.rxPackets, nowMs), directionBroken(w.ba, endB.txPackets, endA.rxPackets, nowMs)].includes(true);
      if (w.upAtMs === undefined) {
        if (isUp) {
          w.upAtMs = nowMs;
          w.ab.unansweredSinceMs = w.ba.unansweredSinceMs = undefined;
          const up = { a: w.a, b: w.b, afterMs: nowMs - w.addedAtMs };
          this.components.log.info('fastpath: link up', up);
          this.#raise('fastpath-link-up', 'info', `fast link ${w.a}–${w.b} up after ${up.afterMs} ms`, up);
          if (w.punch) this.#punched(key, w, up.afterMs);
        } else if (w.punch && nowMs - w.addedAtMs >= PUNCH_TIMEOUT_MS) await this.#fail(key, w, 'punch-failed', nowMs);
        else if (nowMs - w.addedAtMs >= LINK_UP_TIMEOUT_MS) await this.#fail(key, w, 'not up in time', nowMs);
        continue;
      }
      if (!isUp || broken) await this.#fail(key, w, isUp ? 'silent' : 'down', nowMs);
    }
    await this.#installRules();
  }

  async #fail(key: string, w: Watched, reason: string, nowMs: number): Promise<void> {
    this.#counters.linkFailures++;
    this.components.log.warn('fastpath: link failed; its traffic goes back to the star', { a: w.a, b: w.b, reason });
    this.#raise('fastpath-link-failed', 'warn', `fast link ${w.a}–${w.b} failed (${reason}); its traffic goes back to the star`, { a: w.a, b: w.b, reason });
    const rules = [...this.#installed].filter(([, r]) => r.pairKey === key);
    await Promise.all(
      rules.map(async ([k, r]) => {
        this.#installed.delete(k);
        try {
          await this.components.host(r.host)?.deleteRule(r.id, FASTPATH_ACTOR);
          this.#counters.rulesRemoved++;
        } catch (err) {
          if ((err as { code?: string }).code !== 'not-found') this.#countError('delete rule', err);
        }
      }),
    );
    await this.#deleteLinkEnds(w.a, w.b);
    this.#watched.delete(key);
    this.#counters.linksRemoved++;
    // A punched link that went down later is no longer direct: its record goes (a failed punch's stays, with its backoff).
    if (reason !== 'punch-failed') this.#punches.forget(key);
    const punchFailed = reason === 'punch-failed' ? this.#punches.failed(key, nowMs, this.#settings.unreachableBackoffMs) : undefined;
    const backoffMs = punchFailed?.backoffMs ?? this.#settings.unreachableBackoffMs;
    this.#state = markUnreachable(this.#state, w.a, w.b, nowMs, { ...this.#settings, unreachableBackoffMs: backoffMs });
    if (punchFailed) {
      const { a, b, natA, natB, attempts, failures } = punchFailed.view;
      this.#counters.punchFailures++;
      const fields = { a, b, natA, natB, attempts, failures, retryInMs: backoffMs };
      this.components.log.warn('fastpath: punch failed; the pair stays on the star', fields);
      this.#raise('fastpath-punch-failed', 'warn', `no direct path ${a} (${natA}) – ${b} (${natB}) through their NATs: the pair stays on the star, retried in ${Math.round(backoffMs / 1000)} s`, fields);
    }
  }

  #punched(key: string, w: Watched, afterMs: number): void {
    const view = this.#punches.succeeded(key, afterMs);
    if (!view) return;
    this.#counters.punches++;
    const fields = { a: w.a, b: w.b, natA: view.natA, natB: view.natB, afterMs, attempts: view.attempts };
    this.components.log.info('fastpath: punched through NAT', fields);
    this.#raise('fastpath-punched', 'info', `direct path ${w.a} (${view.natA}) – ${w.b} (${view.natB}) through their NATs after ${afterMs} ms`, fields);
  }

  #natOf(host: string): NatKind {
    return this.components.reachability?.(host)?.nat ?? 'open';
  }

  /** VMs the plugin does not know yet, from the Proxy's MAC table; a known VM changes host only by vmMoved. */
  #learnMacs(): void {
    const hosts = new Set(this.components.proxyLinks().map((l) => l.name));
    for (const entry of this.components.proxyMacs()) {
      if (hosts.has(entry.port) && !this.#macToHost.has(entry.mac)) this.#macToHost.set(entry.mac, entry.port);
    }
  }

  #raise(name: string, level: EventLevel, message: string, fields: PluginEventFields): void {
    this.components.events?.emit(pluginEvent(name, level, message, fields));
  }

  #countError(what: string, err: unknown): void {
    this.#counters.errors++;
    this.components.log.warn(`fastpath: ${what} failed`, { error: (err as Error).message, code: (err as { code?: string }).code });
  }
}

/**
 * Where to dial a host's fast path over UDP, from the Proxy's link to it: "udp:198.18.0.2:51821" → that address as
 * heard. Over TCP the port is the host's ephemeral source port (or its TCP listener), not its UDP port: the UDP
 * port the host reported listening on instead (`listen.udp`), else the default link port.
 */
export function underlayEndpoint(endpoint: string | undefined, listen?: ListenPorts): string | undefined {
  if (endpoint === undefined) return undefined;
  endpoint = endpoint.replace(/#\d+$/, '');
  const m = /^(udp|tcp):(.+):(\d+)$/.exec(endpoint) ?? /^()(.+):(\d+)$/.exec(endpoint);
  if (!m) return undefined;
  return m[1] === 'tcp' ? `${m[2]}:${listen?.udp ?? DEFAULT_LINK_PORT}` : `${m[2]}:${m[3]}`;
}

/** "198.18.0.2:51820" → "198.18.0.2:<port>" (also "[fd00::2]:51820"). */
function withPort(endpoint: string, port: number): string {
  return `${endpoint.slice(0, endpoint.lastIndexOf(':'))}:${port}`;
}

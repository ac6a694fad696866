/**
 * PluginRegistry: every plugin of the Proxy, one interface (plugin.ts). It
 *   - publishes events: stamps each with a sequence number and time and hands it to every enabled plugin that takes
 *     its type (entries only queue: publishing never waits on a plugin);
 *   - produces the overlay's own events: every second a snapshot of hosts and links (overlay-watch.ts), the traffic
 *     matrix when someone takes it; VTTIF's topology changes are published by the daemon through publish();
 *   - registers, enables, disables and unregisters plugins; turning one off (disable, unregister, lease expiry)
 *     removes what it owns, found by owner on the daemons themselves (ownership.ts). A daemon that does not answer
 *     keeps a pending cleanup, retried on the tick with backoff (CLEANUP_BACKOFF) and at once when that host comes
 *     back; at most MAX_PENDING_CLEANUPS are kept (the oldest is dropped, and logged); enabling or registering the
 *     plugin again calls its pending cleanups off (it owns those links and rules again);
 *   - authenticates policy tokens (stored as SHA-256 digests) and admits their requests (rate-limit.ts);
 *   - with a durable state (`state`), saves every registration, unregistration, enable and disable BEFORE it takes
 *     effect and answers, and restores them at start (saved-plugins.ts); changes run one at a time, so what is
 *     saved is what was answered, in order;
 *   - on a standby Proxy (`activity`, switch/ha/proxy-role.ts) stays idle: no event is delivered, no lease runs
 *     out, no cleanup is tried; when it becomes active its plugins hear what is now and each policy's lease starts
 *     again (it has to find this Proxy first).
 */
import type { Timer, TimerClock } from '../../switch/clock.js';
import { randomBytes } from 'node:crypto';
import { NO_EVENTS, pluginEvent, type EventSink } from '../../switch/events.js';
import type { Logger } from '../../switch/log.js';
import { ConflictError, NotFoundError, type Actor } from '../../switch/overlay/primitives.js';
import type { PluginEntry } from './entry.js';
import { HttpPolicyEntry, tokenDigestOf, type WebhookPoster } from './http-policy.js';
import { ChangeQueue } from '../../switch/state/change-queue.js';
import { RestoreReport, type DurableRecords } from '../../switch/state/restore-report.js';
import type { StateChange } from '../../switch/state/state-record.js';
import { CLEANUP_KIND, cleanupRecord, decodeCleanup, decodePolicy, PLUGIN_KIND, pluginEnabledRecord, POLICY_KIND, policyRecord, restoredEnabled } from './saved-plugins.js';
import { InProcessEntry } from './in-process-entry.js';
import { currentEvents, diffSnapshots, EMPTY_SNAPSHOT, type OverlaySnapshot, type WatchEvent } from './overlay-watch.js';
import { removeOwned, removeOwnedAt, type OwnedPlaces, type RemovedCount } from './ownership.js';
import {
  policyActorName,
  type PluginContext,
  type PluginEvent,
  type PluginEventType,
  type PluginView,
  type PolicyRegistration,
  type VswitchPlugin,
} from './plugin.js';
import type { RateLimitSettings } from './rate-limit.js';
import { ALWAYS_ACTIVE, type ProxyActivity } from '../../switch/ha/proxy-role.js';

export const MAX_HTTP_POLICIES = 32;
const NOTHING_OWNED = { links: 0, rules: 0 } as const;
const TICK_MS = 1000;

/** How long a failed cleanup waits before its next try: firstMs, doubling on each failure, at most maxMs. */
export const CLEANUP_BACKOFF = { firstMs: 1000, maxMs: 60_000 } as const;
/** How many (plugin, place) cleanups may wait for a retry at once; beyond, the oldest is given up (and logged). */
export const MAX_PENDING_CLEANUPS = 256;

/** A cleanup that failed on one place ("proxy" or a host) and waits for its next try. */
export interface PendingCleanup {
  plugin: string;
  actor: string;
  host: string;
  attempts: number;
  /** Clock time (ms) of the first failure. */
  sinceMs: number;
  nextAttemptMs: number;
  lastError: string;
}

export type EventBody = Omit<PluginEvent, 'seq' | 'at'>;

/**
 * Events a plugin makes for the others (VTTIF's `app-topology` and `matrix`): what a newcomer to its type needs to
 * know now, what to publish on each tick while anyone takes the type, and changes as they happen.
 */
export interface PluginEventSource {
  readonly type: PluginEventType;
  current?(): EventBody | undefined;
  periodic?(): EventBody | undefined;
  subscribe?(publish: (body: EventBody) => void): () => void;
  /**
   * Per-subscriber events on each tick (VTTIF's `matrix-delta`): a new stream for each plugin that takes the type,
   * told on each tick whether that plugin lost events since the last (it then starts over with the whole state).
   */
  perSubscriber?(): SubscriberStream;
}

/** One subscriber's state of a per-subscriber source: what to send it on this tick (undefined: nothing). */
export interface SubscriberStream {
  next(resync: boolean): EventBody | undefined;
}

export interface PluginRegistryOptions {
  clock: TimerClock;
  wallClock: () => number;
  log: Logger;
  /** Where the registry's events are raised (plugin-registered, -unregistered, -enabled, -disabled, -expired, -failed); absent: nowhere. */
  events?: EventSink;
  /** The context a plugin acting as `actor` gets. */
  context(name: string, actor: Actor): PluginContext;
  /** Where plugins' belongings live: the Proxy and its hosts. */
  places: OwnedPlaces;
  /** How many links and rules each of `actors` owns (every daemon asked once for all of them). */
  countOwned(actors: readonly string[]): Promise<Map<string, { links: number; rules: number }>>;
  /** The overlay now: hosts and links (overlay-watch.ts). */
  snapshot(): OverlaySnapshot;
  post?: WebhookPoster;
  rateLimit?: RateLimitSettings;
  /** The daemon's durable state: registrations and enabled states are saved before they are answered. */
  state?: DurableRecords;
  /** Whether this Proxy is the active one; absent: always (a Proxy without `ha:`). */
  activity?: ProxyActivity;
}

export class PluginRegistry {
  private readonly entries = new Map<string, PluginEntry>();
  private readonly byDigest = new Map<string, HttpPolicyEntry>();
  private seq = 0;
  private last: OverlaySnapshot = EMPTY_SNAPSHOT;
  private timer: Timer | undefined;
  private readonly sources: PluginEventSource[] = [];
  private readonly unsubscribes: (() => void)[] = [];
  /** Per-subscriber sources' streams, by source and entry, with the entry's deliveryBreaks as of its last event. */
  private readonly streams = new Map<PluginEventSource, Map<PluginEntry, { stream: SubscriberStream; breaks: number }>>();
  /** By `${actor} ${host}`, oldest first. */
  private readonly pending = new Map<string, PendingCleanup & { running: boolean }>();
  private readonly cleaning = new Set<Promise<unknown>>();
  /** Registry changes run one at a time (see the note above). */
  private readonly changes = new ChangeQueue();
  /** What the config says of each in-process plugin (the base of its saved enabled state). */
  private readonly configEnabled = new Map<string, boolean>();

  private readonly events: EventSink;
  private readonly activity: ProxyActivity;

  constructor(private readonly options: PluginRegistryOptions) {
    this.events = options.events ?? NO_EVENTS;
    this.activity = options.activity ?? ALWAYS_ACTIVE;
  }

  /** Whether this registry's Proxy is the active one (a standby's plugins are idle). */
  get isActiveProxy(): boolean {
    return this.activity.isActive();
  }

  /**
   * Adds a built-in or config-module plugin and starts it if enabled — as the saved state says, while the config
   * still says `configEnabled` (default `enabled`) as it did when it was enabled or disabled at run time.
   */
  async addInProcess(
    name: string,
    kind: 'builtin' | 'module',
    plugin: VswitchPlugin,
    opts: { enabled: boolean; configEnabled?: boolean; actor?: string; isEnabled?: () => boolean },
  ): Promise<void> {
    if (this.entries.has(name)) throw new ConflictError(`plugin "${name}" already exists`);
    const actor = { name: opts.actor ?? policyActorName(name) };
    const configEnabled = opts.configEnabled ?? opts.enabled;
    const state = this.options.state;
    const wanted = (state ? restoredEnabled(name, configEnabled, state) : undefined) ?? opts.enabled;
    const entry = new InProcessEntry({
      name,
      kind,
      plugin,
      context: this.options.context(name, actor),
      enabled: wanted,
      log: this.options.log,
      events: this.events,
      ...(opts.isEnabled ? { isEnabled: opts.isEnabled } : {}),
    });
    this.entries.set(name, entry);
    this.configEnabled.set(name, configEnabled);
    await entry.init();
    // A plugin with its own switch may be running already (VTTIF): the saved word turns it off here.
    if (entry.enabled !== wanted) await entry.setEnabled(wanted);
    if (state) {
      const record = pluginEnabledRecord(name, entry.enabled, configEnabled);
      if (JSON.stringify(record.value) !== JSON.stringify(state.saved.get(PLUGIN_KIND, name) ?? null)) await state.write([record]);
    }
    if (entry.enabled) for (const event of this.currentEventsFor(entry.events)) entry.deliver(event);
  }

  /**
   * The HTTP policies of the saved state, back (at start, after the in-process plugins): each with its registration,
   * its enabled or expired state and its token's digest, and a whole lease from now. A saved policy whose name an
   * in-process plugin now has (the config added a module of that name) is skipped: the config wins. Then the
   * cleanups that were pending, due at once.
   */
  async restorePolicies(): Promise<void> {
    const state = this.options.state;
    if (!state) return;
    state.report.read(POLICY_KIND);
    const cleanup: StateChange[] = [];
    for (const [name, value] of state.saved.kind(POLICY_KIND)) {
      const saved = decodePolicy(name, value, state.problem);
      if (this.entries.has(name)) {
        state.report.skipped(POLICY_KIND, name, `the config now has a ${this.entries.get(name)!.kind} plugin named "${name}": the config wins`);
        cleanup.push({ kind: POLICY_KIND, key: name, value: null });
        continue;
      }
      const entry = this.newPolicyEntry(saved.registration, saved.registeredBy, { tokenDigest: saved.tokenDigest, registeredAtWall: saved.registeredAtWall, expired: saved.expired, enabled: saved.enabled });
      this.entries.set(name, entry);
      if (!entry.isExpired) this.byDigest.set(entry.tokenDigest, entry);
      state.report.restored(POLICY_KIND, name, entry.isExpired ? 'expired' : `${entry.enabled ? 'enabled' : 'disabled'}, lease ${entry.leaseMs / 1000} s from the restart`);
    }
    await state.write(cleanup);
    await this.restorePending(state);
  }

  /**
   * The durable state changed underneath (a Proxy that became active took etcd's desired state, daemon/desired-
   * state.ts): the in-process plugins' enabled states and the HTTP policies become what it now says, as at start
   * but without a restore report. A policy whose record is unchanged keeps its entry (and its open stream); one the
   * state no longer has goes (the Proxy that unregistered it removed what it owned); new or changed ones come as
   * saved, with a whole lease from now.
   */
  reloadState(): Promise<void> {
    return this.changes.run(async () => {
      const state = this.options.state;
      if (!state) return;
      const quiet: DurableRecords = { ...state, report: new RestoreReport() };
      for (const [name, configEnabled] of this.configEnabled) {
        const entry = this.entries.get(name);
        const wanted = restoredEnabled(name, configEnabled, quiet) ?? configEnabled;
        if (entry && entry.enabled !== wanted) await entry.setEnabled(wanted);
      }
      const saved = new Map(state.saved.kind(POLICY_KIND));
      for (const entry of [...this.entries.values()]) {
        if (!(entry instanceof HttpPolicyEntry)) continue;
        const value = saved.get(entry.name);
        if (value !== undefined && JSON.stringify(policyRecord(entry).value) === JSON.stringify(value)) saved.delete(entry.name);
        else {
          this.forget(entry);
          this.entries.delete(entry.name);
        }
      }
      for (const [name, value] of saved) {
        if (this.entries.has(name)) continue; // an in-process plugin of that name: the config wins
        const policy = decodePolicy(name, value, state.problem);
        const entry = this.newPolicyEntry(policy.registration, policy.registeredBy, { tokenDigest: policy.tokenDigest, registeredAtWall: policy.registeredAtWall, expired: policy.expired, enabled: policy.enabled });
        this.entries.set(name, entry);
        if (!entry.isExpired) this.byDigest.set(entry.tokenDigest, entry);
      }
      this.options.log.info('plugins: state reloaded', { policies: [...this.entries.values()].filter((e) => e instanceof HttpPolicyEntry).length });
    });
  }

  /** A plugin's events (see PluginEventSource); its changes are published from now on. */
  addEventSource(source: PluginEventSource): void {
    this.sources.push(source);
    const unsubscribe = source.subscribe?.((body) => this.publish(body));
    if (unsubscribe) this.unsubscribes.push(unsubscribe);
  }

  start(): void {
    this.last = this.options.snapshot();
    this.timer = this.options.clock.every(TICK_MS, () => this.tick());
    this.unsubscribes.push(this.activity.onChange((active) => active && this.activated()));
  }

  /** This Proxy won: every enabled plugin hears what is now, and each policy's lease starts from now. */
  private activated(): void {
    this.last = this.options.snapshot();
    for (const entry of this.entries.values()) {
      if (entry instanceof HttpPolicyEntry) entry.leaseFromNow();
      if (!entry.enabled) continue;
      if (entry instanceof HttpPolicyEntry && entry.delivery.type === 'sse') continue; // a stream opens with them
      for (const event of this.currentEventsFor(entry.events)) entry.deliver(event);
    }
    this.options.log.info('plugins: this proxy is active; its plugins act', { plugins: this.entries.size });
  }

  async stop(): Promise<void> {
    this.timer?.cancel();
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    for (const entry of this.entries.values()) await entry.close();
    this.pending.clear();
  }

  /** Stamps and hands out one event. */
  publish(body: EventBody): void {
    if (!this.activity.isActive()) return; // a standby's plugins are idle
    const event = { seq: ++this.seq, at: new Date(this.options.wallClock()).toISOString(), ...body } as PluginEvent;
    for (const entry of this.entries.values()) {
      if (entry.enabled && entry.events.includes(event.type)) entry.deliver(event);
    }
  }

  /** One housekeeping step (the timer's; tests call it): overlay diff, matrix, webhooks, leases. */
  tick(): void {
    const next = this.options.snapshot();
    if (!this.activity.isActive()) {
      this.last = next; // idle: nothing published, no lease runs out, no cleanup tried
      return;
    }
    const now = this.options.clock.now();
    for (const change of diffSnapshots(this.last, next)) {
      this.publish(watchBody(change));
      if (change.type === 'host' && change.host.change === 'joined') this.cleanupDue(change.host.name, now);
    }
    this.last = next;
    this.retryCleanups(now);
    for (const source of this.sources) {
      if (!source.periodic || !this.anyoneTakes(source.type)) continue;
      const body = source.periodic();
      if (body) this.publish(body);
    }
    for (const source of this.sources) if (source.perSubscriber) this.tickPerSubscriber(source, source.perSubscriber.bind(source));
    for (const entry of this.entries.values()) {
      if (!(entry instanceof HttpPolicyEntry)) continue;
      entry.tick();
      if (entry.leaseExpired(now)) this.track(this.expire(entry));
    }
  }

  /**
   * Each plugin that takes `source.type` gets its own event; one that is off (or gone) loses its stream, so it starts
   * over when it is back. Memory: one stream per (source, taking plugin).
   */
  private tickPerSubscriber(source: PluginEventSource, open: () => SubscriberStream): void {
    let streams = this.streams.get(source);
    if (!streams) this.streams.set(source, (streams = new Map()));
    for (const entry of streams.keys()) if (!entry.enabled || this.entries.get(entry.name) !== entry) streams.delete(entry);
    const at = new Date(this.options.wallClock()).toISOString();
    for (const entry of this.entries.values()) {
      if (!entry.enabled || !entry.events.includes(source.type)) continue;
      let held = streams.get(entry);
      if (!held) streams.set(entry, (held = { stream: open(), breaks: entry.deliveryBreaks }));
      const breaks = entry.deliveryBreaks;
      const body = held.stream.next(breaks !== held.breaks);
      // The count before this push: a drop the push itself causes (a full queue) re-syncs on the next tick.
      held.breaks = breaks;
      if (body) entry.deliver({ seq: ++this.seq, at, ...body } as PluginEvent);
    }
  }

  /** What a newcomer to `types` needs to know of now (the stream's opening events). */
  currentEventsFor(types: readonly PluginEventType[]): PluginEvent[] {
    const bodies: EventBody[] = [];
    for (const source of this.sources) {
      if (!types.includes(source.type)) continue;
      const body = source.current?.();
      if (body) bodies.push(body);
    }
    if (types.includes('host') || types.includes('link')) {
      // The state already published (`last`), not a fresh snapshot: the next tick's diff starts from it, so a newcomer
      // never hears a host join twice (once as current, once as the diff of a tick that had not run yet).
      for (const change of currentEvents(this.last)) if (types.includes(change.type)) bodies.push(watchBody(change));
    }
    const at = new Date(this.options.wallClock()).toISOString();
    return bodies.map((b) => ({ seq: ++this.seq, at, ...b }) as PluginEvent);
  }

  async list(): Promise<PluginView[]> {
    // Each view is taken now, as the request found it; only the counts wait for the hosts.
    const entries = [...this.entries.values()];
    const views = entries.map((e) => e.view());
    const owned = await this.options.countOwned(entries.map((e) => e.actor));
    return views.map((v, i) => ({ ...v, owns: owned.get(entries[i]!.actor) ?? NOTHING_OWNED }));
  }

  /** Every plugin without `owns` (no host is asked): for /metrics. */
  summaries(): Omit<PluginView, 'owns'>[] {
    return [...this.entries.values()].map((e) => e.view());
  }

  async get(name: string): Promise<PluginView> {
    return this.viewOf(this.entry(name));
  }

  entry(name: string): PluginEntry {
    const entry = this.entries.get(name);
    if (!entry) throw new NotFoundError('plugin', name);
    return entry;
  }

  /** Registers (or re-registers) an HTTP policy; the token is returned only here. Saved before it takes effect. */
  register(registration: PolicyRegistration, by: Actor): Promise<{ view: PluginView; token: string }> {
    return this.changes.run(async () => {
      const existing = this.entries.get(registration.name);
      if (existing && !(existing instanceof HttpPolicyEntry)) {
        throw new ConflictError(`plugin "${registration.name}" is a ${existing.kind} plugin: choose another name`);
      }
      if (existing instanceof HttpPolicyEntry && existing.registeredBy !== by.name) {
        throw new ConflictError(`policy "${registration.name}" was registered by "${existing.registeredBy}"; only it (or DELETE) can replace it`);
      }
      const policies = [...this.entries.values()].filter((e) => e instanceof HttpPolicyEntry).length;
      if (!existing && policies >= MAX_HTTP_POLICIES) throw new ConflictError(`at most ${MAX_HTTP_POLICIES} policies may be registered`);
      const wasEnabled = existing instanceof HttpPolicyEntry && !existing.isExpired ? existing.enabled : true;
      const token = randomBytes(32).toString('base64url');
      const entry = this.newPolicyEntry(registration, by.name, { token, enabled: wasEnabled });
      await this.options.state?.write([policyRecord(entry)]);
      if (existing instanceof HttpPolicyEntry) this.forget(existing);
      this.callOffCleanups(policyActorName(registration.name));
      this.entries.set(entry.name, entry);
      this.byDigest.set(entry.tokenDigest, entry);
      for (const event of this.currentEventsFor(entry.events)) if (entry.delivery.type === 'webhook') entry.deliver(event);
      const registered = { plugin: entry.name, by: by.name, events: entry.events.join(','), delivery: entry.delivery.type };
      this.options.log.info('policy registered', registered);
      this.events.emit(pluginEvent('plugin-registered', 'info', `policy ${entry.name} registered by ${by.name}`, registered));
      return { view: await this.viewOf(entry), token };
    });
  }

  /** Removes an HTTP policy (saved first) and what it owns. */
  async unregister(name: string): Promise<RemovedCount> {
    const entry = await this.changes.run(async () => {
      const entry = this.entry(name);
      if (!(entry instanceof HttpPolicyEntry)) throw new ConflictError(`plugin "${name}" is a ${entry.kind} plugin: disable it instead`);
      await this.options.state?.write([{ kind: POLICY_KIND, key: name, value: null }]);
      this.forget(entry);
      this.entries.delete(name);
      return entry;
    });
    const removed = await this.removeOwned(entry);
    const unregistered = { plugin: name, linksRemoved: removed.links, rulesRemoved: removed.rules };
    this.options.log.info('policy unregistered', unregistered);
    this.events.emit(pluginEvent('plugin-unregistered', 'info', `policy ${name} unregistered`, unregistered));
    return removed;
  }

  /** Enables or disables a plugin (saved first); disabling removes what it owns. */
  async setEnabled(name: string, enabled: boolean): Promise<PluginView> {
    const entry = await this.changes.run(async () => {
      const entry = this.entry(name);
      if (entry instanceof HttpPolicyEntry && entry.isExpired) throw new ConflictError(`policy "${name}" has expired: register it again`);
      const record = entry instanceof HttpPolicyEntry ? policyRecord(entry, { enabled }) : pluginEnabledRecord(name, enabled, this.configEnabled.get(name) ?? enabled);
      await this.options.state?.write([record]);
      await entry.setEnabled(enabled);
      return entry;
    });
    if (enabled) this.callOffCleanups(entry.actor);
    if (!enabled) await this.removeOwned(entry);
    else if (!(entry instanceof HttpPolicyEntry && entry.delivery.type === 'sse')) {
      // An SSE policy gets the current state when it opens its stream again (disabling closed it).
      for (const event of this.currentEventsFor(entry.events)) entry.deliver(event);
    }
    this.options.log.info(enabled ? 'plugin enabled' : 'plugin disabled', { plugin: name });
    this.events.emit(pluginEvent(enabled ? 'plugin-enabled' : 'plugin-disabled', 'info', `plugin ${name} ${enabled ? 'enabled' : 'disabled'}`, { plugin: name }));
    return this.viewOf(entry);
  }

  private newPolicyEntry(
    registration: PolicyRegistration,
    registeredBy: string,
    restored: { token?: string; tokenDigest?: string; registeredAtWall?: number; expired?: boolean; enabled: boolean },
  ): HttpPolicyEntry {
    return new HttpPolicyEntry({
      registration,
      actor: policyActorName(registration.name),
      token: restored.token,
      ...(restored.tokenDigest === undefined ? {} : { tokenDigest: restored.tokenDigest }),
      ...(restored.registeredAtWall === undefined ? {} : { registeredAtWall: restored.registeredAtWall }),
      ...(restored.expired === undefined ? {} : { expired: restored.expired }),
      registeredBy,
      clock: this.options.clock,
      wallClock: this.options.wallClock,
      log: this.options.log,
      ...(this.options.post ? { post: this.options.post } : {}),
      ...(this.options.rateLimit ? { rateLimit: this.options.rateLimit } : {}),
      enabled: restored.enabled,
    });
  }

  /**
   * The policy a bearer token belongs to, if any and not expired. Tokens are kept and looked up as SHA-256 digests:
   * the lookup's timing can only tell about a digest, which says nothing usable about a token.
   */
  policyByToken(token: string): HttpPolicyEntry | undefined {
    const entry = this.byDigest.get(tokenDigestOf(token));
    if (!entry || entry.isExpired) return undefined;
    entry.learnToken(token); // a policy restored after a restart knew only the digest: its webhooks can be signed again
    return entry;
  }

  private anyoneTakes(type: PluginEventType): boolean {
    for (const entry of this.entries.values()) if (entry.enabled && entry.events.includes(type)) return true;
    return false;
  }

  private async expire(entry: HttpPolicyEntry): Promise<void> {
    entry.expire();
    this.forget(entry);
    // Saved as it happens (not a change anyone waits for): if the write fails, a restart brings the policy back
    // with a new lease, and it expires again if it is still silent.
    void this.changes
      .run(async () => {
        if (this.entries.get(entry.name) === entry) await this.options.state?.write([policyRecord(entry)]);
      })
      .catch((err: unknown) => this.options.log.warn('state: could not save that a policy expired', { plugin: entry.name, err }));
    const expired = { plugin: entry.name, leaseSeconds: entry.leaseMs / 1000 };
    this.options.log.warn('policy expired: nothing heard within its lease, removing what it owns', expired);
    this.events.emit(pluginEvent('plugin-expired', 'warn', `policy ${entry.name}: nothing heard within its lease, removing what it owns`, expired));
    await this.removeOwned(entry);
  }

  private forget(entry: HttpPolicyEntry): void {
    entry.expire();
    for (const [digest, e] of this.byDigest) if (e === entry) this.byDigest.delete(digest);
  }

  private async removeOwned(entry: PluginEntry): Promise<RemovedCount> {
    const removed = await removeOwned(entry.actor, this.options.places);
    const now = this.options.clock.now();
    // Saved before the answer: a Proxy restarted meanwhile still owes these hosts their cleanup.
    await Promise.all(removed.failed.map(({ where, error }) => this.notePending(entry.name, entry.actor, where, error, now)));
    if (removed.errors.length > 0) {
      const pending = { plugin: entry.name, errors: removed.errors.join('; ') };
      this.options.log.warn('plugin cleanup incomplete: will retry', pending);
      this.events.emit(pluginEvent('plugin-cleanup-pending', 'warn', `plugin ${entry.name}: cleanup incomplete, will retry (${pending.errors})`, pending));
    }
    return removed;
  }

  /** The cleanups waiting for a retry, oldest first. */
  pendingCleanups(): PendingCleanup[] {
    return [...this.pending.values()].map(({ running: _running, ...p }) => p);
  }

  /** Resolves when every cleanup under way (a lease expiry's, a retry) has finished: tests tick, then wait for this. */
  async cleanupsSettled(): Promise<void> {
    while (this.cleaning.size > 0) await Promise.allSettled([...this.cleaning]);
  }

  private track(work: Promise<unknown>): void {
    const p = work.catch((err: unknown) => this.options.log.warn('plugin cleanup failed', { err })).finally(() => this.cleaning.delete(p));
    this.cleaning.add(p);
  }

  /** Notes (or updates) a pending cleanup; resolves once a new one is saved (saved-plugins.ts `cleanup`). */
  private notePending(plugin: string, actor: string, host: string, error: string, now: number): Promise<void> {
    const key = `${actor} ${host}`;
    const known = this.pending.get(key);
    const attempts = (known?.attempts ?? 0) + 1;
    const wait = Math.min(CLEANUP_BACKOFF.maxMs, CLEANUP_BACKOFF.firstMs * 2 ** Math.min(attempts - 1, 30));
    const next = { plugin, actor, host, attempts, sinceMs: known?.sinceMs ?? now, nextAttemptMs: now + wait, lastError: error, running: false };
    if (known) {
      Object.assign(known, { ...next, running: known.running });
      return Promise.resolve();
    }
    this.pending.set(key, next);
    const saved = this.savePending(key, next);
    while (this.pending.size > MAX_PENDING_CLEANUPS) {
      const [oldestKey, oldest] = this.pending.entries().next().value!;
      this.forgetPending(oldestKey);
      const dropped = { plugin: oldest.plugin, host: oldest.host, attempts: oldest.attempts, pendingForMs: now - oldest.sinceMs, lastError: oldest.lastError };
      this.options.log.warn('plugin cleanup given up: too many pending, what it owned stays there', dropped);
      this.events.emit(pluginEvent('plugin-cleanup-dropped', 'warn', `plugin ${oldest.plugin}: cleanup on ${oldest.host} given up (too many pending), what it owned stays there`, dropped));
    }
    return saved;
  }

  private forgetPending(key: string): void {
    if (this.pending.delete(key)) void this.savePending(key, undefined);
  }

  /** A pending cleanup into the saved state (or out of it); a failed write is logged: the cleanup still runs. */
  private async savePending(key: string, p: Pick<PendingCleanup, 'plugin' | 'actor' | 'host'> | undefined): Promise<void> {
    const state = this.options.state;
    if (!state) return;
    await state.write([cleanupRecord(key, p)]).catch((err: unknown) => this.options.log.warn('state: could not save a pending cleanup', { key, err }));
  }

  /** The cleanups saved before a restart, due at once (their plugins are gone or off; if one is on again, it is called off). */
  private async restorePending(state: DurableRecords): Promise<void> {
    state.report.read(CLEANUP_KIND);
    const now = this.options.clock.now();
    for (const [key, value] of state.saved.kind(CLEANUP_KIND)) {
      const { plugin, actor, host } = decodeCleanup(key, value, state.problem);
      if (this.isActive(actor)) {
        state.report.skipped(CLEANUP_KIND, key, `plugin ${plugin} is on again: what it owned is its own`);
        await this.savePending(key, undefined);
        continue;
      }
      this.pending.set(key, { plugin, actor, host, attempts: 0, sinceMs: now, nextAttemptMs: now, lastError: 'saved before the Proxy restarted', running: false });
      state.report.restored(CLEANUP_KIND, key, `cleanup of ${actor} on ${host}, due now`);
    }
  }

  /** A host came back: its pending cleanups run on this tick. */
  private cleanupDue(host: string, now: number): void {
    for (const p of this.pending.values()) if (p.host === host) p.nextAttemptMs = Math.min(p.nextAttemptMs, now);
  }

  private retryCleanups(now: number): void {
    for (const [key, p] of this.pending) {
      if (p.running || p.nextAttemptMs > now) continue;
      if (this.isActive(p.actor)) {
        this.forgetPending(key);
        continue;
      }
      p.running = true;
      this.track(
        removeOwnedAt(p.actor, p.host, this.options.places).then((done) => {
          p.running = false;
          if (this.pending.get(key) !== p) return; // called off meanwhile
          if (done.error === undefined) {
            this.forgetPending(key);
            const cleaned = { plugin: p.plugin, host: p.host, attempts: p.attempts + 1, linksRemoved: done.links, rulesRemoved: done.rules };
            this.options.log.info('plugin cleanup done', cleaned);
            this.events.emit(pluginEvent('plugin-cleanup-done', 'info', `plugin ${p.plugin}: cleanup on ${p.host} done after ${cleaned.attempts} attempts`, cleaned));
          } else {
            void this.notePending(p.plugin, p.actor, p.host, done.error, this.options.clock.now());
          }
        }),
      );
    }
  }

  /** The plugin acting as `actor` is on again: what it owned is its own again, nothing to clean. */
  private callOffCleanups(actor: string): void {
    for (const [key, p] of this.pending) if (p.actor === actor) this.forgetPending(key);
  }

  private isActive(actor: string): boolean {
    for (const e of this.entries.values()) if (e.actor === actor && e.enabled && !(e instanceof HttpPolicyEntry && e.isExpired)) return true;
    return false;
  }

  private async viewOf(entry: PluginEntry): Promise<PluginView> {
    const view = entry.view();
    const owned = await this.options.countOwned([entry.actor]);
    return { ...view, owns: owned.get(entry.actor) ?? NOTHING_OWNED };
  }
}

function watchBody(change: WatchEvent): EventBody {
  return change.type === 'host' ? { type: 'host', host: change.host } : { type: 'link', link: change.link };
}


/**
 * PluginRegistry: every plugin of the Proxy, one interface (plugin.ts). It
 *   - publishes events: stamps each with a sequence number and time and hands it to every enabled plugin that takes
 *     its type (entries only queue: publishing never waits on a plugin);
 *   - produces the overlay's own events: every second a snapshot of hosts and links (overlay-watch.ts), the traffic
 *     matrix when someone takes it; VTTIF's topology changes are published by the daemon through publish();
 *   - registers, enables, disables and unregisters plugins; turning one off (disable, unregister, lease expiry)
 *     removes what it owns, found by owner on the daemons themselves (ownership.ts);
 *   - authenticates policy tokens (stored as SHA-256 digests) and admits their requests (rate-limit.ts).
 */
import type { Timer, TimerClock } from '../../switch/clock.js';
import { createHash, randomBytes } from 'node:crypto';
import { NO_EVENTS, pluginEvent, type EventSink } from '../../switch/events.js';
import type { Logger } from '../../switch/log.js';
import { ConflictError, NotFoundError, type Actor } from '../../switch/overlay/primitives.js';
import type { PluginEntry } from './entry.js';
import { HttpPolicyEntry, type WebhookPoster } from './http-policy.js';
import { InProcessEntry } from './in-process-entry.js';
import { currentEvents, diffSnapshots, EMPTY_SNAPSHOT, type OverlaySnapshot, type WatchEvent } from './overlay-watch.js';
import { removeOwned, type OwnedPlaces, type RemovedCount } from './ownership.js';
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

export const MAX_HTTP_POLICIES = 32;
const NOTHING_OWNED = { links: 0, rules: 0 } as const;
const TICK_MS = 1000;

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
}

export class PluginRegistry {
  private readonly entries = new Map<string, PluginEntry>();
  private readonly byDigest = new Map<string, HttpPolicyEntry>();
  private seq = 0;
  private last: OverlaySnapshot = EMPTY_SNAPSHOT;
  private timer: Timer | undefined;
  private readonly sources: PluginEventSource[] = [];
  private readonly unsubscribes: (() => void)[] = [];

  private readonly events: EventSink;

  constructor(private readonly options: PluginRegistryOptions) {
    this.events = options.events ?? NO_EVENTS;
  }

  /** Adds a built-in or config-module plugin and starts it if enabled. */
  async addInProcess(name: string, kind: 'builtin' | 'module', plugin: VswitchPlugin, opts: { enabled: boolean; actor?: string; isEnabled?: () => boolean }): Promise<void> {
    if (this.entries.has(name)) throw new ConflictError(`plugin "${name}" already exists`);
    const actor = { name: opts.actor ?? policyActorName(name) };
    const entry = new InProcessEntry({
      name,
      kind,
      plugin,
      context: this.options.context(name, actor),
      enabled: opts.enabled,
      log: this.options.log,
      events: this.events,
      ...(opts.isEnabled ? { isEnabled: opts.isEnabled } : {}),
    });
    this.entries.set(name, entry);
    await entry.init();
    if (entry.enabled) for (const event of this.currentEventsFor(entry.events)) entry.deliver(event);
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
  }

  async stop(): Promise<void> {
    this.timer?.cancel();
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    for (const entry of this.entries.values()) await entry.close();
  }

  /** Stamps and hands out one event. */
  publish(body: EventBody): void {
    const event = { seq: ++this.seq, at: new Date(this.options.wallClock()).toISOString(), ...body } as PluginEvent;
    for (const entry of this.entries.values()) {
      if (entry.enabled && entry.events.includes(event.type)) entry.deliver(event);
    }
  }

  /** One housekeeping step (the timer's; tests call it): overlay diff, matrix, webhooks, leases. */
  tick(): void {
    const next = this.options.snapshot();
    for (const change of diffSnapshots(this.last, next)) this.publish(watchBody(change));
    this.last = next;
    for (const source of this.sources) {
      if (!source.periodic || !this.anyoneTakes(source.type)) continue;
      const body = source.periodic();
      if (body) this.publish(body);
    }
    const now = this.options.clock.now();
    for (const entry of this.entries.values()) {
      if (!(entry instanceof HttpPolicyEntry)) continue;
      entry.tick();
      if (entry.leaseExpired(now)) void this.expire(entry);
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

  /** Registers (or re-registers) an HTTP policy; the token is returned only here. */
  async register(registration: PolicyRegistration, by: Actor): Promise<{ view: PluginView; token: string }> {
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
    if (existing instanceof HttpPolicyEntry) this.forget(existing);
    const token = randomBytes(32).toString('base64url');
    const entry = new HttpPolicyEntry({
      registration,
      actor: policyActorName(registration.name),
      token,
      registeredBy: by.name,
      clock: this.options.clock,
      wallClock: this.options.wallClock,
      log: this.options.log,
      ...(this.options.post ? { post: this.options.post } : {}),
      ...(this.options.rateLimit ? { rateLimit: this.options.rateLimit } : {}),
      enabled: wasEnabled,
    });
    this.entries.set(entry.name, entry);
    this.byDigest.set(digestOf(token), entry);
    for (const event of this.currentEventsFor(entry.events)) if (entry.delivery.type === 'webhook') entry.deliver(event);
    const registered = { plugin: entry.name, by: by.name, events: entry.events.join(','), delivery: entry.delivery.type };
    this.options.log.info('policy registered', registered);
    this.events.emit(pluginEvent('plugin-registered', 'info', `policy ${entry.name} registered by ${by.name}`, registered));
    return { view: await this.viewOf(entry), token };
  }

  /** Removes an HTTP policy and what it owns. */
  async unregister(name: string): Promise<RemovedCount> {
    const entry = this.entry(name);
    if (!(entry instanceof HttpPolicyEntry)) throw new ConflictError(`plugin "${name}" is a ${entry.kind} plugin: disable it instead`);
    this.forget(entry);
    this.entries.delete(name);
    const removed = await this.removeOwned(entry);
    const unregistered = { plugin: name, linksRemoved: removed.links, rulesRemoved: removed.rules };
    this.options.log.info('policy unregistered', unregistered);
    this.events.emit(pluginEvent('plugin-unregistered', 'info', `policy ${name} unregistered`, unregistered));
    return removed;
  }

  async setEnabled(name: string, enabled: boolean): Promise<PluginView> {
    const entry = this.entry(name);
    if (entry instanceof HttpPolicyEntry && entry.isExpired) throw new ConflictError(`policy "${name}" has expired: register it again`);
    await entry.setEnabled(enabled);
    if (!enabled) await this.removeOwned(entry);
    else if (!(entry instanceof HttpPolicyEntry && entry.delivery.type === 'sse')) {
      // An SSE policy gets the current state when it opens its stream again (disabling closed it).
      for (const event of this.currentEventsFor(entry.events)) entry.deliver(event);
    }
    this.options.log.info(enabled ? 'plugin enabled' : 'plugin disabled', { plugin: name });
    this.events.emit(pluginEvent(enabled ? 'plugin-enabled' : 'plugin-disabled', 'info', `plugin ${name} ${enabled ? 'enabled' : 'disabled'}`, { plugin: name }));
    return this.viewOf(entry);
  }

  /**
   * The policy a bearer token belongs to, if any and not expired. Tokens are kept and looked up as SHA-256 digests:
   * the lookup's timing can only tell about a digest, which says nothing usable about a token.
   */
  policyByToken(token: string): HttpPolicyEntry | undefined {
    const entry = this.byDigest.get(digestOf(token));
    return entry && !entry.isExpired ? entry : undefined;
  }

  private anyoneTakes(type: PluginEventType): boolean {
    for (const entry of this.entries.values()) if (entry.enabled && entry.events.includes(type)) return true;
    return false;
  }

  private async expire(entry: HttpPolicyEntry): Promise<void> {
    entry.expire();
    this.forget(entry);
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
    if (removed.errors.length > 0) this.options.log.warn('plugin cleanup incomplete', { plugin: entry.name, errors: removed.errors.join('; ') });
    return removed;
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

function digestOf(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

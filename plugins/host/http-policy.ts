/**
 * A third-party policy over HTTP (out of process). It holds the policy's registration, its token, a bounded queue
 * of events and their way out:
 *   - SSE: the policy's open stream (plugins/host/routes.ts) takes what is queued; one stream at a time, a newer one
 *     replaces the older;
 *   - webhook: one POST in flight at a time carrying up to WEBHOOK_BATCH events, WEBHOOK_TIMEOUT_MS to answer,
 *     failures retried with exponential backoff (1 s → 30 s); each POST is signed (HMAC-SHA256 of the body, keyed
 *     with the token) so the policy can tell it came from this Proxy.
 * Nothing here waits on the policy from the switch's side: deliver() only queues, the stream and the webhook pump
 * run on their own. Lease: a policy shows signs of life (open stream, answered webhook, any request with its token)
 * at least every leaseSeconds, or the registry expires it.
 *
 * Restored after a restart (plugins/host/saved-policies.ts), an entry knows only its token's SHA-256 digest: the
 * registry hands it the token again (learnToken) the first time the policy makes a request with it, and a webhook
 * policy's deliveries — signed with the token — wait until then. Its lease starts again at the restart.
 */
import type { TimerClock } from '../../switch/clock.js';
import { createHash, createHmac } from 'node:crypto';
import type { Logger } from '../../switch/log.js';
import { newCounters, type EntryCounters, type PluginEntry } from './entry.js';
import { EventQueue } from './event-queue.js';
import type { PluginEvent, PluginEventType, PluginState, PluginView, PolicyDelivery, PolicyRegistration } from './plugin.js';
import { DEFAULT_POLICY_RATE_LIMIT, RateLimiter, type Admission, type RateLimitSettings } from './rate-limit.js';

export const DEFAULT_LEASE_S = 30;
export const WEBHOOK_TIMEOUT_MS = 2000;
export const WEBHOOK_BATCH = 64;
const WEBHOOK_BACKOFF_MIN_MS = 1000;
const WEBHOOK_FIRST_DELAY_MS = 500;
const WEBHOOK_BACKOFF_MAX_MS = 30_000;
/** Why a restored webhook policy gets nothing yet. */
const TOKEN_UNKNOWN = 'restored after a restart: deliveries wait for the policy to make a request with its token (only its digest was saved)';

/** Sends one webhook POST; resolves with the HTTP status, rejects on a network error or timeout. */
/** Posts one webhook body; `signal` aborts it (with a TimeoutError reason when it ran out of time). */
export type WebhookPoster = (url: string, body: string, headers: Record<string, string>, signal: AbortSignal) => Promise<number>;

export const fetchPoster: WebhookPoster = async (url, body, headers, signal) => {
  const res = await fetch(url, { method: 'POST', body, headers, signal, redirect: 'manual' });
  await res.body?.cancel();
  return res.status;
};

/** What is kept of a token: its SHA-256, hex (lookups and the saved state see only this). */
export function tokenDigestOf(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function signBody(token: string, body: string): string {
  return `sha256=${createHmac('sha256', token).update(body, 'utf8').digest('hex')}`;
}

/** What an open SSE stream reads: events in order, and how many were dropped before them. */
export interface PolicyStream {
  readonly closed: boolean;
  take(): { dropped: number; events: PluginEvent[] };
  /** Resolves true when something is queued or the stream closed, false after timeoutMs of nothing. */
  wait(timeoutMs: number): Promise<boolean>;
  close(): void;
}

export interface HttpPolicyOptions {
  registration: PolicyRegistration;
  actor: string;
  /** The token (undefined for an entry restored from the saved state: only its digest was saved). */
  token: string | undefined;
  /** SHA-256 of the token, hex: what is saved and looked up (default: computed from `token`). */
  tokenDigest?: string;
  /** Restored: when it was registered (wall clock ms), and whether it had expired. */
  registeredAtWall?: number;
  expired?: boolean;
  registeredBy: string;
  clock: TimerClock;
  wallClock: () => number;
  log: Logger;
  post?: WebhookPoster;
  rateLimit?: RateLimitSettings;
  /** A re-registration keeps the operator's decision (default: enabled). */
  enabled?: boolean;
}

export class HttpPolicyEntry implements PluginEntry {
  readonly kind = 'http' as const;
  readonly name: string;
  readonly actor: string;
  readonly events: readonly PluginEventType[];
  readonly delivery: PolicyDelivery;
  readonly leaseMs: number;
  readonly counters: EntryCounters = newCounters();
  readonly registeredBy: string;
  /** As registered (what the durable state saves). */
  readonly registration: PolicyRegistration;
  readonly tokenDigest: string;
  private token: string | undefined;
  readonly registeredAtWall: number;
  private lastSeenMs: number;
  private lastSeenWall: number | undefined;
  private ownEnabled: boolean;
  private expired = false;
  private answered = false;
  private lastError: string | null = null;
  private readonly queue = new EventQueue();

  get deliveryBreaks(): number {
    return this.queue.breaks;
  }

  private stream: StreamImpl | undefined;
  private readonly limiter: RateLimiter;
  private webhookBusy = false;
  private pumpScheduled = false;
  private heartbeatDue = false;
  private webhookRetryAtMs = 0;
  private webhookBackoffMs = WEBHOOK_BACKOFF_MIN_MS;

  constructor(private readonly options: HttpPolicyOptions) {
    const reg = options.registration;
    this.registration = reg;
    this.name = reg.name;
    this.actor = options.actor;
    this.events = [...reg.events];
    this.delivery = reg.delivery ?? { type: 'sse' };
    this.leaseMs = (reg.leaseSeconds ?? DEFAULT_LEASE_S) * 1000;
    this.token = options.token;
    const digest = options.tokenDigest ?? (options.token === undefined ? undefined : tokenDigestOf(options.token));
    if (digest === undefined) throw new Error(`policy ${reg.name}: neither a token nor its digest`);
    this.tokenDigest = digest;
    this.registeredBy = options.registeredBy;
    this.registeredAtWall = options.registeredAtWall ?? options.wallClock();
    this.expired = options.expired ?? false;
    this.lastSeenMs = options.clock.now();
    this.limiter = new RateLimiter(options.rateLimit ?? DEFAULT_POLICY_RATE_LIMIT);
    this.ownEnabled = options.enabled ?? true;
    // The policy reads its token from the 201 first: deliveries it could not verify yet would only be refused.
    this.webhookRetryAtMs = options.clock.now() + WEBHOOK_FIRST_DELAY_MS;
  }

  get enabled(): boolean {
    return this.ownEnabled;
  }

  get state(): PluginState {
    if (this.expired) return 'expired';
    if (!this.ownEnabled) return 'disabled';
    if (this.delivery.type === 'sse') return this.stream && !this.stream.closed ? 'running' : 'waiting';
    return this.answered ? 'running' : 'waiting';
  }

  get isExpired(): boolean {
    return this.expired;
  }

  /** The registry checked `token` against the digest: a restored entry can sign its webhooks again. */
  learnToken(token: string): void {
    if (this.token !== undefined) return;
    this.token = token;
    if (this.lastError === TOKEN_UNKNOWN) this.lastError = null;
    if (this.delivery.type === 'webhook') this.pumpWebhook();
  }

  deliver(event: PluginEvent): void {
    if (this.expired || !this.ownEnabled) return;
    this.queue.push(event);
    this.counters.dropped = this.queue.totalDropped;
    if (this.delivery.type === 'sse') this.stream?.wake();
    else if (!this.pumpScheduled) {
      // Events published together (a snapshot, a burst) leave in one POST.
      this.pumpScheduled = true;
      setImmediate(() => {
        this.pumpScheduled = false;
        this.pumpWebhook();
      });
    }
  }

  /** A request arrived with this policy's token: it is alive; may it go on? */
  admit(): Admission {
    this.seen();
    this.counters.requests++;
    const admission = this.limiter.admit(this.options.clock.now());
    if (!admission.ok) this.counters.rateLimited++;
    return admission;
  }

  requestDone(): void {
    this.limiter.done();
  }

  /** The policy's SSE stream; a previous one is closed. */
  openStream(initial: readonly PluginEvent[]): PolicyStream {
    this.stream?.close();
    const stream = new StreamImpl(this.queue, () => this.seen(), (n) => (this.counters.delivered += n), this.options.clock);
    // The current state supersedes whatever queued while no stream was open.
    this.queue.clear();
    for (const event of initial) this.queue.push(event);
    this.stream = stream;
    this.seen();
    return stream;
  }

  /** True when the lease ran out (no stream open, nothing heard for leaseSeconds). A disabled policy waits for its operator. */
  leaseExpired(nowMs: number): boolean {
    if (this.expired) return false;
    if (!this.ownEnabled) {
      this.lastSeenMs = nowMs;
      return false;
    }
    if (this.stream && !this.stream.closed) {
      this.lastSeenMs = nowMs;
      return false;
    }
    return nowMs - this.lastSeenMs > this.leaseMs;
  }

  expire(): void {
    this.expired = true;
    this.queue.clear();
    this.stream?.close();
  }

  /**
   * Webhook: retry what is waiting once its backoff has passed (the registry calls this every second); on a quiet
   * overlay, an empty delivery every leaseSeconds/3 keeps the lease of a policy that answers.
   */
  tick(): void {
    if (this.delivery.type !== 'webhook' || this.expired || !this.ownEnabled) return;
    const now = this.options.clock.now();
    if (this.queue.length === 0 && !this.webhookBusy && now - this.lastSeenMs > this.leaseMs / 3) this.heartbeatDue = true;
    this.pumpWebhook();
  }

  async setEnabled(enabled: boolean): Promise<void> {
    this.ownEnabled = enabled;
    if (enabled) this.seen();
    else {
      this.queue.clear();
      this.stream?.close();
    }
  }

  view(): Omit<PluginView, 'owns'> {
    const reg = this.options.registration;
    return {
      name: this.name,
      kind: this.kind,
      ...(reg.description ? { description: reg.description } : {}),
      enabled: this.ownEnabled,
      state: this.state,
      actor: this.actor,
      events: [...this.events],
      delivery: this.delivery,
      leaseSeconds: this.leaseMs / 1000,
      registeredBy: this.registeredBy,
      registeredAt: new Date(this.registeredAtWall).toISOString(),
      lastSeenAt: this.lastSeenWall === undefined ? null : new Date(this.lastSeenWall).toISOString(),
      lastError: this.lastError,
      counters: { ...this.counters },
      status: { queued: this.queue.length },
    };
  }

  async close(): Promise<void> {
    this.expire();
  }

  /** Its lease starts again now (this Proxy just became the active one: the policy has to find it first). */
  leaseFromNow(): void {
    this.seen();
  }

  private seen(): void {
    this.lastSeenMs = this.options.clock.now();
    this.lastSeenWall = this.options.wallClock();
  }

  private pumpWebhook(): void {
    if (this.webhookBusy || (this.queue.length === 0 && !this.heartbeatDue) || this.expired || !this.ownEnabled) return;
    if (this.options.clock.now() < this.webhookRetryAtMs) return;
    const url = this.delivery.url;
    if (url === undefined) return;
    const token = this.token;
    if (token === undefined) {
      this.lastError = TOKEN_UNKNOWN;
      return;
    }
    const batch = this.queue.peek(WEBHOOK_BATCH);
    const body = JSON.stringify({ events: batch });
    const headers = { 'content-type': 'application/json', 'x-vswitch-signature': signBody(token, body), 'x-vswitch-plugin': this.name };
    this.webhookBusy = true;
    this.heartbeatDue = false;
    // The timeout runs on the daemon's clock (a test's manual clock too), not on a timer of fetch's own.
    const abort = new AbortController();
    const timeout = this.options.clock.after(WEBHOOK_TIMEOUT_MS, () => abort.abort(new DOMException(`no answer within ${WEBHOOK_TIMEOUT_MS} ms`, 'TimeoutError')));
    (this.options.post ?? fetchPoster)(url, body, headers, abort.signal)
      .then(
        (status) => {
          if (status >= 200 && status < 300) {
            this.queue.remove(batch);
            this.counters.delivered += batch.length;
            this.answered = true;
            this.webhookBackoffMs = WEBHOOK_BACKOFF_MIN_MS;
            this.webhookRetryAtMs = 0;
            this.seen();
          } else {
            this.failWebhook(`webhook answered HTTP ${status}`);
          }
        },
        (err: Error) => this.failWebhook(`webhook: ${err.name === 'TimeoutError' ? `no answer within ${WEBHOOK_TIMEOUT_MS} ms` : err.message}`),
      )
      .finally(() => {
        timeout.cancel();
        this.webhookBusy = false;
        this.pumpWebhook();
      });
  }

  private failWebhook(message: string): void {
    this.counters.errors++;
    this.answered = false;
    if (message !== this.lastError) this.options.log.warn('policy webhook failed', { plugin: this.name, err: message });
    this.lastError = message;
    this.webhookRetryAtMs = this.options.clock.now() + this.webhookBackoffMs;
    this.webhookBackoffMs = Math.min(WEBHOOK_BACKOFF_MAX_MS, this.webhookBackoffMs * 2);
  }
}

class StreamImpl implements PolicyStream {
  closed = false;
  private waker: (() => void) | undefined;

  constructor(
    private readonly queue: EventQueue,
    private readonly onRead: () => void,
    private readonly onDelivered: (n: number) => void,
    private readonly clock: TimerClock,
  ) {}

  take(): { dropped: number; events: PluginEvent[] } {
    const events: PluginEvent[] = [];
    if (this.closed) return { dropped: 0, events };
    for (let e = this.queue.shift(); e !== undefined; e = this.queue.shift()) events.push(e);
    this.onRead();
    this.onDelivered(events.length);
    return { dropped: this.queue.takeDropped(), events };
  }

  wait(timeoutMs: number): Promise<boolean> {
    if (this.closed || this.queue.length > 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (woken: boolean): void => {
        timer.cancel();
        if (this.waker === wake) this.waker = undefined;
        resolve(woken);
      };
      const wake = (): void => finish(true);
      const timer = this.clock.after(timeoutMs, () => finish(false));
      this.waker = wake;
    });
  }

  wake(): void {
    this.waker?.();
  }

  close(): void {
    this.closed = true;
    this.wake();
  }
}

/**
 * A plugin running inside the Proxy (a built-in, or a module named in the config). Events go through a bounded
 * queue, one at a time, in order; a thrown error or a rejected promise is counted, a promise that does not settle
 * within EVENT_TIMEOUT_MS is given up on, and after MAX_CONSECUTIVE_ERRORS failures in a row the plugin is marked
 * `failed` and gets nothing more until it is disabled and enabled again.
 */
import type { Timer } from '../../switch/clock.js';
import { pluginEvent, type EventSink } from '../../switch/events.js';
import type { Logger } from '../../switch/log.js';
import { newCounters, type EntryCounters, type PluginEntry } from './entry.js';
import { EventQueue } from './event-queue.js';
import type { PluginContext, PluginEvent, PluginEventType, PluginKind, PluginState, PluginView, VswitchPlugin } from './plugin.js';

export const EVENT_TIMEOUT_MS = 10_000;
export const MAX_CONSECUTIVE_ERRORS = 10;

export interface InProcessEntryOptions {
  name: string;
  kind: Extract<PluginKind, 'builtin' | 'module'>;
  plugin: VswitchPlugin;
  context: PluginContext;
  enabled: boolean;
  log: Logger;
  /** Where `plugin-failed` is raised (switch/events.ts); absent: nowhere. */
  events?: EventSink;
  /** When the plugin keeps its own on/off switch (the fast-path plugin's settings), it is the truth. */
  isEnabled?: () => boolean;
}

export class InProcessEntry implements PluginEntry {
  readonly name: string;
  readonly kind: Extract<PluginKind, 'builtin' | 'module'>;
  readonly actor: string;
  readonly events: readonly PluginEventType[];
  readonly counters: EntryCounters = newCounters();
  private ownEnabled: boolean;
  private failed = false;
  private lastError: string | null = null;
  private consecutiveErrors = 0;
  private readonly queue = new EventQueue();

  get deliveryBreaks(): number {
    return this.queue.breaks;
  }

  private pumping = false;

  constructor(private readonly options: InProcessEntryOptions) {
    this.name = options.name;
    this.kind = options.kind;
    this.actor = options.context.actor.name;
    this.events = [...options.plugin.events];
    this.ownEnabled = options.enabled;
  }

  get enabled(): boolean {
    return this.options.isEnabled ? this.options.isEnabled() : this.ownEnabled;
  }

  get state(): PluginState {
    if (!this.enabled) return 'disabled';
    return this.failed ? 'failed' : 'running';
  }

  /** Starts the plugin if it is enabled; a start that throws leaves it failed (the daemon still comes up). */
  async init(): Promise<void> {
    if (this.ownEnabled) await this.start();
  }

  deliver(event: PluginEvent): void {
    if (this.state !== 'running' || !this.options.plugin.onEvent) return;
    this.queue.push(event);
    this.counters.dropped = this.queue.totalDropped;
    if (!this.pumping) void this.pump();
  }

  async setEnabled(enabled: boolean): Promise<void> {
    if (enabled === this.enabled && !(enabled && this.failed)) return;
    if (enabled) {
      this.failed = false;
      this.consecutiveErrors = 0;
      this.ownEnabled = true;
      await this.start();
    } else {
      this.ownEnabled = false;
      this.queue.clear();
      await this.guard('stop', () => this.options.plugin.stop());
    }
  }

  view(): Omit<PluginView, 'owns'> {
    const status = this.safeStatus();
    return {
      name: this.name,
      kind: this.kind,
      ...(this.options.plugin.description ? { description: this.options.plugin.description } : {}),
      enabled: this.enabled,
      state: this.state,
      actor: this.actor,
      events: [...this.events],
      lastError: this.lastError,
      counters: { ...this.counters },
      ...(status ? { status } : {}),
    };
  }

  async close(): Promise<void> {
    this.queue.clear();
    const plugin = this.options.plugin;
    if (plugin.close) await this.guard('close', () => plugin.close!());
    else if (this.enabled) await this.guard('stop', () => plugin.stop());
  }

  private async start(): Promise<void> {
    const ok = await this.guard('start', () => this.options.plugin.start(this.options.context));
    if (!ok) this.failed = true;
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      for (let event = this.queue.shift(); event !== undefined; event = this.queue.shift()) {
        if (this.state !== 'running') break;
        const ok = await this.guard(`event ${event.type}`, () => this.options.plugin.onEvent?.(event));
        if (ok) {
          this.counters.delivered++;
          this.consecutiveErrors = 0;
        } else if (++this.consecutiveErrors >= MAX_CONSECUTIVE_ERRORS) {
          this.failed = true;
          const failed = { plugin: this.name, errors: this.consecutiveErrors };
          this.options.log.warn('plugin failed: too many errors in a row, no more events until re-enabled', failed);
          this.options.events?.emit(pluginEvent('plugin-failed', 'warn', `plugin ${this.name} failed: ${failed.errors} errors in a row, no more events until re-enabled`, failed));
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Runs one call into the plugin: never throws, never waits longer than EVENT_TIMEOUT_MS. */
  private async guard(what: string, call: () => void | Promise<void>): Promise<boolean> {
    let timer: Timer | undefined;
    try {
      const result = call();
      if (result instanceof Promise) {
        await Promise.race([
          result,
          new Promise((_, reject) => {
            timer = this.options.context.clock.after(EVENT_TIMEOUT_MS, () => reject(new Error(`${what} did not finish within ${EVENT_TIMEOUT_MS} ms`)));
          }),
        ]);
      }
      return true;
    } catch (err) {
      this.counters.errors++;
      this.lastError = `${what}: ${(err as Error).message}`;
      this.options.log.warn('plugin error', { plugin: this.name, what, err });
      return false;
    } finally {
      timer?.cancel();
    }
  }

  private safeStatus(): Record<string, unknown> | undefined {
    try {
      return this.options.plugin.status?.();
    } catch (err) {
      return { error: (err as Error).message };
    }
  }
}

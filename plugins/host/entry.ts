/**
 * One registered plugin as the registry sees it, whatever its kind: what it takes, whether it is on, its counters,
 * and how an event reaches it. InProcessEntry (built-ins and config modules) and HttpPolicyEntry (http-policy.ts)
 * implement it.
 */
import type { PluginEvent, PluginEventType, PluginKind, PluginState, PluginView } from './plugin.js';

export interface EntryCounters {
  delivered: number;
  dropped: number;
  errors: number;
  requests: number;
  rateLimited: number;
}

export const newCounters = (): EntryCounters => ({ delivered: 0, dropped: 0, errors: 0, requests: 0, rateLimited: 0 });

export interface PluginEntry {
  readonly name: string;
  readonly kind: PluginKind;
  /** The actor its changes carry. */
  readonly actor: string;
  readonly events: readonly PluginEventType[];
  readonly enabled: boolean;
  readonly state: PluginState;
  readonly counters: EntryCounters;
  /** Grows whenever events queued for it were lost (dropped, cleared, a new stream): per-subscriber events start over. */
  readonly deliveryBreaks: number;
  /** Queue one event (the registry only hands it the types it takes, and only while enabled). */
  deliver(event: PluginEvent): void;
  /** Turn it on or off; the registry removes what it owns after turning it off. */
  setEnabled(enabled: boolean): Promise<void>;
  /** Everything but `owns`, which the registry adds. */
  view(): Omit<PluginView, 'owns'>;
  close(): Promise<void>;
}

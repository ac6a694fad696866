/**
 * The daemon's event log: the last N things an operator wants to see happen
 * (links up and down, transport switches, ports down and back, rules and
 * links added or deleted, topology changes, adaptations, policy actions), kept
 * in memory for the dashboard (`GET /v1/events` replays them, then streams new
 * ones).
 *
 * Design: the ring follows the daemon's EventBus (switch/events.ts), never its
 * logger: each typed event becomes one entry, named by `eventName`, said in
 * words by `describeEvent` (its `msg`), with the event's fields. What a log
 * line says changes nothing here.
 * The ring holds `capacity` events (200); the oldest falls out. Fields are
 * copied flat and JSON-safe (errors become their message, long strings are
 * cut), so one event stays small whatever a site passes.
 * Time is injected (`wallClock`), as everywhere in the switch.
 */
import { describeEvent, eventFields, eventName, levelOf, type EventBus, type EventFieldValue, type EventLevel, type SwitchEvent } from './events.js';

export type { EventFieldValue, EventLevel } from './events.js';

export const EVENT_LOG_CAPACITY = 200;
const MAX_FIELD_CHARS = 200;
const MAX_FIELDS = 16;

export interface LoggedEvent {
  /** 1, 2, 3… in order of recording; never reused while the daemon runs. */
  seq: number;
  /** Wall-clock time, ISO 8601. */
  at: string;
  level: EventLevel;
  /** Kebab-case event name: "link-up", "transport-switch", "rule-added"… */
  event: string;
  msg: string;
  fields: Record<string, EventFieldValue>;
}

export type LoggedEventListener = (event: LoggedEvent) => void;

export interface EventLogOptions {
  capacity?: number;
  wallClock: () => number;
}

export class EventLog {
  private readonly ring: (LoggedEvent | undefined)[];
  private nextSeq = 1;
  private readonly listeners = new Set<LoggedEventListener>();

  constructor(private readonly options: EventLogOptions) {
    this.ring = new Array<LoggedEvent | undefined>(Math.max(1, options.capacity ?? EVENT_LOG_CAPACITY)).fill(undefined);
  }

  get capacity(): number {
    return this.ring.length;
  }

  /** Records one event and tells every listener. A listener that throws is removed, never the recording. */
  record(level: EventLevel, event: string, msg: string, fields: Readonly<Record<string, unknown>> = {}): LoggedEvent {
    const entry: LoggedEvent = {
      seq: this.nextSeq++,
      at: new Date(this.options.wallClock()).toISOString(),
      level,
      event,
      msg,
      fields: flatFields(fields),
    };
    this.ring[entry.seq % this.ring.length] = entry;
    for (const listener of this.listeners) {
      try {
        listener(entry);
      } catch {
        // A broken subscriber (a closed stream) must not stop the recording: drop it.
        this.listeners.delete(listener);
      }
    }
    return entry;
  }

  /** Records one typed event: its name, level, description and fields. */
  add(event: SwitchEvent): LoggedEvent {
    return this.record(levelOf(event), eventName(event), describeEvent(event), eventFields(event));
  }

  /** Records every event raised on `bus` from now on, until the returned function is called. */
  follow(bus: EventBus): () => void {
    return bus.subscribe((event) => {
      this.add(event);
    });
  }

  /** The events still held, oldest first; only those after `afterSeq` when given. */
  list(afterSeq = 0): LoggedEvent[] {
    const out: LoggedEvent[] = [];
    const first = Math.max(afterSeq + 1, this.nextSeq - this.ring.length);
    for (let seq = first; seq < this.nextSeq; seq++) {
      const e = this.ring[seq % this.ring.length];
      if (e !== undefined && e.seq === seq) out.push(e);
    }
    return out;
  }

  /** Calls `listener` for every new event until the returned function is called. */
  subscribe(listener: LoggedEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscribers(): number {
    return this.listeners.size;
  }
}

function flatFields(fields: Readonly<Record<string, unknown>>): Record<string, EventFieldValue> {
  const out: Record<string, EventFieldValue> = {};
  let n = 0;
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (++n > MAX_FIELDS) break;
    out[key] = flatValue(value);
  }
  return out;
}

function flatValue(value: unknown): EventFieldValue {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'string') return cut(value);
  if (value instanceof Error) return cut(value.message);
  try {
    return cut(JSON.stringify(value) ?? String(value));
  } catch {
    return cut(String(value));
  }
}

function cut(text: string): string {
  return text.length <= MAX_FIELD_CHARS ? text : `${text.slice(0, MAX_FIELD_CHARS - 1)}…`;
}

/**
 * The daemon's event log: the last N things an operator wants to see happen
 * (links up and down, transport switches, ports down and back, rules and
 * links added or deleted, topology changes, adaptations, policy actions), kept
 * in memory for the dashboard (`GET /v1/events` replays them, then streams new
 * ones).
 *
 * Design: events are not a second logging system. They are log records,
 * picked out by a Logger wrapper (`teeEvents`) that passes every record on to
 * the real logger unchanged and copies info and warn records that are events
 * into a ring buffer:
 *   - a record whose fields carry `event: "<kebab-name>"` is an event
 *     (new log sites say so: `log.info('fast path added', { event: 'fastpath-up', … })`);
 *   - records of the log sites that predate this file are recognised by their
 *     constant message (EVENT_BY_MESSAGE), until those sites add an `event`
 *     field themselves.
 * The ring holds `capacity` events (200); the oldest falls out. Fields are
 * copied flat and JSON-safe (errors become their message, long strings are
 * cut), so one event stays small whatever a log site passes.
 * Time is injected (`wallClock`), as everywhere in the switch.
 */
import type { LogFields, Logger } from './log.js';

export const EVENT_LOG_CAPACITY = 200;
const MAX_FIELD_CHARS = 200;
const MAX_FIELDS = 16;

/** Log messages of existing log sites that are events, and the event name each one is. */
export const EVENT_BY_MESSAGE: Readonly<Record<string, string>> = {
  'link up': 'link-up',
  'link down': 'link-down',
  'link transport': 'transport-switch',
  'link added': 'link-added',
  'link deleted': 'link-deleted',
  'rule added': 'rule-added',
  'rule deleted': 'rule-deleted',
  'port down': 'port-down',
  'port recovered': 'port-up',
  'star link silent: re-handshaking with the proxy': 'star-silent',
  'daemon up': 'daemon-up',
};

export type EventLevel = 'info' | 'warn';
export type EventFieldValue = string | number | boolean | null;

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

export type EventListener = (event: LoggedEvent) => void;

export interface EventLogOptions {
  capacity?: number;
  wallClock: () => number;
}

export class EventLog {
  private readonly ring: (LoggedEvent | undefined)[];
  private nextSeq = 1;
  private readonly listeners = new Set<EventListener>();

  constructor(private readonly options: EventLogOptions) {
    this.ring = new Array<LoggedEvent | undefined>(Math.max(1, options.capacity ?? EVENT_LOG_CAPACITY)).fill(undefined);
  }

  get capacity(): number {
    return this.ring.length;
  }

  /** Records one event and tells every listener. A listener that throws is removed, never the recording. */
  record(level: EventLevel, event: string, msg: string, fields: LogFields = {}): LoggedEvent {
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
        // A broken subscriber (a closed stream) must not stop the daemon's logging: drop it.
        this.listeners.delete(listener);
      }
    }
    return entry;
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
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscribers(): number {
    return this.listeners.size;
  }
}

/** The event a log record is, if any: its `event` field, else its message's entry in EVENT_BY_MESSAGE. */
export function eventOf(msg: string, fields: LogFields | undefined): string | undefined {
  const named = fields?.['event'];
  if (typeof named === 'string' && named !== '') return named;
  return EVENT_BY_MESSAGE[msg];
}

/**
 * A Logger that logs through `log` and copies info and warn records that are
 * events into `events`. Children tee too, and keep their bound fields in the event.
 */
export function teeEvents(log: Logger, events: EventLog, bound: LogFields = {}): Logger {
  const copy = (level: EventLevel, msg: string, fields?: LogFields): void => {
    const event = eventOf(msg, fields);
    if (event === undefined) return;
    const { event: _named, ...rest } = { ...bound, ...fields };
    events.record(level, event, msg, rest);
  };
  return {
    debug: (msg, fields) => log.debug(msg, fields),
    info: (msg, fields) => {
      log.info(msg, fields);
      copy('info', msg, fields);
    },
    warn: (msg, fields) => {
      log.warn(msg, fields);
      copy('warn', msg, fields);
    },
    error: (msg, fields) => log.error(msg, fields),
    child: (fields) => teeEvents(log.child(fields), events, { ...bound, ...fields }),
  };
}

function flatFields(fields: LogFields): Record<string, EventFieldValue> {
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

/**
 * The switch's events: the things an operator wants to see happen and the daemon reacts to, as typed values.
 * Links, ports, the datapath, the primitives and the overlay raise them on an EventSink they are given (an
 * optional `events` option; without one nothing is raised and nothing breaks); the daemon gives them one EventBus.
 * Its subscribers are the dashboard's ring (switch/event-log.ts) and the daemon's own reactions (a link up or
 * down is reported to the Proxy at once).
 *
 * Events are not log records: a site logs for humans (the text is free to change) and raises its event; nothing
 * reads an event out of a log line. Plugins raise their own events as one generic kind, `plugin-event`, named by
 * the plugin ("fastpath-link-added", "topology-change"…), so a plugin needs no type of its own here.
 *
 * One function, describeEvent, says an event in words (the ring's `msg`); levelOf and eventName give its level
 * and name; eventFields its fields without the type.
 */
import type { SelectedTransport, TransportSwitchReason } from './link/transport/transport-selector.js';

export type EventLevel = 'info' | 'warn';
export type EventFieldValue = string | number | boolean | null;

/** A link's session came up (a handshake completed on a link that was not up); `via`: where the peer is. */
export interface LinkUpEvent {
  readonly type: 'link-up';
  readonly link: string;
  readonly via?: string;
}

/** A link that was up lost its session. */
export interface LinkDownEvent {
  readonly type: 'link-down';
  readonly link: string;
  readonly reason: string;
}

/** A link moved from one transport to the other (UDP unanswered → TCP, UDP answered again → UDP, peer moved). */
export interface TransportSwitchEvent {
  readonly type: 'transport-switch';
  readonly link: string;
  readonly from: SelectedTransport;
  readonly to: SelectedTransport;
  readonly reason: TransportSwitchReason;
}

/** A link added through the primitives, by `by` (an actor). */
export interface LinkAddedEvent {
  readonly type: 'link-added';
  readonly link: string;
  readonly endpoint?: string;
  readonly by: string;
}

export interface LinkDeletedEvent {
  readonly type: 'link-deleted';
  readonly link: string;
  readonly by: string;
}

/** A rule added through the primitives; src, dst and target as the request gave them. */
export interface RuleAddedEvent {
  readonly type: 'rule-added';
  readonly rule: number;
  readonly src: string;
  readonly dst: string;
  readonly target: string;
  readonly by: string;
}

export interface RuleDeletedEvent {
  readonly type: 'rule-deleted';
  readonly rule: number;
  readonly by: string;
}

/** A port added through the primitives (`vswitch port add`, a QEMU ifup hook), by `by` (an actor). */
export interface PortAddedEvent {
  readonly type: 'port-added';
  readonly port: string;
  readonly kind: 'tap' | 'capture';
  /** A capture port: the interface it captures. */
  readonly interface?: string;
  readonly by: string;
}

/** A port deleted through the primitives; `rules`: how many policies' rules toward it went with it. */
export interface PortDeletedEvent {
  readonly type: 'port-deleted';
  readonly port: string;
  readonly rules: number;
  readonly by: string;
}

/** A port's device failed; the datapath stopped using it. */
export interface PortDownEvent {
  readonly type: 'port-down';
  readonly port: string;
  readonly error: string;
}

/** A failed port reopened and carries traffic again. */
export interface PortUpEvent {
  readonly type: 'port-up';
  readonly port: string;
}

/** A host heard nothing from its Proxy and re-handshakes the star link (`retry`: how many times so far). */
export interface StarSilentEvent {
  readonly type: 'star-silent';
  readonly link: string;
  readonly retry: number;
}

/** The daemon started: all its ports, links, plugins and its API are up. */
export interface DaemonUpEvent {
  readonly type: 'daemon-up';
  readonly name: string;
  readonly role: string;
  readonly ports: number;
}

/**
 * The Proxy saw a VM arrive on another host (`to`) than the one it knew it behind (`from`): a live migration or a
 * moved namespace VM. Raised once per move, at detection, before any host has acted — the plugins react to it at
 * once; `vm-move-converged` follows with the time it took. `from`/`to` are host names (the Proxy's own name for a
 * VM on one of its ports).
 */
export interface VmMovedEvent {
  readonly type: 'vm-moved';
  readonly mac: string;
  readonly from: string;
  readonly to: string;
}

/**
 * A move announced by `vm-moved` is followed everywhere: every host the Proxy told has acknowledged and the
 * plugins' stale state (the fast path's rules toward `from`) is gone, `convergeMs` after detection. At the deadline
 * (switch/overlay/proxy-moves.ts) it is raised anyway with `complete: false` and the hosts that never answered.
 */
export interface VmMoveConvergedEvent {
  readonly type: 'vm-move-converged';
  readonly mac: string;
  readonly from: string;
  readonly to: string;
  readonly convergeMs: number;
  /** Hosts told. */
  readonly hosts: number;
  readonly complete: boolean;
  /** The hosts that did not acknowledge, comma-separated (only when incomplete). */
  readonly unacked?: string;
}

/** A host joined the overlay with a join token (the Proxy added its star link); `from`: the join's source address. */
export interface HostJoinedEvent {
  readonly type: 'host-joined';
  readonly host: string;
  readonly token: string;
  readonly from: string;
}

/** An operator removed a joined host (its star link went with it). */
export interface HostRemovedEvent {
  readonly type: 'host-removed';
  readonly host: string;
  readonly by: string;
}

/** What a plugin event's fields may hold: JSON-ready values and lists of strings. */
export type PluginEventFields = Readonly<Record<string, EventFieldValue | readonly string[] | undefined>>;

/**
 * A plugin's own event. Its `name` is the plugin's kebab-case name for it ("fastpath-link-added", "plugin-expired",
 * "topology-change"), shown as the event's name in the ring; `message` says it in words.
 */
export interface PluginOwnEvent {
  readonly type: 'plugin-event';
  readonly name: string;
  readonly level: EventLevel;
  readonly message: string;
  readonly fields: PluginEventFields;
}

export type SwitchEvent =
  | LinkUpEvent
  | LinkDownEvent
  | TransportSwitchEvent
  | LinkAddedEvent
  | LinkDeletedEvent
  | RuleAddedEvent
  | RuleDeletedEvent
  | PortAddedEvent
  | PortDeletedEvent
  | PortDownEvent
  | PortUpEvent
  | StarSilentEvent
  | DaemonUpEvent
  | VmMovedEvent
  | VmMoveConvergedEvent
  | HostJoinedEvent
  | HostRemovedEvent
  | PluginOwnEvent;

export type SwitchEventType = SwitchEvent['type'];
export type SwitchEventOf<T extends SwitchEventType> = Extract<SwitchEvent, { type: T }>;

/** Where events are raised into. */
export interface EventSink {
  emit(event: SwitchEvent): void;
}

/** A sink that drops everything (a component given none raises into this). */
export const NO_EVENTS: EventSink = { emit: () => {} };

/** A plugin's own event (see PluginOwnEvent). */
export function pluginEvent(name: string, level: EventLevel, message: string, fields: PluginEventFields = {}): PluginOwnEvent {
  return { type: 'plugin-event', name, level, message, fields };
}

export type EventListener = (event: SwitchEvent) => void;

export interface EventBusOptions {
  /** A subscriber threw and was dropped (the daemon logs it); a throw here is ignored. */
  onDropped?(err: unknown, event: SwitchEvent): void;
}

/**
 * Hands every event to every subscriber, synchronously, in subscription order. A subscriber that throws is
 * dropped and never stops the emitter or the other subscribers. A subscriber added while an event is handed out
 * gets the next one; one removed meanwhile gets no more.
 */
export class EventBus implements EventSink {
  private readonly listeners = new Set<EventListener>();

  constructor(private readonly options: EventBusOptions = {}) {}

  emit(event: SwitchEvent): void {
    if (this.listeners.size === 0) return;
    for (const listener of [...this.listeners]) {
      if (!this.listeners.has(listener)) continue;
      try {
        listener(event);
      } catch (err) {
        this.listeners.delete(listener);
        try {
          this.options.onDropped?.(err, event);
        } catch {
          // the emitter goes on whatever happens
        }
      }
    }
  }

  /** Calls `listener` with every event until the returned function is called. */
  subscribe(listener: EventListener): () => void {
    // One entry per subscription, even for the same function twice.
    const entry: EventListener = (event) => listener(event);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  /** Calls `listener` with the events of `types` only. */
  on<T extends SwitchEventType>(types: T | readonly T[], listener: (event: SwitchEventOf<T>) => void): () => void {
    const wanted: ReadonlySet<SwitchEventType> = new Set<SwitchEventType>(typeof types === 'string' ? [types] : types);
    return this.subscribe((event) => {
      if (wanted.has(event.type)) listener(event as SwitchEventOf<T>);
    });
  }

  get subscribers(): number {
    return this.listeners.size;
  }
}

const LEVEL: Readonly<Record<Exclude<SwitchEventType, 'plugin-event' | 'vm-move-converged'>, EventLevel>> = {
  'link-up': 'info',
  'link-down': 'warn',
  'transport-switch': 'info',
  'link-added': 'info',
  'link-deleted': 'info',
  'rule-added': 'info',
  'rule-deleted': 'info',
  'port-added': 'info',
  'port-deleted': 'info',
  'port-down': 'warn',
  'port-up': 'info',
  'star-silent': 'info',
  'daemon-up': 'info',
  'vm-moved': 'info',
  'host-joined': 'info',
  'host-removed': 'info',
};

export function levelOf(event: SwitchEvent): EventLevel {
  if (event.type === 'plugin-event') return event.level;
  if (event.type === 'vm-move-converged') return event.complete ? 'info' : 'warn';
  return LEVEL[event.type];
}

/** The event's kebab-case name: its type, or a plugin event's own name. */
export function eventName(event: SwitchEvent): string {
  return event.type === 'plugin-event' ? event.name : event.type;
}

/** The event's fields: everything but its type (a plugin event: its fields). Undefined ones are left out. */
export function eventFields(event: SwitchEvent): Record<string, unknown> {
  const fields: object = event.type === 'plugin-event' ? event.fields : event;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined && (event.type === 'plugin-event' || key !== 'type')) out[key] = value;
  }
  return out;
}

/** The event in words, for people (the dashboard ring's `msg`). */
export function describeEvent(event: SwitchEvent): string {
  switch (event.type) {
    case 'link-up':
      return `link ${event.link} up${event.via === undefined ? '' : ` via ${event.via}`}`;
    case 'link-down':
      return `link ${event.link} down: ${event.reason}`;
    case 'transport-switch':
      return `link ${event.link} moved from ${event.from.toUpperCase()} to ${event.to.toUpperCase()} (${event.reason})`;
    case 'link-added':
      return `link ${event.link} added by ${event.by}${event.endpoint === undefined ? '' : ` (to ${event.endpoint})`}`;
    case 'link-deleted':
      return `link ${event.link} deleted by ${event.by}`;
    case 'rule-added':
      return `rule ${event.rule} added by ${event.by}: ${event.src} → ${event.dst} to ${event.target}`;
    case 'rule-deleted':
      return `rule ${event.rule} deleted by ${event.by}`;
    case 'port-added':
      return `port ${event.port} added by ${event.by} (${event.kind}${event.interface === undefined ? '' : ` on ${event.interface}`})`;
    case 'port-deleted':
      return `port ${event.port} deleted by ${event.by}${event.rules === 0 ? '' : ` with ${event.rules} policy rule${event.rules === 1 ? '' : 's'} toward it`}`;
    case 'port-down':
      return `port ${event.port} down: ${event.error}`;
    case 'port-up':
      return `port ${event.port} back up`;
    case 'star-silent':
      return `star link ${event.link} silent: re-handshaking with the proxy (try ${event.retry})`;
    case 'daemon-up':
      return `daemon ${event.name} up (${event.role}, ${event.ports} port${event.ports === 1 ? '' : 's'})`;
    case 'vm-moved':
      return `VM ${event.mac} moved from ${event.from} to ${event.to}`;
    case 'vm-move-converged':
      return event.complete
        ? `VM ${event.mac} followed to ${event.to} everywhere in ${event.convergeMs} ms (${event.hosts} host${event.hosts === 1 ? '' : 's'})`
        : `VM ${event.mac} move to ${event.to} not acknowledged by ${event.unacked ?? 'the plugins'} within ${event.convergeMs} ms`;
    case 'host-joined':
      return `host ${event.host} joined from ${event.from} (token ${event.token})`;
    case 'host-removed':
      return `joined host ${event.host} removed by ${event.by}`;
    case 'plugin-event':
      return event.message;
  }
}

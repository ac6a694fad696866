import { describe, expect, it } from 'vitest';
import {
  describeEvent,
  EventBus,
  eventFields,
  eventName,
  levelOf,
  NO_EVENTS,
  pluginEvent,
  type SwitchEvent,
  type SwitchEventType,
} from '../../switch/events.js';

/** One event of every type (the compiler checks the list is whole: see EVERY_TYPE). */
const ONE_OF_EACH: readonly SwitchEvent[] = [
  { type: 'link-up', link: 'proxy', via: 'udp:198.18.1.1:51820' },
  { type: 'link-down', link: 'proxy', reason: 'session expired' },
  { type: 'transport-switch', link: 'proxy', from: 'udp', to: 'tcp', reason: 'udp-unanswered' },
  { type: 'link-added', link: 'fp-h2', endpoint: '198.18.0.2:51820', by: 'proxy:fastpath' },
  { type: 'link-deleted', link: 'fp-h2', by: 'admin' },
  { type: 'rule-added', rule: 7, src: '02:00:00:00:00:01', dst: 'any', target: 'fp-h2', by: 'local' },
  { type: 'rule-deleted', rule: 7, by: 'local' },
  { type: 'port-added', port: 'qvm1', kind: 'capture', interface: 'qvm1', by: 'local' },
  { type: 'port-deleted', port: 'qvm1', rules: 1, by: 'local' },
  { type: 'port-down', port: 'tap0', error: 'ENODEV' },
  { type: 'port-up', port: 'tap0' },
  { type: 'star-silent', link: 'proxy', retry: 2 },
  { type: 'daemon-up', name: 'h1', role: 'host', ports: 1 },
  { type: 'vm-moved', mac: '02:00:c6:13:01:01', from: 'h1', to: 'h2' },
  { type: 'vm-move-converged', mac: '02:00:c6:13:01:01', from: 'h1', to: 'h2', convergeMs: 12, hosts: 3, complete: true },
  { type: 'host-joined', host: 'h9', token: '0123456789abcdef', from: '198.18.0.9' },
  { type: 'host-removed', host: 'h9', by: 'ops' },
  pluginEvent('fastpath-link-added', 'info', 'fast link h1–h2 added', { a: 'h1', b: 'h2' }),
];
const EVERY_TYPE: Record<SwitchEventType, true> = {
  'link-up': true,
  'link-down': true,
  'transport-switch': true,
  'link-added': true,
  'link-deleted': true,
  'rule-added': true,
  'rule-deleted': true,
  'port-added': true,
  'port-deleted': true,
  'port-down': true,
  'port-up': true,
  'star-silent': true,
  'daemon-up': true,
  'vm-moved': true,
  'vm-move-converged': true,
  'host-joined': true,
  'host-removed': true,
  'plugin-event': true,
};

describe('EventBus', () => {
  it('hands every event to every subscriber, in order, until it unsubscribes', () => {
    const bus = new EventBus();
    const a: SwitchEvent[] = [];
    const b: SwitchEvent[] = [];
    const offA = bus.subscribe((e) => a.push(e));
    bus.subscribe((e) => b.push(e));
    bus.emit(ONE_OF_EACH[0]!);
    offA();
    bus.emit(ONE_OF_EACH[1]!);
    expect(a).toEqual([ONE_OF_EACH[0]]);
    expect(b).toEqual([ONE_OF_EACH[0], ONE_OF_EACH[1]]);
    expect(bus.subscribers).toBe(1);
  });

  it('drops a subscriber that throws; the emitter and the other subscribers go on', () => {
    const dropped: [unknown, SwitchEvent][] = [];
    const bus = new EventBus({ onDropped: (err, event) => dropped.push([err, event]) });
    const seen: string[] = [];
    bus.subscribe(() => {
      throw new Error('closed stream');
    });
    bus.subscribe((e) => seen.push(e.type));
    expect(() => bus.emit({ type: 'port-up', port: 'p1' })).not.toThrow();
    bus.emit({ type: 'port-up', port: 'p2' });
    expect(seen).toEqual(['port-up', 'port-up']);
    expect(bus.subscribers).toBe(1);
    expect(dropped).toEqual([[new Error('closed stream'), { type: 'port-up', port: 'p1' }]]);
  });

  it('a throwing onDropped does not stop the emitter either', () => {
    const bus = new EventBus({
      onDropped: () => {
        throw new Error('log broken');
      },
    });
    const seen: string[] = [];
    bus.subscribe(() => {
      throw new Error('x');
    });
    bus.subscribe((e) => seen.push(e.type));
    expect(() => bus.emit({ type: 'port-up', port: 'p1' })).not.toThrow();
    expect(seen).toEqual(['port-up']);
  });

  it('subscribes by type: one or several, and hands them over typed', () => {
    const bus = new EventBus();
    const links: string[] = [];
    const ports: string[] = [];
    bus.on(['link-up', 'link-down'], (e) => links.push(`${e.type} ${e.link}`));
    bus.on('port-down', (e) => ports.push(`${e.port}: ${e.error}`));
    for (const e of ONE_OF_EACH) bus.emit(e);
    expect(links).toEqual(['link-up proxy', 'link-down proxy']);
    expect(ports).toEqual(['tap0: ENODEV']);
  });

  it('a subscriber added while an event is handed out gets the next one; one removed meanwhile gets no more', () => {
    const bus = new EventBus();
    const late: string[] = [];
    const removed: string[] = [];
    let offRemoved: () => void = () => {};
    bus.subscribe(() => {
      offRemoved();
      bus.subscribe((e) => late.push(e.type));
    });
    offRemoved = bus.subscribe((e) => removed.push(e.type));
    bus.emit({ type: 'port-up', port: 'p1' });
    expect(late).toEqual([]);
    expect(removed).toEqual([]);
    bus.emit({ type: 'port-down', port: 'p1', error: 'gone' });
    expect(late).toEqual(['port-down']);
  });

  it('the same function subscribed twice is two subscriptions', () => {
    const bus = new EventBus();
    let calls = 0;
    const listener = (): void => void calls++;
    const off = bus.subscribe(listener);
    bus.subscribe(listener);
    bus.emit({ type: 'port-up', port: 'p1' });
    off();
    bus.emit({ type: 'port-up', port: 'p1' });
    expect(calls).toBe(3);
  });

  it('NO_EVENTS takes anything and does nothing', () => {
    expect(() => NO_EVENTS.emit({ type: 'port-up', port: 'p1' })).not.toThrow();
  });
});

describe('an event as the ring shows it', () => {
  it('every type has a level, a name, its fields without the type and a description', () => {
    expect(new Set(ONE_OF_EACH.map((e) => e.type))).toEqual(new Set(Object.keys(EVERY_TYPE)));
    for (const e of ONE_OF_EACH) {
      expect(['info', 'warn']).toContain(levelOf(e));
      expect(eventName(e)).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(eventFields(e)).not.toHaveProperty('type');
      expect(describeEvent(e).length).toBeGreaterThan(0);
    }
  });

  it('a link or port going down is a warning; the rest is news', () => {
    expect(ONE_OF_EACH.filter((e) => levelOf(e) === 'warn').map((e) => e.type)).toEqual(['link-down', 'port-down']);
  });

  it('a move that did not converge in time is a warning naming the hosts that did not answer', () => {
    const late = { type: 'vm-move-converged', mac: '02:00:c6:13:01:01', from: 'h1', to: 'h2', convergeMs: 5000, hosts: 3, complete: false, unacked: 'h3' } as const;
    expect([levelOf(late), describeEvent(late)]).toEqual(['warn', 'VM 02:00:c6:13:01:01 move to h2 not acknowledged by h3 within 5000 ms']);
    expect(eventFields(late)).toEqual({ mac: '02:00:c6:13:01:01', from: 'h1', to: 'h2', convergeMs: 5000, hosts: 3, complete: false, unacked: 'h3' });
  });

  it('a plugin event is named, levelled and described by the plugin; its fields are its own (even one called "type")', () => {
    const e = pluginEvent('plugin-expired', 'warn', 'policy x: nothing heard within its lease', { plugin: 'x', type: 'lease', gone: undefined });
    expect([eventName(e), levelOf(e), describeEvent(e)]).toEqual(['plugin-expired', 'warn', 'policy x: nothing heard within its lease']);
    expect(eventFields(e)).toEqual({ plugin: 'x', type: 'lease' });
  });

  it('says what happened in words, from the event alone', () => {
    expect(ONE_OF_EACH.map(describeEvent)).toEqual([
      'link proxy up via udp:198.18.1.1:51820',
      'link proxy down: session expired',
      'link proxy moved from UDP to TCP (udp-unanswered)',
      'link fp-h2 added by proxy:fastpath (to 198.18.0.2:51820)',
      'link fp-h2 deleted by admin',
      'rule 7 added by local: 02:00:00:00:00:01 → any to fp-h2',
      'rule 7 deleted by local',
      'port qvm1 added by local (capture on qvm1)',
      'port qvm1 deleted by local with 1 policy rule toward it',
      'port tap0 down: ENODEV',
      'port tap0 back up',
      'star link proxy silent: re-handshaking with the proxy (try 2)',
      'daemon h1 up (host, 1 port)',
      'VM 02:00:c6:13:01:01 moved from h1 to h2',
      'VM 02:00:c6:13:01:01 followed to h2 everywhere in 12 ms (3 hosts)',
      'host h9 joined from 198.18.0.9 (token 0123456789abcdef)',
      'joined host h9 removed by ops',
      'fast link h1–h2 added',
    ]);
    expect(describeEvent({ type: 'link-up', link: 'proxy' })).toBe('link proxy up');
    expect(eventFields({ type: 'link-up', link: 'proxy' })).toEqual({ link: 'proxy' });
  });
});

import { describe, expect, it } from 'vitest';
import { EVENT_LOG_CAPACITY, EventLog, eventOf, teeEvents, type LoggedEvent } from '../../../switch/event-log.js';
import { createLogger } from '../../../switch/log.js';

const wallClock = (): number => 1_700_000_000_000;

describe('EventLog (the ring the dashboard streams)', () => {
  it('keeps the last 200 events by default, oldest first, with increasing seq', () => {
    const log = new EventLog({ wallClock });
    expect(log.capacity).toBe(EVENT_LOG_CAPACITY);
    for (let i = 1; i <= 250; i++) log.record('info', 'rule-added', 'rule added', { rule: i });
    const kept = log.list();
    expect(kept).toHaveLength(200);
    expect(kept[0]).toMatchObject({ seq: 51, fields: { rule: 51 } });
    expect(kept.at(-1)).toMatchObject({ seq: 250, at: new Date(wallClock()).toISOString(), level: 'info', event: 'rule-added' });
  });

  it('lists only what came after a seq, and nothing that fell out', () => {
    const log = new EventLog({ wallClock, capacity: 3 });
    for (let i = 0; i < 5; i++) log.record('info', 'e', 'm');
    expect(log.list(3).map((e) => e.seq)).toEqual([4, 5]);
    expect(log.list(0).map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(log.list(5)).toEqual([]);
  });

  it('tells subscribers until they unsubscribe; a throwing subscriber is dropped, recording goes on', () => {
    const log = new EventLog({ wallClock });
    const seen: LoggedEvent[] = [];
    const off = log.subscribe((e) => seen.push(e));
    log.subscribe(() => {
      throw new Error('closed stream');
    });
    log.record('info', 'a', 'a');
    expect(log.subscribers).toBe(1);
    off();
    log.record('info', 'b', 'b');
    expect(seen.map((e) => e.event)).toEqual(['a']);
    expect(log.list()).toHaveLength(2);
  });

  it('stores fields flat and JSON-safe: errors by message, objects as JSON, long strings cut', () => {
    const log = new EventLog({ wallClock });
    const e = log.record('warn', 'port-down', 'port down', { port: 'tap0', err: new Error('ENODEV'), where: { a: 1 }, long: 'x'.repeat(500), gone: undefined });
    expect(e.fields).toEqual({ port: 'tap0', err: 'ENODEV', where: '{"a":1}', long: expect.stringMatching(/^x{199}…$/) });
    expect(JSON.parse(JSON.stringify(e))).toEqual(e);
  });
});

describe('teeEvents (a Logger that copies events into the ring)', () => {
  it('logs everything through, and copies info/warn records that are events', () => {
    const lines: string[] = [];
    const events = new EventLog({ wallClock });
    const log = teeEvents(createLogger({ write: (l) => lines.push(l), pretty: false, level: 'debug' }), events);
    const links = log.child({ component: 'links' });
    links.info('link up', { link: 'proxy', via: '198.18.1.1:51820' });
    links.warn('link down', { link: 'proxy', reason: 'session expired' });
    log.info('fast path added', { event: 'fastpath-up', a: 'h1', b: 'h2' });
    log.info('api listening', { listen: '127.0.0.1:7000' }); // not an event
    log.debug('link up', { link: 'x' }); // debug is never an event
    log.error('link down', { link: 'x' }); // nor is error
    expect(lines).toHaveLength(6);
    expect(events.list().map((e) => [e.level, e.event])).toEqual([
      ['info', 'link-up'],
      ['warn', 'link-down'],
      ['info', 'fastpath-up'],
    ]);
    expect(events.list()[0]!.fields).toEqual({ component: 'links', link: 'proxy', via: '198.18.1.1:51820' });
    expect(events.list()[2]!.fields).toEqual({ a: 'h1', b: 'h2' }); // the `event` field names the event, it is not repeated
  });

  it('names an event by its `event` field first, else by the known message', () => {
    expect(eventOf('link transport', undefined)).toBe('transport-switch');
    expect(eventOf('link up', { event: 'star-up' })).toBe('star-up');
    expect(eventOf('something else', {})).toBeUndefined();
  });
});

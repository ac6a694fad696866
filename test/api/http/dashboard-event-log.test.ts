import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../../switch/clock.js';
import { Datapath } from '../../../switch/datapath.js';
import { EVENT_LOG_CAPACITY, EventLog, type LoggedEvent } from '../../../switch/event-log.js';
import { EventBus, pluginEvent } from '../../../switch/events.js';
import { LinkManager } from '../../../switch/link/link-manager.js';
import { encodeKeyBase64, generatePrivateKey, publicKey } from '../../../switch/link/noise/crypto.js';
import { MemoryNetwork } from '../../../switch/link/transport/memory-transport.js';
import { createLogger, type LogFields, type Logger } from '../../../switch/log.js';
import { LocalPrimitives } from '../../../switch/overlay/local-primitives.js';
import { SwitchCore } from '../../../switch/pipeline/forward.js';
import { MemoryPort } from '../../../switch/port/memory-port.js';

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

describe('the ring follows the event bus, not the logger', () => {
  it('records each typed event with its name, level, description (msg) and fields', () => {
    const bus = new EventBus();
    const ring = new EventLog({ wallClock });
    ring.follow(bus);
    bus.emit({ type: 'link-up', link: 'proxy', via: 'udp:198.18.1.1:51820' });
    bus.emit({ type: 'port-down', port: 'tap0', error: 'ENODEV' });
    bus.emit(pluginEvent('topology-change', 'info', 'application topology: ring, 4 edges (settled)', { shape: 'ring', edges: 4, added: ['a-b'], removed: [] }));
    expect(ring.list().map(({ seq: _seq, ...e }) => e)).toEqual([
      { at: new Date(wallClock()).toISOString(), level: 'info', event: 'link-up', msg: 'link proxy up via udp:198.18.1.1:51820', fields: { link: 'proxy', via: 'udp:198.18.1.1:51820' } },
      { at: new Date(wallClock()).toISOString(), level: 'warn', event: 'port-down', msg: 'port tap0 down: ENODEV', fields: { port: 'tap0', error: 'ENODEV' } },
      {
        at: new Date(wallClock()).toISOString(),
        level: 'info',
        event: 'topology-change',
        msg: 'application topology: ring, 4 edges (settled)',
        fields: { shape: 'ring', edges: 4, added: '["a-b"]', removed: '[]' },
      },
    ]);
  });

  it('stops recording when it unfollows', () => {
    const bus = new EventBus();
    const ring = new EventLog({ wallClock });
    const unfollow = ring.follow(bus);
    bus.emit({ type: 'port-up', port: 'p1' });
    unfollow();
    bus.emit({ type: 'port-up', port: 'p2' });
    expect(ring.list().map((e) => e.fields['port'])).toEqual(['p1']);
    expect(bus.subscribers).toBe(0);
  });
});

describe('rewording a log message changes no event', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_700_000_000_000 }));
  afterEach(() => vi.useRealTimers());

  /** A logger that says everything differently (and loses every field): a rewording of every log line at once. */
  function rewordingLogger(lines: string[]): Logger {
    const say = (level: string) => (msg: string, _fields?: LogFields) => lines.push(`${level}: ${[...msg].reverse().join('')}`);
    const log: Logger = { debug: say('debug'), info: say('info'), warn: say('warn'), error: say('error'), child: () => log };
    return log;
  }

  /**
   * A switch on memory twins (a datapath with a VM port, its primitives, a link to a second switch) goes through
   * rules, links, a port failure and recovery and a handshake; the ring is what comes out, without seq and time.
   */
  async function run(log: Logger): Promise<Omit<LoggedEvent, 'seq' | 'at'>[]> {
    let seed = 3;
    const randomBytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) >>> 0) & 0xff);
    const bus = new EventBus();
    const ring = new EventLog({ wallClock });
    ring.follow(bus);
    const network = new MemoryNetwork();
    const keys = [generatePrivateKey(randomBytes), generatePrivateKey(randomBytes)] as const;
    const hosts = ['198.18.0.1', '198.18.0.2'];
    const managers = keys.map(
      (key, i) =>
        new LinkManager({
          privateKey: key,
          udp: network.createTransport({ kind: 'udp', listen: { host: hosts[i]!, port: 51820 } }),
          clock: { ...systemClock, now: () => Date.now() },
          wallClock: () => Date.now(),
          randomBytes,
          log,
          ...(i === 0 ? { events: bus } : {}),
        }),
    );
    const [a, b] = managers as [LinkManager, LinkManager];
    b.addPeer({ name: 'h1', publicKey: publicKey(keys[0]), transport: 'udp', udpEndpoint: { transport: 'udp', host: hosts[0]!, port: 51820 } });
    const datapath = new Datapath({ core: new SwitchCore({}), clock: { ...systemClock, now: () => Date.now() }, log, events: bus });
    const vm = new MemoryPort('vm1');
    datapath.attach(vm, { floods: true });
    const primitives = new LocalPrimitives({ datapath, links: () => a, log, events: bus });
    await a.start();
    await b.start();

    const link = await primitives.addLink({ name: 'h2', publicKey: encodeKeyBase64(publicKey(keys[1])), endpoint: `${hosts[1]}:51820`, transport: 'udp' }, { name: 'admin' });
    await vi.advanceTimersByTimeAsync(10);
    const rule = await primitives.addRule({ src: 'any', dst: '02:00:00:00:00:02', target: link.name }, { name: 'admin' });
    await primitives.deleteRule(rule.id, { name: 'admin' });
    vm.fail(new Error('ENODEV'));
    datapath.recover();
    await primitives.deleteLink('h2', { name: 'admin' });
    await a.stop();
    await b.stop();
    return ring.list().map(({ seq: _seq, at: _at, ...e }) => e);
  }

  it('the same events arrive in the ring whether the log is read, discarded or says everything differently', async () => {
    const json: string[] = [];
    const reworded: string[] = [];
    const asLogged = await run(createLogger({ write: (l) => json.push(l), pretty: false, level: 'debug' }));
    const discarded = await run(createLogger({ write: () => {} }));
    const asReworded = await run(rewordingLogger(reworded));
    expect(asLogged.map((e) => e.event)).toEqual(['link-added', 'link-up', 'rule-added', 'rule-deleted', 'port-down', 'port-up', 'link-deleted']);
    expect(asLogged).toContainEqual({ level: 'warn', event: 'port-down', msg: 'port vm1 down: ENODEV', fields: { port: 'vm1', error: 'ENODEV' } });
    expect(discarded).toEqual(asLogged);
    expect(asReworded).toEqual(asLogged);
    // The logs did say something, each in its own words.
    expect(json.some((l) => l.includes('"msg":"link up"'))).toBe(true);
    expect(reworded).toContain('info: pu knil');
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { SseParser } from '../../../api/dashboard/client.js';
import { boundEventStream, MAX_EVENT_STREAMS, SseGate, TooManyStreamsError, type DropReason } from '../../../api/http/sse-limits.js';
import { EventLog } from '../../../switch/event-log.js';
import { VswitchError } from '../../../switch/errors.js';
import { daemons, type TestDaemon } from './api-fixture.js';
import { guarded, wiringDeps, type GuardWiring } from './guarded-app.js';

let stop: () => Promise<void> = async () => {};
let open: Response[] = [];
afterEach(async () => {
  for (const res of open) await res.body?.cancel().catch(() => {});
  open = [];
  await stop();
});

/** Lets the streams' promise chains run (no time passes: nothing here waits on a clock). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A createApp daemon with an event ring, behind the guard and the stream limits. */
async function daemon(wiring: GuardWiring = {}): Promise<{ h: TestDaemon; events: EventLog; gate: SseGate; request: (path: string, init?: RequestInit) => Promise<Response> }> {
  const events = new EventLog({ wallClock: () => 0 });
  const all = { ...wiring, sseGate: wiring.sseGate ?? new SseGate() };
  const d = await daemons(1, { overrides: { ...wiringDeps(all), events, dashboard: { clientJs: '', snapshotIntervalMs: 600_000 } } });
  stop = d.stop;
  const h = d.all[0]!;
  const gate = all.sseGate;
  const app = guarded(h.app, h.deps, all);
  return { h, events, gate, request: async (path, init) => app.request(`http://localhost${path}`, init) };
}

function recordMany(events: EventLog, count: number): void {
  for (let i = 0; i < count; i++) events.record('info', 'rule-added', 'rule added', { id: i, note: 'x'.repeat(150) });
}

describe('SseGate', () => {
  it('gives out maxStreams slots, then TooManyStreamsError (429, Retry-After); a release (once) frees one', () => {
    const gate = new SseGate({ maxStreams: 2, retryAfterS: 7 });
    const a = gate.acquire();
    gate.acquire();
    let refused: unknown;
    try {
      gate.acquire();
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(TooManyStreamsError);
    expect(refused).toBeInstanceOf(VswitchError);
    expect([(refused as VswitchError).httpStatus, (refused as VswitchError).code, (refused as VswitchError).responseHeaders()]).toEqual([
      429,
      'too-many-streams',
      { 'retry-after': '7' },
    ]);
    a.release();
    a.release();
    expect(gate.active).toBe(1);
    gate.acquire();
    expect(() => gate.acquire()).toThrow(TooManyStreamsError);
    expect(new SseGate().maxStreams).toBe(MAX_EVENT_STREAMS);
  });
});

describe('event streams through createApp', () => {
  it(`caps /v1/events at ${MAX_EVENT_STREAMS} streams: one more is 429 with Retry-After before its route subscribes; a closed one frees its slot`, async () => {
    const { events, gate, request } = await daemon();
    for (let i = 0; i < MAX_EVENT_STREAMS; i++) {
      const res = await request('/v1/events');
      expect(res.status).toBe(200);
      open.push(res);
    }
    expect(events.subscribers).toBe(MAX_EVENT_STREAMS);
    const refused = await request('/v1/events');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('10');
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(await refused.json()).toMatchObject({ status: 429, code: 'too-many-streams' });
    expect(events.subscribers).toBe(MAX_EVENT_STREAMS);

    await open.shift()!.body!.cancel();
    expect(gate.active).toBe(MAX_EVENT_STREAMS - 1);
    const again = await request('/v1/events');
    expect(again.status).toBe(200);
    open.push(again);
  });

  it('drops a subscriber that reads nothing once its queue passes the bound: it unsubscribes, its slot is free, its body ends', async () => {
    const { events, gate, request } = await daemon({ sseBounds: { maxQueuedBytes: 16 * 1024 } });
    const res = await request('/v1/events');
    expect(res.status).toBe(200);
    open.push(res);
    expect(events.subscribers).toBe(1);
    // Today every event becomes one more pending write on a stream nobody reads, without end.
    for (let i = 0; i < 200 && events.subscribers > 0; i++) {
      recordMany(events, 1);
      await settle();
    }
    expect(events.subscribers).toBe(0);
    expect(gate.active).toBe(0);
    const reader = res.body!.getReader();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      // what was handed out before the drop, if anything
    }
  });

  it('keeps a subscriber that reads, however much passes through it in all', async () => {
    const { events, request } = await daemon({ sseBounds: { maxQueuedBytes: 16 * 1024 } });
    const res = await request('/v1/events');
    open.push(res);
    const reader = res.body!.getReader();
    const parser = new SseParser();
    const decoder = new TextDecoder();
    let logged = 0;
    const reading = (async () => {
      while (logged < 300) {
        const chunk = await reader.read();
        if (chunk.done) return;
        logged += parser.push(decoder.decode(chunk.value, { stream: true })).filter((m) => m.event === 'log').length;
      }
    })();
    for (let i = 0; i < 300; i++) {
      recordMany(events, 1);
      await settle();
    }
    await reading;
    expect(logged).toBe(300); // ~100 KiB through a 16 KiB bound
    expect(events.subscribers).toBe(1);
  });

  it('HEAD /v1/events answers the headers and leaves nothing subscribed, and takes no slot', async () => {
    const { events, gate, request } = await daemon();
    const res = await request('/v1/events', { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    await settle();
    expect(events.subscribers).toBe(0); // today: subscribed for ever, its body never read nor cancelled
    expect(gate.active).toBe(0);
  });

  it('frees the slot of a request its route refuses (no stream made)', async () => {
    const { gate, request } = await daemon();
    expect((await request('/v1/vttif/events')).status).toBe(404); // not the Proxy
    expect((await request('/v1/plugins/p/events')).status).toBe(404);
    expect(gate.active).toBe(0);
  });
});

describe('boundEventStream (the bounded writer)', () => {
  /** A route's stream the test writes to by hand, and the bounded body over it. */
  function harness(maxQueuedBytes: number, maxStallMs: number) {
    const clock = { t: 0, now: () => clock.t };
    let route!: ReadableStreamDefaultController<Uint8Array>;
    let isRouteCancelled = false;
    const source = new ReadableStream<Uint8Array>({
      start: (c) => void (route = c),
      cancel: () => void (isRouteCancelled = true),
    });
    const drops: DropReason[] = [];
    let ends = 0;
    let closes = 0;
    const body = boundEventStream(source, {
      maxQueuedBytes,
      maxStallMs,
      clock,
      onDrop: (reason) => drops.push(reason),
      onEnd: () => ends++,
      closeConnection: () => closes++,
    });
    return { clock, write: (n: number) => route.enqueue(new Uint8Array(n)), route: () => route, body, drops, isRouteCancelled: () => isRouteCancelled, ends: () => ends, closes: () => closes };
  }

  it('drops when what waits would pass the bound, but a message bigger than the bound goes out alone', async () => {
    const s = harness(100, 30_000);
    s.write(500); // one message, empty queue: taken
    await settle();
    expect(s.drops).toEqual([]);
    s.write(10);
    await settle();
    expect(s.drops).toEqual(['queue-full']);
    expect([s.isRouteCancelled(), s.ends(), s.closes()]).toEqual([true, 1, 1]);
    expect((await s.body.getReader().read()).done).toBe(true);
  });

  it('drops a subscriber that has taken nothing for maxStallMs while data waits; one that takes is never stalled', async () => {
    const stalled = harness(1_000_000, 30_000);
    stalled.write(10);
    await settle();
    stalled.clock.t = 30_001;
    stalled.write(10);
    await settle();
    expect(stalled.drops).toEqual(['stalled']);

    const alive = harness(1_000_000, 30_000);
    const reader = alive.body.getReader();
    for (let i = 1; i <= 5; i++) {
      alive.write(10);
      alive.write(10);
      await settle();
      expect((await reader.read()).value?.byteLength).toBe(10);
      alive.clock.t = i * 29_000;
    }
    expect(alive.drops).toEqual([]);
  });

  it('hands on what is queued when the route ends, then ends; ends once when the client cancels', async () => {
    const s = harness(1_000, 30_000);
    s.write(3);
    s.write(4);
    s.route().close();
    await settle();
    expect(s.ends()).toBe(1); // the slot is free as soon as the route is done
    const reader = s.body.getReader();
    expect((await reader.read()).value?.byteLength).toBe(3);
    expect((await reader.read()).value?.byteLength).toBe(4);
    expect((await reader.read()).done).toBe(true);
    expect(s.ends()).toBe(1);

    const c = harness(1_000, 30_000);
    await c.body.cancel();
    expect([c.isRouteCancelled(), c.ends(), c.drops]).toEqual([true, 1, []]);
  });
});

/**
 * The shared Transport suite (cf. libp2p's interface-compliance-tests,
 * Hono's common.case.test.ts): every Transport — memory, UDP, TCP — must pass
 * it. Each test file calls runTransportSuite with a factory.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Endpoint } from '../../switch/link/transport/endpoint.js';
import type { Transport, TransportKind, TransportSink } from '../../switch/link/transport/transport.js';

export interface TransportSuiteOptions {
  name: string;
  kind: TransportKind;
  /** Host the transports listen on (and that `from` should report). */
  host: string;
  /** A transport, not started, listening on host:port. */
  create(listen: { host: string; port: number }): Transport;
}

export interface ReceivedMessage {
  bytes: Uint8Array;
  from: Endpoint;
}

/** A sink that keeps copies of what it receives and lets a test wait for a count. */
export class MessageCollector implements TransportSink {
  readonly messages: ReceivedMessage[] = [];
  private waiters: { count: number; resolve: () => void }[] = [];

  message(bytes: Uint8Array, from: Endpoint): void {
    this.messages.push({ bytes: Uint8Array.from(bytes), from });
    this.waiters = this.waiters.filter((w) => {
      if (this.messages.length < w.count) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves once `count` messages in total have arrived; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs = 3000): Promise<ReceivedMessage[]> {
    if (this.messages.length >= count) return Promise.resolve(this.messages);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`test collector: ${this.messages.length}/${count} messages after ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve(this.messages);
        },
      });
    });
  }
}

/** A message of `length` bytes whose content depends on `seed`. */
export function testMessage(length: number, seed = 0): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed * 7 + 1) & 0xff;
  return bytes;
}

/** Polls `condition` every 10 ms until true; rejects after `timeoutMs`. */
export async function eventually(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  // Real time: the suite runs the real UDP and TCP transports too (kernel sockets), not only the memory twin.
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`test: condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function runTransportSuite(options: TransportSuiteOptions): void {
  describe(`Transport suite: ${options.name}`, () => {
    const open: Transport[] = [];

    afterEach(async () => {
      await Promise.all(open.splice(0).map((t) => t.close()));
    });

    async function started(): Promise<{ transport: Transport; sink: MessageCollector; endpoint: Endpoint }> {
      const transport = options.create({ host: options.host, port: 0 });
      open.push(transport);
      const sink = new MessageCollector();
      await transport.start(sink);
      const endpoint = transport.localEndpoint();
      if (endpoint === undefined) throw new Error('test: no local endpoint after start');
      return { transport, sink, endpoint };
    }

    it('binds an ephemeral port and reports it', async () => {
      const { transport, endpoint } = await started();
      expect(transport.kind).toBe(options.kind);
      expect(endpoint.transport).toBe(options.kind);
      expect(endpoint.host).toBe(options.host);
      expect(endpoint.port).toBeGreaterThan(0);
    });

    it('echoes both ways: a reply to `from` reaches the sender, reported from the address it sent to', async () => {
      const a = await started();
      const b = await started();
      a.transport.send(testMessage(148, 1), b.endpoint);
      const [atB] = await b.sink.waitFor(1);
      expect(atB?.bytes).toEqual(testMessage(148, 1));
      expect(atB?.from.transport).toBe(options.kind);
      expect(atB?.from.host).toBe(options.host);

      b.transport.send(testMessage(92, 2), atB!.from);
      const [atA] = await a.sink.waitFor(1);
      expect(atA?.bytes).toEqual(testMessage(92, 2));
      expect(atA?.from.host).toBe(b.endpoint.host);
      expect(atA?.from.port).toBe(b.endpoint.port);

      // And a reply to that `from` reaches b again.
      a.transport.send(testMessage(32, 3), atA!.from);
      await b.sink.waitFor(2);
      expect(b.sink.messages[1]?.bytes).toEqual(testMessage(32, 3));
    });

    it('delivers a batch in order with contents intact', async () => {
      const a = await started();
      const b = await started();
      const batch = Array.from({ length: 20 }, (_, i) => testMessage(32 + i * 50, i));
      a.transport.sendBatch(batch, b.endpoint);
      const received = await b.sink.waitFor(batch.length);
      expect(received.map((m) => m.bytes)).toEqual(batch);
      expect(a.transport.stats().txMessages).toBe(batch.length);
    });

    it('carries a 65000-byte message', async () => {
      const a = await started();
      const b = await started();
      a.transport.send(testMessage(65_000, 9), b.endpoint);
      const [m] = await b.sink.waitFor(1);
      expect(m?.bytes.length).toBe(65_000);
      expect(m?.bytes).toEqual(testMessage(65_000, 9));
    });

    it('carries many small messages (bursts of sends and batches)', async () => {
      const a = await started();
      const b = await started();
      let expected = 0;
      for (let burst = 0; burst < 10; burst++) {
        for (let i = 0; i < 50; i++) a.transport.send(testMessage(32, burst * 100 + i), b.endpoint);
        a.transport.sendBatch(
          Array.from({ length: 50 }, (_, i) => testMessage(32, burst * 100 + 50 + i)),
          b.endpoint,
        );
        expected += 100;
        await b.sink.waitFor(expected);
      }
      expect(b.sink.messages).toHaveLength(1000);
      const stats = b.transport.stats();
      expect(stats.rxMessages).toBe(1000);
      expect(stats.rxBytes).toBe(32_000);
    });

    it('drops and counts what it cannot send, without throwing', async () => {
      const a = await started();
      const b = await started();
      a.transport.send(new Uint8Array(15), b.endpoint);
      a.transport.send(testMessage(32), { ...b.endpoint, transport: options.kind === 'udp' ? 'tcp' : 'udp' });
      a.transport.sendBatch([new Uint8Array(0), testMessage(40, 4)], b.endpoint);
      const [m] = await b.sink.waitFor(1);
      expect(m?.bytes).toEqual(testMessage(40, 4));
      const drops = a.transport.stats().drops;
      expect(drops['too-short']).toBe(2);
      expect(drops['wrong-transport']).toBe(1);
    });

    it('after close: sends are no-ops counted as closed, close is idempotent, start rejects', async () => {
      const a = await started();
      const b = await started();
      await a.transport.close();
      await a.transport.close();
      a.transport.send(testMessage(64), b.endpoint);
      a.transport.sendBatch([testMessage(64)], b.endpoint);
      expect(a.transport.stats().drops.closed).toBe(2);
      await expect(a.transport.start(new MessageCollector())).rejects.toMatchObject({ code: 'transport-state' });

      await b.transport.close();
      const c = await started();
      c.transport.send(testMessage(64), b.endpoint);
      // Real time: a datagram to a closed socket is checked for absence; the kernel gives no event to wait for.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(b.sink.messages).toHaveLength(0);
    });

    it('rejects start with TransportListenError when the port is taken', async () => {
      const a = await started();
      const second = options.create({ host: options.host, port: a.endpoint.port });
      open.push(second);
      const failure = await second.start(new MessageCollector()).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failure).toMatchObject({ code: 'transport-listen', name: 'TransportListenError', osCode: 'EADDRINUSE' });
      // The first one still works.
      const b = await started();
      b.transport.send(testMessage(48), a.endpoint);
      await a.sink.waitFor(1);
    });
  });
}

/**
 * The TCP transport's own cases (framing on the wire, garbage, redial, limits, deadlines), for both of its
 * datapaths: Node's sockets (the unit test) and the addon's native streams (test/e2e/native-tcp-transport.test.ts).
 * Traffic stays on loopback.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Endpoint } from '../../switch/link/transport/endpoint.js';
import { encodeFrames } from '../../switch/link/transport/stream-framing.js';
import { ManualClock } from '../../switch/clock.js';
import type { TcpTransportOptions } from '../../switch/link/transport/tcp-transport.js';
import type { Transport } from '../../switch/link/transport/transport.js';
import { eventually, MessageCollector, testMessage } from './transport-suite.js';

/** `create` makes a TCP transport from the options (the suite's own: listen, limits, clock), not started. */
export function runTcpTransportSuite(
  name: string,
  create: (options: TcpTransportOptions) => Transport,
  isNative = false,
): void {
  describe(`TcpTransport (${name})`, () => {
    const open: Transport[] = [];
    const sockets: Socket[] = [];
    afterEach(async () => {
      await Promise.all(open.splice(0).map((t) => t.close()));
      for (const s of sockets.splice(0)) s.destroy();
    });

    async function start(options: TcpTransportOptions = {}, host = '127.0.0.1', port = 0) {
      const transport = create({ listen: { host, port }, ...options });
      open.push(transport);
      const sink = new MessageCollector();
      await transport.start(sink);
      return { transport, sink, endpoint: transport.localEndpoint()! };
    }

    /** A raw TCP client that records what it receives and when it is closed. */
    async function rawClient(to: Endpoint): Promise<{ socket: Socket; received: Buffer[]; isClosed: () => boolean }> {
      const socket = connect({ host: to.host, port: to.port });
      sockets.push(socket);
      const received: Buffer[] = [];
      let closed = false;
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        closed = true;
      });
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      return { socket, received, isClosed: () => closed };
    }

    function prefix(length: number): Uint8Array {
      return Uint8Array.of(length >>> 8, length & 0xff);
    }

    it('closes only the garbage connection, counts each reason, and keeps serving others', async () => {
      const b = await start();
      const a = await start();
      a.transport.send(testMessage(48, 1), b.endpoint);
      await b.sink.waitFor(1);

      const zero = await rawClient(b.endpoint);
      zero.socket.write(prefix(0));
      const short = await rawClient(b.endpoint);
      short.socket.write(Buffer.concat([encodeFrames([testMessage(32, 7)]), prefix(15), testMessage(40)]));
      const truncated = await rawClient(b.endpoint);
      truncated.socket.end(Buffer.concat([prefix(100), testMessage(10)]));
      const halfHeader = await rawClient(b.endpoint);
      halfHeader.socket.end(Uint8Array.of(0x01));

      await eventually(() => zero.isClosed() && short.isClosed() && truncated.isClosed() && halfHeader.isClosed());
      await eventually(() => b.transport.stats().connections?.open === 1);
      const drops = b.transport.stats().drops;
      expect(drops['tcp-frame-too-short']).toBe(2);
      expect(drops['tcp-truncated-frame']).toBe(2);

      // The valid frame before the garbage was delivered; the good connection still works both ways.
      await b.sink.waitFor(2);
      expect(b.sink.messages[1]?.bytes).toEqual(testMessage(32, 7));
      a.transport.send(testMessage(48, 2), b.endpoint);
      await b.sink.waitFor(3);
      b.transport.send(testMessage(48, 3), b.sink.messages[2]!.from);
      await a.sink.waitFor(1);
    });

    it('delivers frames split at every byte and reports the raw connection; the reply comes back framed', async () => {
      const b = await start();
      const client = await rawClient(b.endpoint);
      const wire = encodeFrames([testMessage(32, 1), testMessage(300, 2)]);
      for (let i = 0; i < wire.length; i++) {
        client.socket.write(wire.subarray(i, i + 1));
        if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      const [first, second] = await b.sink.waitFor(2);
      expect(first?.bytes).toEqual(testMessage(32, 1));
      expect(second?.bytes).toEqual(testMessage(300, 2));
      expect(first?.from).toEqual({
        transport: 'tcp',
        host: '127.0.0.1',
        port: client.socket.localPort,
        connectionId: expect.any(Number),
      });
      expect(second?.from).toBe(first?.from);

      b.transport.send(testMessage(64, 3), first!.from);
      await eventually(() => Buffer.concat(client.received).length === 66);
      expect(new Uint8Array(Buffer.concat(client.received))).toEqual(encodeFrames([testMessage(64, 3)]));
    });

    it('replies on the same connection instead of dialing back', async () => {
      const a = await start();
      const b = await start();
      a.transport.send(testMessage(32, 1), b.endpoint);
      const [atB] = await b.sink.waitFor(1);
      b.transport.send(testMessage(32, 2), atB!.from);
      const [atA] = await a.sink.waitFor(1);
      expect(atA?.from).toEqual({ ...b.endpoint, connectionId: expect.any(Number) });
      expect(a.transport.stats().connections).toMatchObject({ open: 1, dialed: 1, accepted: 0 });
      expect(b.transport.stats().connections).toMatchObject({ open: 1, dialed: 0, accepted: 1 });
    });

    it('keeps both connections when two sides dial each other at once', async () => {
      const a = await start();
      const b = await start();
      a.transport.send(testMessage(32, 1), b.endpoint);
      b.transport.send(testMessage(32, 2), a.endpoint);
      await a.sink.waitFor(1);
      await b.sink.waitFor(1);
      expect(a.transport.stats().connections).toMatchObject({ open: 2, dialed: 1, accepted: 1 });
      a.transport.send(testMessage(32, 3), a.sink.messages[0]!.from);
      a.transport.send(testMessage(32, 4), b.endpoint);
      await b.sink.waitFor(3);
      expect(a.transport.stats().connections?.open).toBe(2);
    });

    it('redials after the remote restarts (by address, and by the old connection endpoint)', async () => {
      const a = await start();
      const b = await start();
      a.transport.send(testMessage(32, 1), b.endpoint);
      const [atB] = await b.sink.waitFor(1);
      b.transport.send(testMessage(32, 2), atB!.from);
      const [atA] = await a.sink.waitFor(1);

      await b.transport.close();
      await eventually(() => a.transport.stats().connections?.open === 0);
      const b2 = await start({}, '127.0.0.1', b.endpoint.port);
      a.transport.send(testMessage(32, 3), atA!.from);
      const [again] = await b2.sink.waitFor(1);
      expect(again?.bytes).toEqual(testMessage(32, 3));
      expect(a.transport.stats().connections).toMatchObject({ open: 1, dialed: 2, closed: 1 });
    });

    it('does not redial an accepted connection that closed', async () => {
      const a = await start();
      const b = await start();
      a.transport.send(testMessage(32, 1), b.endpoint);
      const [atB] = await b.sink.waitFor(1);
      await a.transport.close();
      await eventually(() => b.transport.stats().connections?.open === 0);
      b.transport.send(testMessage(32), atB!.from);
      expect(b.transport.stats().drops['tcp-no-connection']).toBe(1);
      expect(b.transport.stats().connections?.dialed).toBe(0);
    });

    it('counts failed dials per queued message, and bounds the queue while dialing', async () => {
      const a = await start({ maxQueuedMessages: 4 });
      const gone = await start();
      const port = gone.endpoint.port;
      await gone.transport.close();
      for (let i = 0; i < 6; i++) a.transport.send(testMessage(32, i), { transport: 'tcp', host: '127.0.0.1', port });
      await eventually(() => a.transport.stats().connections?.connectFailures === 1);
      expect(a.transport.stats().drops).toEqual({ 'tcp-queue-full': 2, 'tcp-connect-failed': 4 });

      const b = await start({ maxQueuedMessages: 4 });
      for (let i = 0; i < 6; i++) a.transport.send(testMessage(32, i), b.endpoint);
      await b.sink.waitFor(4);
      expect(a.transport.stats().drops['tcp-queue-full']).toBe(4);
    });

    it('closes idle connections on both sides', async () => {
      const a = await start({ idleTimeMs: 150 });
      const b = await start({ idleTimeMs: 150 });
      a.transport.send(testMessage(32), b.endpoint);
      await b.sink.waitFor(1);
      await eventually(() => a.transport.stats().connections?.open === 0 && b.transport.stats().connections?.open === 0);
      expect(a.transport.stats().drops).toEqual({});
    });

    // Node's write buffer only: the native stream's bounded queue has its own test (native-tcp-transport.test.ts).
    if (!isNative) it('drops on backpressure instead of buffering without bound (Node\'s write buffer)', async () => {
      const a = await start({ maxWriteBufferBytes: 100 });
      const b = await start();
      a.transport.send(testMessage(64, 0), b.endpoint);
      await b.sink.waitFor(1);
      for (let i = 1; i <= 3; i++) a.transport.send(testMessage(64, i), b.endpoint);
      await b.sink.waitFor(3);
      expect(a.transport.stats().drops['tcp-backpressure']).toBe(1);
    });

    it('refuses connections beyond maxConnections and counts them', async () => {
      const b = await start({ maxConnections: 1 });
      const first = await rawClient(b.endpoint);
      const second = await rawClient(b.endpoint);
      await eventually(() => second.isClosed());
      expect(first.isClosed()).toBe(false);
      expect(b.transport.stats().drops['tcp-too-many-connections']).toBe(1);
    });

    it('works over IPv6 loopback and on a dual-stack listener reached over IPv4', async () => {
      const v6 = await start({}, '::1');
      const dual = await start({}, '::');
      const v4 = await start();
      v4.transport.send(testMessage(32, 1), { transport: 'tcp', host: '127.0.0.1', port: dual.endpoint.port });
      const [m] = await dual.sink.waitFor(1);
      expect(m?.from.host).toBe('127.0.0.1');
      dual.transport.send(testMessage(32, 2), m!.from);
      await v4.sink.waitFor(1);
      dual.transport.send(testMessage(32, 3), v6.endpoint);
      const [m6] = await v6.sink.waitFor(1);
      expect(m6?.from.host).toBe('::1');
    });

    it('dial-only without a listener', async () => {
      const b = await start();
      const dialer = create({});
      open.push(dialer);
      const sink = new MessageCollector();
      await dialer.start(sink);
      expect(dialer.localEndpoint()).toBeUndefined();
      dialer.send(testMessage(32), b.endpoint);
      const [m] = await b.sink.waitFor(1);
      b.transport.send(testMessage(32, 5), m!.from);
      await sink.waitFor(1);
    });
  });

  describe(`TcpTransport (${name}): what one source may hold`, () => {
    const open: Transport[] = [];
    const sockets: Socket[] = [];
    afterEach(async () => {
      await Promise.all(open.splice(0).map((t) => t.close()));
      for (const s of sockets.splice(0)) s.destroy();
    });

    async function start(options: TcpTransportOptions = {}) {
      const transport = create({ listen: { host: '127.0.0.1', port: 0 }, ...options });
      open.push(transport);
      const sink = new MessageCollector();
      await transport.start(sink);
      return { transport, sink, endpoint: transport.localEndpoint()! };
    }

    async function rawClient(to: Endpoint): Promise<{ socket: Socket; isClosed: () => boolean }> {
      const socket = connect({ host: to.host, port: to.port });
      sockets.push(socket);
      let closed = false;
      socket.on('error', () => undefined);
      socket.on('close', () => {
        closed = true;
      });
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      return { socket, isClosed: () => closed };
    }

    it('refuses accepted connections from one address beyond maxConnectionsPerIp, and counts them', async () => {
      const b = await start({ maxConnectionsPerIp: 2 });
      const first = await rawClient(b.endpoint);
      const second = await rawClient(b.endpoint);
      await eventually(() => b.transport.stats().connections?.open === 2);
      const third = await rawClient(b.endpoint);
      await eventually(() => third.isClosed());
      expect(first.isClosed() || second.isClosed()).toBe(false);
      expect(b.transport.stats().drops['tcp-per-ip-limit']).toBe(1);
      // A slot that frees up can be taken again.
      first.socket.destroy();
      await eventually(() => b.transport.stats().connections?.open === 1);
      const fourth = await rawClient(b.endpoint);
      await eventually(() => b.transport.stats().connections?.open === 2);
      expect(fourth.isClosed()).toBe(false);
    });

    it('holds 8 connections per address by default', async () => {
      const b = await start();
      const clients: { isClosed: () => boolean }[] = [];
      for (let i = 0; i < 9; i++) clients.push(await rawClient(b.endpoint));
      await eventually(() => clients.filter((c) => c.isClosed()).length === 1);
      expect(b.transport.stats().drops['tcp-per-ip-limit']).toBe(1);
      expect(b.transport.stats().connections?.open).toBe(8);
    });

    it('closes an accepted connection that has not delivered an authenticated message by the deadline', async () => {
      const clock = new ManualClock();
      const b = await start({ clock, handshakeDeadlineMs: 5000 });
      const silent = await rawClient(b.endpoint);
      const talker = await rawClient(b.endpoint);
      await eventually(() => b.transport.stats().connections?.open === 2);
      // The talker's first message is one the link layer authenticates; the silent one sends nothing.
      talker.socket.write(encodeFrames([testMessage(32, 1)]));
      const [m] = await b.sink.waitFor(1);
      b.transport.authenticated?.(m!.from);

      await clock.advance(4999);
      expect(silent.isClosed()).toBe(false);
      await clock.advance(1001); // the once-a-second check after the deadline
      await eventually(() => silent.isClosed());
      expect(talker.isClosed()).toBe(false);
      expect(b.transport.stats().drops['tcp-handshake-timeout']).toBe(1);

      // A slowloris that sends a plausible frame but nothing the link layer accepts is closed all the same.
      const slow = await rawClient(b.endpoint);
      slow.socket.write(encodeFrames([testMessage(148, 2)]));
      await b.sink.waitFor(2);
      await clock.advance(6000);
      await eventually(() => slow.isClosed());
      expect(talker.isClosed()).toBe(false);
      expect(b.transport.stats().drops['tcp-handshake-timeout']).toBe(2);
    });

    it('checks deadlines only while an accepted connection waits for one (an idle listener holds no timer)', async () => {
      // A native stream also holds its own idle check (Node's socket timeout went with the socket).
      const perConnection = isNative ? 1 : 0;
      const clock = new ManualClock();
      const b = await start({ clock, handshakeDeadlineMs: 5000 });
      expect(clock.pending).toBe(0);
      const talker = await rawClient(b.endpoint);
      await eventually(() => b.transport.stats().connections?.open === 1);
      await eventually(() => clock.pending === 1 + perConnection); // the deadline check, for this connection
      talker.socket.write(encodeFrames([testMessage(32, 1)]));
      const [m] = await b.sink.waitFor(1);
      b.transport.authenticated?.(m!.from);
      expect(clock.pending).toBe(perConnection); // none waits for a deadline any more
      const silent = await rawClient(b.endpoint);
      await eventually(() => clock.pending === 1 + 2 * perConnection);
      await clock.advance(6000);
      await eventually(() => silent.isClosed());
      expect(clock.pending).toBe(perConnection);
      expect(talker.isClosed()).toBe(false);
    });

    it('also closes what is past its deadline when a new connection arrives', async () => {
      const clock = new ManualClock();
      const b = await start({ clock, handshakeDeadlineMs: 5000, deadlineCheckMs: 60_000 });
      const silent = await rawClient(b.endpoint);
      await eventually(() => b.transport.stats().connections?.open === 1);
      await clock.advance(5001); // no check of its own runs before 60 s
      expect(silent.isClosed()).toBe(false);
      await rawClient(b.endpoint);
      await eventually(() => silent.isClosed());
      expect(b.transport.stats().drops['tcp-handshake-timeout']).toBe(1);
    });
  });
}

/**
 * The TCP transport on the addon's native streams (tcp-native-stream.ts over stream-handle.cc): the shared
 * Transport suite and every case of the Node-socket transport (test/support/tcp-transport-suite.ts), then what only
 * the native path has: the socket really taken over, writes batched, the bounded send queue under a peer that
 * does not read (drops counted, frames never torn), and hostile bytes on the stream. It loads the addon, so it
 * lives with the e2e tests; traffic stays on loopback.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadAddon } from '../../switch/port/addon.js';
import type { Endpoint } from '../../switch/link/transport/endpoint.js';
import { encodeFrames, StreamFrameDecoder } from '../../switch/link/transport/stream-framing.js';
import { createTcpTransport, type TcpTransportOptions } from '../../switch/link/transport/tcp-transport.js';
import type { Transport } from '../../switch/link/transport/transport.js';
import { runTcpTransportSuite } from '../support/tcp-transport-suite.js';
import { eventually, MessageCollector, runTransportSuite, testMessage } from '../support/transport-suite.js';

const addon = loadAddon();

function nativeTcp(options: TcpTransportOptions) {
  return createTcpTransport({ ...options, native: { addon, ...options.native } });
}

runTransportSuite({
  name: 'native tcp on 127.0.0.1',
  kind: 'tcp',
  host: '127.0.0.1',
  create: (listen) => nativeTcp({ listen }),
});

runTcpTransportSuite('native streams', nativeTcp, true);

describe('TcpTransport on native streams', () => {
  const open: Transport[] = [];
  const sockets: Socket[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((t) => t.close()));
    for (const s of sockets.splice(0)) s.destroy();
  });

  async function start(options: TcpTransportOptions = {}) {
    const transport = nativeTcp({ listen: { host: '127.0.0.1', port: 0 }, ...options });
    open.push(transport);
    const sink = new MessageCollector();
    await transport.start(sink);
    return { transport, sink, endpoint: transport.localEndpoint()! };
  }

  async function rawClient(to: Endpoint, isPaused = false) {
    const socket = connect({ host: to.host, port: to.port });
    sockets.push(socket);
    const received: Buffer[] = [];
    let closed = false;
    if (isPaused) socket.pause();
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
    });
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    return { socket, received, isClosed: () => closed };
  }

  it('runs both ends of a connection on native streams, and a batch leaves in a few writes', async () => {
    const a = await start();
    const b = await start();
    a.transport.send(testMessage(64, 0), b.endpoint);
    const [first] = await b.sink.waitFor(1);
    const atA = a.transport.nativeStreamOf(b.endpoint);
    const atB = b.transport.nativeStreamOf(first!.from);
    expect(atA).toBeDefined();
    expect(atB).toBeDefined();

    const batch = Array.from({ length: 200 }, (_, i) => testMessage(100 + (i % 1300), i + 1));
    const writesBefore = atA!.counters().writeCalls;
    a.transport.sendBatch(batch, b.endpoint);
    const got = await b.sink.waitFor(201);
    expect(got.slice(1).map((m) => m.bytes)).toEqual(batch);
    expect(atA!.counters().writeCalls - writesBefore).toBeLessThanOrEqual(4);
    expect(atA!.counters()).toMatchObject({ txMessages: 201, queueDrops: 0 });
    expect(atB!.counters()).toMatchObject({ rxMessages: 201 });
  });

  it('bounds the send queue under a peer that does not read: drops counted, every frame whole when it reads again', async () => {
    const b = await start({ native: { addon, maxQueueBytes: 64 * 1024 } });
    const peer = await rawClient(b.endpoint, true);
    peer.socket.write(encodeFrames([testMessage(32, 0)]));
    const [hello] = await b.sink.waitFor(1);
    // Far more than the socket buffers and the queue hold, in batches (the queue flushes between them).
    const sent: Uint8Array[] = [];
    for (let round = 0; round < 400; round++) {
      const batch = Array.from({ length: 16 }, (_, i) => testMessage(1400, round * 16 + i));
      sent.push(...batch);
      b.transport.sendBatch(batch, hello!.from);
      if (round % 20 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    const drops = b.transport.stats().drops['tcp-backpressure'] ?? 0;
    expect(drops).toBeGreaterThan(0);
    const stream = b.transport.nativeStreamOf(hello!.from)!;
    expect(stream.counters().queueDrops).toBe(drops);
    expect(stream.counters().queuedBytes).toBeLessThanOrEqual(64 * 1024);

    // The peer reads again: whatever arrived is a run of whole frames, each one of the messages sent, in order.
    peer.socket.resume();
    const expected = sent.length - drops;
    const decoded: Uint8Array[] = [];
    const decoder = new StreamFrameDecoder();
    let fed = 0;
    await eventually(() => {
      for (; fed < peer.received.length; fed++) {
        expect(decoder.push(peer.received[fed]!, { frame: (m) => decoded.push(Uint8Array.from(m)) })).toBe('ok');
      }
      return decoded.length === expected;
    }, 10_000);
    let at = 0;
    for (const m of decoded) {
      while (at < sent.length && !Buffer.from(sent[at]!).equals(Buffer.from(m))) at++;
      expect(at).toBeLessThan(sent.length);
      at++;
    }
    expect(peer.isClosed()).toBe(false);
  });

  it('closes streams of random bytes with a counted reason, never crashing, and keeps serving the good one', async () => {
    const a = await start();
    const b = await start({ maxConnectionsPerIp: 64 });
    a.transport.send(testMessage(48, 1), b.endpoint);
    await b.sink.waitFor(1);
    const hostile: { isClosed: () => boolean }[] = [];
    for (let i = 0; i < 40; i++) {
      const client = await rawClient(b.endpoint);
      // Random bytes; every fourth a run of valid frames first, then garbage split over writes.
      if (i % 4 === 0) client.socket.write(encodeFrames([testMessage(40 + i, i), testMessage(1000, i)]));
      const junk = randomBytes(1 + ((i * 977) % 5000));
      client.socket.write(junk.subarray(0, junk.length >> 1));
      client.socket.end(junk.subarray(junk.length >> 1));
      hostile.push(client);
    }
    await eventually(() => hostile.every((c) => c.isClosed()), 10_000);
    await eventually(() => b.transport.stats().connections?.open === 1);
    const drops = b.transport.stats().drops;
    // Every hostile stream ended by one counted reason: too short a length, or cut inside a frame, or clean.
    expect((drops['tcp-frame-too-short'] ?? 0) + (drops['tcp-truncated-frame'] ?? 0)).toBeGreaterThan(30);
    const before = b.sink.messages.length;
    a.transport.send(testMessage(48, 2), b.endpoint);
    await b.sink.waitFor(before + 1);
    expect(b.sink.messages.at(-1)?.bytes).toEqual(testMessage(48, 2));
  });

  it('a StreamHandle takes only a stream socket, with a sane queue bound', () => {
    expect(() => new addon.StreamHandle(-1, 1 << 20, 0)).toThrow(/getsockopt/);
    expect(() => new addon.StreamHandle(0, 1, 0)).toThrow(RangeError);
  });

  it('linkSetStream takes only a StreamHandle attached to that offload; its methods refuse other objects', async () => {
    const b = await start();
    const client = await rawClient(b.endpoint);
    client.socket.write(encodeFrames([testMessage(32, 0)]));
    const [m] = await b.sink.waitFor(1);
    const stream = b.transport.nativeStreamOf(m!.from)!;
    const native = addon.createOffload();
    try {
      const udp = new addon.UdpHandle('127.0.0.1', 0, 8, 2048, 0, 0);
      expect(() => native.linkSetStream(7, udp as unknown as typeof stream, -1, -1, -1)).toThrow(TypeError);
      udp.close();
      expect(() => native.linkSetStream(7, stream, -1, -1, -1)).toThrow(/not attached/);
      stream.setOffload(native);
      native.linkSetStream(7, stream, -1, -1, -1);
      expect(native.counters().links).toBe(1);
      const send = (addon.StreamHandle as unknown as { prototype: { send: () => number } }).prototype.send;
      expect(() => send.call({})).toThrow(TypeError);
      // The stream's end takes its link with it.
      client.socket.destroy();
      await eventually(() => native.counters().links === 0);
    } finally {
      native.close();
    }
  });
});

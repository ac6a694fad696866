/**
 * The addon's UDP transport (native-udp-transport.ts over udp-handle.cc) against
 * the shared Transport suite and the dgram transport's own edge cases. It loads
 * the addon, so it lives with the e2e tests (unit tests never load it). Traffic
 * stays on loopback.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { loadAddon } from '../../switch/port/addon.js';
import { createNativeUdpTransport, type NativeUdpTransportOptions } from '../../switch/link/transport/native-udp-transport.js';
import { createUdpTransport } from '../../switch/link/transport/udp-transport.js';
import type { Transport } from '../../switch/link/transport/transport.js';
import { MessageCollector, runTransportSuite, testMessage } from '../support/transport-suite.js';

const addon = loadAddon();

runTransportSuite({
  name: 'native udp on 127.0.0.1',
  kind: 'udp',
  host: '127.0.0.1',
  create: (listen) => createNativeUdpTransport({ listen }, addon),
});

runTransportSuite({
  name: 'native udp on ::1',
  kind: 'udp',
  host: '::1',
  create: (listen) => createNativeUdpTransport({ listen }, addon),
});

describe('NativeUdpTransport', () => {
  const open: Transport[] = [];
  const raw: Socket[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((t) => t.close()));
    for (const s of raw.splice(0)) s.close();
  });

  async function start(host: string, options: Partial<NativeUdpTransportOptions> = {}) {
    const transport = createNativeUdpTransport({ listen: { host, port: 0 }, ...options }, addon);
    open.push(transport);
    const sink = new MessageCollector();
    await transport.start(sink);
    return { transport, sink, endpoint: transport.localEndpoint()! };
  }

  async function rawSocket(type: 'udp4' | 'udp6', host: string): Promise<Socket> {
    const socket = createSocket(type);
    raw.push(socket);
    await new Promise<void>((resolve) => socket.bind(0, host, resolve));
    return socket;
  }

  it('drops runt and oversized datagrams by reason and keeps working', async () => {
    const b = await start('127.0.0.1', { maxDatagramBytes: 1000 });
    const sender = await rawSocket('udp4', '127.0.0.1');
    for (const size of [0, 1, 15, 1001, 9000]) sender.send(new Uint8Array(size), b.endpoint.port, '127.0.0.1');
    sender.send(testMessage(1000), b.endpoint.port, '127.0.0.1');
    await b.sink.waitFor(1);
    expect(b.sink.messages[0]?.bytes).toEqual(testMessage(1000));
    expect(b.transport.stats().drops).toEqual({ 'too-short': 3, 'too-long': 2 });
    expect(b.transport.stats().rxMessages).toBe(1);

    b.transport.send(testMessage(1001), b.sink.messages[0]!.from);
    expect(b.transport.stats().drops['too-long']).toBe(3);
  });

  it('hands out the same `from` object for the same source', async () => {
    const a = await start('127.0.0.1');
    const b = await start('127.0.0.1');
    a.transport.sendBatch([testMessage(32, 1), testMessage(32, 2)], b.endpoint);
    const [first, second] = await b.sink.waitFor(2);
    expect(first?.from).toBe(second?.from);
    expect(first?.from).toEqual({ transport: 'udp', host: '127.0.0.1', port: a.endpoint.port });
  });

  it('dual-stack "::" talks to IPv4 peers and reports them in IPv4 form', async () => {
    const dual = await start('::');
    const v4 = await start('127.0.0.1');
    v4.transport.send(testMessage(64, 1), { transport: 'udp', host: '127.0.0.1', port: dual.endpoint.port });
    const [m] = await dual.sink.waitFor(1);
    expect(m?.from).toEqual({ transport: 'udp', host: '127.0.0.1', port: v4.endpoint.port });
    dual.transport.send(testMessage(64, 2), m!.from);
    const [reply] = await v4.sink.waitFor(1);
    expect(reply?.bytes).toEqual(testMessage(64, 2));
  });

  it('counts a send it cannot make (IPv6 destination on an IPv4 socket)', async () => {
    const a = await start('127.0.0.1');
    a.transport.send(testMessage(64), { transport: 'udp', host: '::1', port: 9 });
    expect(a.transport.stats().drops['udp-send-failed']).toBe(1);
    expect(a.transport.stats().txMessages).toBe(0);
  });

  it('interoperates with the dgram transport both ways', async () => {
    const native = await start('127.0.0.1');
    const dgram = createUdpTransport({ listen: { host: '127.0.0.1', port: 0 } });
    open.push(dgram);
    const dgramSink = new MessageCollector();
    await dgram.start(dgramSink);
    native.transport.sendBatch([testMessage(1400, 1), testMessage(33, 2)], dgram.localEndpoint()!);
    const got = await dgramSink.waitFor(2);
    expect(got.map((m) => m.bytes)).toEqual([testMessage(1400, 1), testMessage(33, 2)]);
    dgram.send(testMessage(200, 3), got[0]!.from);
    const [back] = await native.sink.waitFor(1);
    expect(back?.bytes).toEqual(testMessage(200, 3));
  });

  it('carries a burst larger than one receive batch, in order, in few syscalls (GSO out, GRO in)', async () => {
    const a = await start('127.0.0.1');
    const b = await start('127.0.0.1', { batchMessages: 4 });
    // Equal-sized runs (GSO), a shorter one ending a run, and sizes changing mid-batch.
    const sizes = [...Array<number>(150).fill(1200), 700, ...Array<number>(50).fill(1552), 32, 32, 9000, 1200];
    const burst = sizes.map((size, i) => testMessage(size, i));
    a.transport.sendBatch(burst, b.endpoint);
    await b.sink.waitFor(burst.length);
    expect(b.sink.messages.map((m) => m.bytes)).toEqual(burst);
    expect(b.sink.messages.every((m) => m.from === b.sink.messages[0]!.from)).toBe(true);
    expect(a.transport.stats().txMessages).toBe(burst.length);
    expect(b.transport.stats().rxMessages).toBe(burst.length);
    const sent = a.transport.nativeCounters();
    expect(sent.gsoSends).toBeGreaterThanOrEqual(5);
    expect(sent.sendCalls).toBeLessThan(10);
    expect(b.transport.nativeCounters().receiveCalls).toBeLessThan(burst.length / 4);
  });

  it('splits equal-sized runs over 64 KiB into several GSO sends, still in order', async () => {
    const a = await start('127.0.0.1');
    const b = await start('127.0.0.1');
    // 40 × 1700 bytes exceed the 64 KiB a GSO send may carry: split into several runs, still in order.
    const burst = Array.from({ length: 40 }, (_, i) => testMessage(1700, i));
    a.transport.sendBatch(burst, b.endpoint);
    await b.sink.waitFor(burst.length);
    expect(b.sink.messages.map((m) => m.bytes)).toEqual(burst);
  });

  it('rejects options that are not IP literals, ports or batch sizes', () => {
    for (const options of [
      { listen: { host: 'localhost', port: 0 } },
      { listen: { host: '127.0.0.1', port: 70000 } },
      { listen: { host: '127.0.0.1', port: 0 }, batchMessages: 0 },
    ]) {
      expect(() => createNativeUdpTransport(options, addon)).toThrow(expect.objectContaining({ code: 'transport-options' }));
    }
  });
});

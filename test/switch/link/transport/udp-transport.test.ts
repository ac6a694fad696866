import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { createUdpTransport } from '../../../../switch/link/transport/udp-transport.js';
import type { Transport } from '../../../../switch/link/transport/transport.js';
import { eventually, MessageCollector, runTransportSuite, testMessage } from '../../../support/transport-suite.js';

runTransportSuite({
  name: 'udp on 127.0.0.1',
  kind: 'udp',
  host: '127.0.0.1',
  create: (listen) => createUdpTransport({ listen }),
});

describe('UdpTransport', () => {
  const open: Transport[] = [];
  const raw: Socket[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((t) => t.close()));
    for (const s of raw.splice(0)) s.close();
  });

  async function start(host: string, options: { maxDatagramBytes?: number } = {}) {
    const transport = createUdpTransport({ listen: { host, port: 0 }, ...options });
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

  it('hands out the same `from` object for the same source (no per-datagram endpoint allocation)', async () => {
    const a = await start('127.0.0.1');
    const b = await start('127.0.0.1');
    a.transport.sendBatch([testMessage(32, 1), testMessage(32, 2)], b.endpoint);
    const [first, second] = await b.sink.waitFor(2);
    expect(first?.from).toBe(second?.from);
    expect(first?.from).toEqual({ transport: 'udp', host: '127.0.0.1', port: a.endpoint.port });
  });

  it('works over IPv6 loopback', async () => {
    const a = await start('::1');
    const b = await start('::1');
    expect(b.endpoint.host).toBe('::1');
    a.transport.send(testMessage(64), b.endpoint);
    const [m] = await b.sink.waitFor(1);
    expect(m?.from).toEqual({ transport: 'udp', host: '::1', port: a.endpoint.port });
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

  it('counts a send the OS refuses (IPv6 destination on an IPv4 socket)', async () => {
    const a = await start('127.0.0.1');
    a.transport.send(testMessage(64), { transport: 'udp', host: '::1', port: 9 });
    await eventually(() => a.transport.stats().drops['udp-send-failed'] === 1);
    expect(a.transport.stats().txMessages).toBe(0);
  });

  it('rejects options that are not IP literals or ports', () => {
    expect(() => createUdpTransport({ listen: { host: 'localhost', port: 0 } })).toThrow(
      expect.objectContaining({ code: 'transport-options' }),
    );
    expect(() => createUdpTransport({ listen: { host: '127.0.0.1', port: 70000 } })).toThrow(
      expect.objectContaining({ code: 'transport-options' }),
    );
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { MemoryNetwork } from '../../../../switch/link/transport/memory-transport.js';
import type { Transport } from '../../../../switch/link/transport/transport.js';
import { MessageCollector, runTransportSuite, testMessage } from '../../../support/transport-suite.js';

const suiteNetwork = new MemoryNetwork();
runTransportSuite({
  name: 'memory udp',
  kind: 'udp',
  host: '198.18.0.1',
  create: (listen) => suiteNetwork.createTransport({ kind: 'udp', listen }),
});
runTransportSuite({
  name: 'memory tcp',
  kind: 'tcp',
  host: '198.18.0.2',
  create: (listen) => suiteNetwork.createTransport({ kind: 'tcp', listen }),
});

describe('MemoryNetwork', () => {
  const open: Transport[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((t) => t.close()));
  });

  async function start(network: MemoryNetwork, kind: 'udp' | 'tcp', host: string, port: number) {
    const transport = network.createTransport({ kind, listen: { host, port } });
    open.push(transport);
    const sink = new MessageCollector();
    await transport.start(sink);
    return { transport, sink };
  }

  it('blocks a transport kind like a firewall, and unblocks it', async () => {
    const network = new MemoryNetwork();
    const a = await start(network, 'udp', '198.18.0.1', 51820);
    const b = await start(network, 'udp', '198.18.0.2', 51820);
    network.block('udp');
    a.transport.send(testMessage(32), { transport: 'udp', host: '198.18.0.2', port: 51820 });
    expect(a.transport.stats().drops.blocked).toBe(1);
    network.block('udp', false);
    a.transport.send(testMessage(32), { transport: 'udp', host: '198.18.0.2', port: 51820 });
    await b.sink.waitFor(1);
  });

  it('counts unreachable UDP and failed TCP dials', async () => {
    const network = new MemoryNetwork();
    const u = await start(network, 'udp', '198.18.0.1', 1);
    const t = await start(network, 'tcp', '198.18.0.1', 443);
    u.transport.send(testMessage(32), { transport: 'udp', host: '198.18.0.9', port: 1 });
    t.transport.send(testMessage(32), { transport: 'tcp', host: '198.18.0.9', port: 443 });
    expect(u.transport.stats().drops.unreachable).toBe(1);
    expect(t.transport.stats().drops['tcp-connect-failed']).toBe(1);
  });

  it('tcp: replies reuse the connection; a dialed connection is redialed after the remote restarts', async () => {
    const network = new MemoryNetwork();
    const a = await start(network, 'tcp', '198.18.0.1', 443);
    const b = await start(network, 'tcp', '198.18.0.2', 443);
    a.transport.send(testMessage(32, 1), { transport: 'tcp', host: '198.18.0.2', port: 443 });
    const [atB] = await b.sink.waitFor(1);
    b.transport.send(testMessage(32, 2), atB!.from);
    const [atA] = await a.sink.waitFor(1);
    expect(b.transport.stats().connections).toMatchObject({ open: 1, accepted: 1, dialed: 0 });
    expect(a.transport.stats().connections).toMatchObject({ open: 1, accepted: 0, dialed: 1 });

    await b.transport.close();
    expect(a.transport.stats().connections?.open).toBe(0);
    b.sink.messages.length = 0;
    const b2 = await start(network, 'tcp', '198.18.0.2', 443);
    a.transport.send(testMessage(32, 3), atA!.from);
    const [again] = await b2.sink.waitFor(1);
    expect(again?.bytes).toEqual(testMessage(32, 3));
    expect(a.transport.stats().connections?.dialed).toBe(2);

    // An accepted connection that closed cannot be redialed.
    await a.transport.close();
    b2.transport.send(testMessage(32), again!.from);
    expect(b2.transport.stats().drops['tcp-no-connection']).toBe(1);
  });
});

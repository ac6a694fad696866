import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../../switch/clock.js';
import type { SwitchEvent } from '../../../switch/events.js';
import { LinkManager } from '../../../switch/link/link-manager.js';
import { generatePrivateKey, publicKey } from '../../../switch/link/noise/crypto.js';
import type { Endpoint } from '../../../switch/link/transport/endpoint.js';
import { MemoryNetwork } from '../../../switch/link/transport/memory-transport.js';
import { createLogger } from '../../../switch/log.js';
import type { PortSink } from '../../../switch/port/port.js';
import { ethernetFrame } from '../../support/frames.js';

let seed = 1;
const randomBytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) >>> 0) & 0xff);

function pair(opts: { mode?: 'udp' | 'tcp' | 'auto'; onAuthenticated?: (side: number, from: Endpoint) => void } = {}) {
  const network = new MemoryNetwork();
  const clock = { ...systemClock, now: () => Date.now() };
  const keys = [generatePrivateKey(randomBytes), generatePrivateKey(randomBytes)] as const;
  const hosts = ['198.18.0.1', '198.18.0.2'];
  const events: SwitchEvent[][] = [[], []];
  const managers = keys.map(
    (key, i) =>
      new LinkManager({
        privateKey: key,
        udp: network.createTransport({ kind: 'udp', listen: { host: hosts[i]!, port: 51820 } }),
        tcp: Object.assign(network.createTransport({ kind: 'tcp', listen: { host: hosts[i]!, port: 51820 } }), {
          authenticated: (from: Endpoint) => opts.onAuthenticated?.(i, from),
        }),
        clock,
        wallClock: () => Date.now(),
        randomBytes,
        log: createLogger({ write: () => {} }),
        events: { emit: (e) => events[i]!.push(e) },
      }),
  );
  const received: Uint8Array[][] = [[], []];
  const ports = managers.map((m, i) => {
    const other = 1 - i;
    const port = m.addPeer({
      name: `h${other + 1}`,
      publicKey: publicKey(keys[other]!),
      transport: opts.mode ?? 'auto',
      udpEndpoint: { transport: 'udp', host: hosts[other]!, port: 51820 },
      tcpEndpoint: { transport: 'tcp', host: hosts[other]!, port: 51820 },
    });
    const sink: PortSink = { frames: (frames) => frames.forEach((f) => received[i]!.push(Uint8Array.from(f))), error: () => {} };
    port.start(sink);
    return port;
  });
  return { network, managers, ports, received, events };
}

const frame = ethernetFrame({ dst: '02:00:00:00:00:02', src: '02:00:00:00:00:01', payloadBytes: 100 });

describe('LinkManager', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_700_000_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('handshakes at start and carries frames both ways', async () => {
    const { managers, ports, received } = pair();
    await managers[0]!.start();
    await managers[1]!.start();
    await vi.advanceTimersByTimeAsync(10);
    expect(managers.map((m) => m.status()[0]!.state)).toEqual(['up', 'up']);
    ports[0]!.send([frame]);
    ports[1]!.send([frame, frame]);
    await vi.advanceTimersByTimeAsync(10);
    expect(received[1]).toEqual([frame]);
    expect(received[0]).toEqual([frame, frame]);
  });

  it('comes up quickly when the peer starts later', async () => {
    const { managers } = pair();
    await managers[0]!.start();
    await vi.advanceTimersByTimeAsync(300);
    await managers[1]!.start();
    await vi.advanceTimersByTimeAsync(100);
    expect(managers.map((m) => m.status()[0]!.state)).toEqual(['up', 'up']);
    expect(managers.map((m) => m.status()[0]!.transport)).toEqual(['udp', 'udp']);
  });

  it('falls back to TCP within 5 s when UDP is blocked, and returns to UDP when it works again', async () => {
    const { network, managers, ports, received } = pair();
    network.block('udp');
    await managers[0]!.start();
    await managers[1]!.start();
    await vi.advanceTimersByTimeAsync(4_900);
    expect(managers.map((m) => [m.status()[0]!.state, m.status()[0]!.transport])).toEqual([
      ['up', 'tcp'],
      ['up', 'tcp'],
    ]);
    ports[0]!.send([frame]);
    await vi.advanceTimersByTimeAsync(10);
    expect(received[1]).toEqual([frame]);

    network.block('udp', false);
    await vi.advanceTimersByTimeAsync(15_000);
    expect(managers.map((m) => m.status()[0]!.transport)).toEqual(['udp', 'udp']);
    ports[1]!.send([frame]);
    await vi.advanceTimersByTimeAsync(10);
    expect(received[0]).toEqual([frame]);
  });

  it('a link up over UDP stays there when its own earlier initiation went unanswered (the peer started later)', async () => {
    const { managers, events, ports, received } = pair();
    await managers[0]!.start();
    await vi.advanceTimersByTimeAsync(300);
    await managers[1]!.start();
    for (let i = 0; i < 10; i++) {
      ports[0]!.send([frame]);
      ports[1]!.send([frame]);
      await vi.advanceTimersByTimeAsync(1_000);
    }
    // Authenticated packets over UDP prove the path: no fallback to TCP 4 s after the lost first initiation.
    expect(events.map((e) => e.filter((x) => x.type === 'transport-switch'))).toEqual([[], []]);
    expect(received.map((r) => r.length)).toEqual([10, 10]);
  });

  it('stays on UDP while the peer\'s data keeps arriving over UDP, though its answers to our handshake are lost (load, not a firewall)', async () => {
    const { network, managers, ports, received, events } = pair();
    await managers[0]!.start();
    await managers[1]!.start();
    await vi.advanceTimersByTimeAsync(10);
    // From now on h2's handshake responses (type 2) to h1 vanish, as from a Proxy whose receive buffer is full.
    network.dropWhere((bytes, from) => bytes[0] === 2 && from.host === '198.18.0.2');
    managers[0]!.connectPeer('h2', { force: true });
    for (let i = 0; i < 16; i++) {
      ports[1]!.send([frame]);
      await vi.advanceTimersByTimeAsync(500);
    }
    expect(events[0]!.filter((e) => e.type === 'transport-switch')).toEqual([]);
    expect(managers[0]!.status()[0]!.transport).toBe('udp');
    expect(received[0]!.length).toBe(16);
    // Without data from h2 the same loss is a blocked path: h1 falls back within the 5 s.
    network.dropWhere((bytes, from) => from.host === '198.18.0.2' && from.transport === 'udp');
    managers[0]!.connectPeer('h2', { force: true });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(events[0]!.filter((e) => e.type === 'transport-switch').map((e) => (e as { to: string }).to)).toContain('tcp');
  });

  it('a hub answers one initiation a second from each of its peers without cookies (more is load: cookies)', async () => {
    const network = new MemoryNetwork();
    const clock = { ...systemClock, now: () => Date.now() };
    // Randomness from the OS: the LCG above repeats its low byte every 256 draws, too soon for 101 keys and indices.
    const osRandom = (n: number): Uint8Array => new Uint8Array(nodeRandomBytes(n));
    const quiet = { log: createLogger({ write: () => {} }), clock, wallClock: () => Date.now(), randomBytes: osRandom };
    const hubKey = generatePrivateKey(osRandom);
    const hub = new LinkManager({ ...quiet, privateKey: hubKey, udp: network.createTransport({ kind: 'udp', listen: { host: '198.18.1.1', port: 51820 } }) });
    const hosts = Array.from({ length: 100 }, (_, i) => {
      const key = generatePrivateKey(osRandom);
      const host = `198.18.0.${i + 1}`;
      hub.addPeer({ name: `h${i + 1}`, publicKey: publicKey(key), transport: 'udp', udpEndpoint: { transport: 'udp', host, port: 51820 } });
      const manager = new LinkManager({ ...quiet, privateKey: key, udp: network.createTransport({ kind: 'udp', listen: { host, port: 51820 } }) });
      manager.addPeer({ name: 'proxy', publicKey: publicKey(hubKey), transport: 'udp', udpEndpoint: { transport: 'udp', host: '198.18.1.1', port: 51820 } });
      return manager;
    });
    await hub.start();
    // All 100 hosts start (and initiate) within the same second: a star after its Proxy restarted.
    for (const h of hosts) await h.start();
    await vi.advanceTimersByTimeAsync(50);
    expect(hub.underlayDrops()['cookie-required'] ?? 0).toBe(0);
    expect(hub.status().filter((l) => l.state === 'up').length).toBe(100);
  });

  it('counts a garbage payload inside an authenticated packet and keeps the session', async () => {
    const { managers, ports, received } = pair({ mode: 'udp' });
    await managers[0]!.start();
    await managers[1]!.start();
    await vi.advanceTimersByTimeAsync(10);
    managers[0]!.sendControl('h2', new Uint8Array(0)); // a control message with no handler on the other side: ignored
    managers[0]!.sendIp('h2', Uint8Array.of(0x99, 1, 2, 3)); // unknown payload type
    await vi.advanceTimersByTimeAsync(10);
    expect(managers[1]!.status()[0]!.drops).toMatchObject({ 'payload-unknown-type': 1 });
    ports[0]!.send([frame]);
    await vi.advanceTimersByTimeAsync(10);
    expect(received[1]).toEqual([frame]);
  });

  it('raises link-up when the session comes up, transport-switch on each move, link-down when the session expires', async () => {
    const { network, managers, events } = pair();
    network.block('udp');
    await managers[0]!.start();
    await managers[1]!.start();
    await vi.advanceTimersByTimeAsync(4_900);
    expect(events[0]).toEqual([
      { type: 'transport-switch', link: 'h2', from: 'udp', to: 'tcp', reason: 'udp-unanswered' },
      { type: 'link-up', link: 'h2', via: expect.stringMatching(/^tcp:198\.18\.0\.2:/) },
    ]);
    network.block('udp', false);
    await vi.advanceTimersByTimeAsync(15_000);
    expect(events[0]!.filter((e) => e.type === 'transport-switch').at(-1)).toMatchObject({ from: 'tcp', to: 'udp' });
    events[0]!.length = 0;
    // The peer goes away: no new session, and after 3 × Reject-After-Time its keys are zeroed.
    await managers[1]!.stop();
    await vi.advanceTimersByTimeAsync(600_000);
    expect(events[0]!.filter((e) => e.type !== 'transport-switch')).toEqual([{ type: 'link-down', link: 'h2', reason: 'session expired' }]);
  });

  it('raises nothing, and runs the same, with no sink', async () => {
    const network = new MemoryNetwork();
    const key = generatePrivateKey(randomBytes);
    const manager = new LinkManager({
      privateKey: key,
      udp: network.createTransport({ kind: 'udp', listen: { host: '198.18.0.9', port: 51820 } }),
      clock: { ...systemClock, now: () => Date.now() },
      wallClock: () => Date.now(),
      randomBytes,
      log: createLogger({ write: () => {} }),
    });
    manager.addPeer({ name: 'x', publicKey: publicKey(generatePrivateKey(randomBytes)), transport: 'udp', udpEndpoint: { transport: 'udp', host: '198.18.0.8', port: 51820 } });
    await manager.start();
    await vi.advanceTimersByTimeAsync(10_000);
    await manager.stop();
    expect(manager.status()[0]!.state).toBe('connecting');
  });

  it('tells the TCP transport which connection carried an authenticated packet (it ends that one\'s handshake deadline)', async () => {
    const calls: [number, Endpoint][] = [];
    const { managers } = pair({ mode: 'tcp', onAuthenticated: (side, from) => calls.push([side, from]) });
    await managers[0]!.start();
    await managers[1]!.start();
    await vi.advanceTimersByTimeAsync(10);
    expect(managers.map((m) => m.status()[0]!.state)).toEqual(['up', 'up']);
    // Each side saw the other's first authenticated message on a connection it reports with its id.
    expect(calls.map(([side]) => side).sort()).toEqual([0, 1]);
    for (const [, from] of calls) expect(from).toMatchObject({ transport: 'tcp', connectionId: expect.any(Number) });
  });

  it('counts what reaches it from no link by fixed reason, apart from the links', async () => {
    const { network, managers } = pair({ mode: 'udp' });
    await managers[0]!.start();
    await managers[1]!.start();
    await vi.advanceTimersByTimeAsync(10);
    const stranger = network.createTransport({ kind: 'udp', listen: { host: '198.18.0.9', port: 51820 } });
    await stranger.start({ message: () => {} });
    const to = { transport: 'udp' as const, host: '198.18.0.2', port: 51820 };
    const initiation = new Uint8Array(148);
    initiation[0] = 1; // an initiation whose mac1 is not for this host's key
    const transport = new Uint8Array(48);
    transport[0] = 4; // a session packet for a receiver index nobody has
    transport[4] = 0xaa;
    stranger.send(initiation, to);
    stranger.send(transport, to);
    stranger.send(Uint8Array.from({ length: 20 }, () => 9), to);
    managers[1]!.sendIp('nobody', Uint8Array.of(0x45)); // no such link: nothing sent, nothing counted
    await vi.advanceTimersByTimeAsync(10);
    expect(managers[1]!.underlayDrops()).toEqual({ 'bad-mac1': 1, 'unknown-receiver': 1, 'unknown-type': 1 });
    expect(managers[1]!.status()[0]!.drops).toEqual({});
    // The transports' drops come along, by transport.
    network.block('udp');
    managers[1]!.sendIp('h1', Uint8Array.of(0x45, 0, 0, 20, ...new Array<number>(16).fill(0)));
    expect(managers[1]!.underlayDrops()).toEqual({ 'bad-mac1': 1, 'unknown-receiver': 1, 'unknown-type': 1, 'udp:blocked': 1 });
    await stranger.close();
  });
});

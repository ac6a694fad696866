/**
 * The events the primitives and the overlay raise (switch/events.ts), on memory twins: a datapath with a VM port,
 * a LinkManager on a MemoryNetwork, fake timers only.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../../switch/clock.js';
import { Datapath } from '../../../switch/datapath.js';
import type { SwitchEvent } from '../../../switch/events.js';
import { LinkManager } from '../../../switch/link/link-manager.js';
import { encodeKeyBase64, generatePrivateKey, publicKey } from '../../../switch/link/noise/crypto.js';
import { MemoryNetwork } from '../../../switch/link/transport/memory-transport.js';
import { createLogger } from '../../../switch/log.js';
import { LocalPrimitives } from '../../../switch/overlay/local-primitives.js';
import { Overlay } from '../../../switch/overlay/overlay.js';
import { SwitchCore } from '../../../switch/pipeline/forward.js';
import { MemoryPort } from '../../../switch/port/memory-port.js';

let seed = 11;
const randomBytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) >>> 0) & 0xff);
const log = createLogger({ write: () => {} });
const clock = { ...systemClock, now: () => Date.now() };

async function aSwitch(opts: { proxyPeer?: string } = {}) {
  const events: SwitchEvent[] = [];
  const sink = { emit: (e: SwitchEvent) => events.push(e) };
  const network = new MemoryNetwork();
  const links = new LinkManager({
    privateKey: generatePrivateKey(randomBytes),
    udp: network.createTransport({ kind: 'udp', listen: { host: '198.18.0.1', port: 51820 } }),
    clock,
    wallClock: () => Date.now(),
    randomBytes,
    log,
  });
  if (opts.proxyPeer) {
    links.addPeer({
      name: opts.proxyPeer,
      publicKey: publicKey(generatePrivateKey(randomBytes)),
      transport: 'udp',
      udpEndpoint: { transport: 'udp', host: '198.18.1.1', port: 51820 },
    });
  }
  await links.start();
  const datapath = new Datapath({ core: new SwitchCore({}), clock, log });
  datapath.attach(new MemoryPort('vm1'), { floods: true });
  const primitives = new LocalPrimitives({ datapath, links: () => links, log, events: sink });
  return { events, sink, links, datapath, primitives };
}

const peerKey = (): string => encodeKeyBase64(publicKey(generatePrivateKey(randomBytes)));

describe('LocalPrimitives raise what they change, with who changed it', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_700_000_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('link-added, rule-added, rule-deleted, link-deleted', async () => {
    const { events, primitives, links } = await aSwitch();
    await primitives.addLink({ name: 'h2', publicKey: peerKey(), endpoint: '198.18.0.2:51820', transport: 'udp' }, { name: 'admin' });
    const rule = await primitives.addRule({ src: 'any', dst: '02:00:00:00:00:02', target: 'h2', priority: 3 }, { name: 'fastpath' });
    await primitives.deleteRule(rule.id, { name: 'fastpath' });
    await primitives.addLink({ name: 'h3', publicKey: peerKey(), transport: 'udp' }, { name: 'admin' });
    await primitives.deleteLink('h2', { name: 'cli' });
    await links.stop();
    expect(events).toEqual([
      { type: 'link-added', link: 'h2', endpoint: '198.18.0.2:51820', by: 'admin' },
      { type: 'rule-added', rule: rule.id, src: 'any', dst: '02:00:00:00:00:02', target: 'h2', by: 'fastpath' },
      { type: 'rule-deleted', rule: rule.id, by: 'fastpath' },
      { type: 'link-added', link: 'h3', by: 'admin' },
      { type: 'link-deleted', link: 'h2', by: 'cli' },
    ]);
  });

  it('raises nothing for a change refused, nor for the config-time bound', async () => {
    const { events, primitives, links } = await aSwitch();
    await expect(primitives.addRule({ src: 'nonsense', dst: 'any', target: 'x' }, { name: 'admin' })).rejects.toMatchObject({ code: 'invalid-input' });
    const rule = await primitives.addRule({ src: 'any', dst: 'any', target: 'vm1' }, { name: 'admin' });
    events.length = 0;
    // A policy may not delete an operator's rule.
    await expect(primitives.deleteRule(rule.id, { name: 'fastpath' })).rejects.toMatchObject({ code: 'conflict' });
    await expect(primitives.deleteLink('nope', { name: 'admin' })).rejects.toMatchObject({ code: 'not-found' });
    await primitives.setConfigTimeBound(5000, { name: 'admin' });
    await links.stop();
    expect(events).toEqual([]);
  });
});

describe('the overlay raises star-silent', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_700_000_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('on a host that hears nothing from its Proxy, at each re-handshake, with the retry count', async () => {
    const { sink, events, links, primitives } = await aSwitch({ proxyPeer: 'proxy' });
    const overlay = new Overlay({ role: 'host', name: 'h1', links, primitives, proxyPeer: 'proxy', clock, wallClock: () => Date.now(), log, events: sink });
    overlay.start();
    await vi.advanceTimersByTimeAsync(2_500);
    expect(events).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_600);
    overlay.stop();
    await links.stop();
    expect(events).toEqual([
      { type: 'star-silent', link: 'proxy', retry: 1 },
      { type: 'star-silent', link: 'proxy', retry: 2 },
    ]);
  });
});

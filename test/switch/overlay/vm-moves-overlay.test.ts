/**
 * VM moves across real daemons in memory (no plugins): what the Proxy announces, what hosts do with it, and who may
 * say what. Moves here are made with Datapath.detach/attach and frames injected on memory ports.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../../daemon/daemon.js';
import { DaemonMetrics } from '../../../api/http/metrics.js';
import { formatMac, readMac } from '../../../switch/frame/mac.js';
import { MemoryPort } from '../../../switch/port/memory-port.js';
import { ethernetFrame } from '../../support/frames.js';
import { startMemoryOverlay, vmMac, type MemoryOverlay } from '../../support/memory-overlay.js';
import { moveVm } from '../../support/move-vm.js';

const running: MemoryOverlay[] = [];
afterEach(async () => {
  while (running.length) await running.pop()!.stop();
});

async function overlay(options: Parameters<typeof startMemoryOverlay>[0] = {}): Promise<MemoryOverlay> {
  const o = await startMemoryOverlay(options);
  running.push(o);
  return o;
}

const M = vmMac('h1');
const V3 = vmMac('h3');
const BROADCAST = 'ff:ff:ff:ff:ff:ff';
const eventsNamed = (d: Daemon, name: string) => d.events.list().filter((e) => e.event === name);
const send = (from: Daemon, peer: string, message: unknown) => from.links!.sendControl(peer, new TextEncoder().encode(JSON.stringify(message)));
const testMacOf = (i: number) => `02:00:c6:13:01:${(0x10 + i).toString(16).padStart(2, '0')}`;

describe('VM moves across the star', () => {
  it('a move seen only on unicast frames is announced on the new host\'s claim; the old host forgets its VM port\'s entry', async () => {
    const o = await overlay();
    const { proxy, hosts, ports, until, clock } = o;
    const [h1, h2] = [hosts.get('h1')!, hosts.get('h2')!];
    ports.get('tap-h1v1')!.inject([ethernetFrame({ src: M, dst: BROADCAST })]);
    ports.get('tap-h3v1')!.inject([ethernetFrame({ src: V3, dst: BROADCAST })]);
    await clock.advance(20);
    expect(proxy.macEntries().find((e) => e.mac === M)?.port).toBe('h1');
    // A live migration: the guest runs on h2 now; its old TAP on h1 is still there (QEMU exits later), and it sends
    // no announcement, only its traffic.
    const fresh = new MemoryPort('tap-h2m');
    h2.datapath.attach(fresh, { floods: true });
    fresh.inject([ethernetFrame({ src: M, dst: V3 })]);
    await until(() => eventsNamed(proxy, 'vm-move-converged').length === 1, 2000);
    expect(eventsNamed(proxy, 'vm-moved').map((e) => e.fields)).toEqual([{ mac: M, from: 'h1', to: 'h2' }]);
    expect(eventsNamed(proxy, 'vm-move-converged')[0]!.fields).toMatchObject({ complete: true, hosts: 3 });
    expect(h2.status().moves).toMatchObject({ arrivalsSent: 1 });
    // h1 still had M on its VM port: told that M is at h2, it forgot it (frames for M go up its default rule now).
    expect(h1.macEntries().find((e) => e.mac === M)).toBeUndefined();
    expect(h1.status().moves).toMatchObject({ applied: 1, forgotten: 1 });
    ports.get('tap-h3v1')!.inject([ethernetFrame({ src: V3, dst: M })]);
    await until(() => fresh.sent.some((f) => formatMac(readMac(f, 6)) === V3), 500, 'V3 → M reaches h2');
  });

  it('a host relaying a frame it could not deliver (a hairpin) moves nothing in the announcements', async () => {
    const o = await overlay();
    const { proxy, hosts, ports, clock } = o;
    ports.get('tap-h3v1')!.inject([ethernetFrame({ src: V3, dst: BROADCAST })]);
    ports.get('tap-h1v1')!.inject([ethernetFrame({ src: M, dst: BROADCAST })]);
    await clock.advance(20);
    // h1 sends up its default rule a frame from V3 to M (as if it came over a fast link while M was moving).
    const h1Star = proxy.datapath.get('h1')!;
    proxy.datapath.receive(h1Star, [ethernetFrame({ src: V3, dst: M })]);
    await clock.advance(2500);
    expect(proxy.macEntries().find((e) => e.mac === V3)?.port).toBe('h1'); // the table learns, as any switch
    expect(eventsNamed(proxy, 'vm-moved')).toEqual([]); // but no host is told V3 left h3
    expect(hosts.get('h3')!.macEntries().find((e) => e.mac === V3)?.port).toBe('tap-h3v1');
  });

  it('only the Proxy may announce a move: a host refuses one from another host, the Proxy one from a host; both counted', async () => {
    const peers = (h: string, pub: (n: string) => string) =>
      h === 'h1' ? `  - { name: h2, publicKey: "${pub('h2')}", endpoint: "198.18.0.2:51820" }\n` : h === 'h2' ? `  - { name: h1, publicKey: "${pub('h1')}", endpoint: "198.18.0.1:51820" }\n` : '';
    const o = await overlay({ hostPeersYaml: peers });
    const { proxy, hosts, ports, until, clock } = o;
    const [h1, h2] = [hosts.get('h1')!, hosts.get('h2')!];
    await until(() => h1.linkStatuses().every((l) => l.state === 'up'), 3000);
    ports.get('tap-h1v1')!.inject([ethernetFrame({ src: M, dst: BROADCAST })]);
    await clock.advance(20);
    send(h2, 'h1', { t: 'mac-moved', id: 1, mac: M, host: 'h2' }); // h2 → h1 over their direct link
    send(h2, 'proxy', { t: 'mac-moved', id: 1, mac: M, host: 'h2' }); // h2 → the Proxy
    send(h2, 'proxy', { t: 'mac-moved-ack', id: 99 }); // an ack of nothing
    send(h2, 'h1', { t: 'mac-arrived', mac: M }); // an arrival told to a host
    send(h2, 'proxy', { t: 'mac-moved', id: 1, mac: 'ff:ff:ff:ff:ff:ff', host: 'h2' }); // malformed: a group MAC
    await clock.advance(50);
    expect(h1.status().refused!.control).toMatchObject({ 'mac-moved-not-from-proxy': 1, 'mac-arrived-not-from-host': 1 });
    expect(proxy.status().refused!.control).toMatchObject({ 'mac-moved-not-from-proxy': 1, 'mac-moved-ack-unexpected': 1, 'mac-moved-invalid': 1 });
    expect(h1.macEntries().find((e) => e.mac === M)?.port).toBe('tap-h1v1'); // nothing forgotten
    expect(h1.status().moves).toMatchObject({ applied: 0, forgotten: 0 });
    expect(eventsNamed(proxy, 'vm-moved')).toEqual([]);
  });

  it('a hostile host claiming every MAC is bounded per host, and a flapping MAC per MAC; both counted', async () => {
    const o = await overlay();
    const { proxy, hosts, ports, clock } = o;
    const h3 = hosts.get('h3')!;
    // 50 VMs behind h1 (their broadcasts taught the Proxy), then h3 claims them all at once.
    ports.get('tap-h1v1')!.inject(Array.from({ length: 50 }, (_, i) => ethernetFrame({ src: testMacOf(i), dst: BROADCAST })));
    await clock.advance(20);
    for (let i = 0; i < 50; i++) send(h3, 'proxy', { t: 'mac-arrived', mac: testMacOf(i) });
    await clock.advance(20);
    expect(eventsNamed(proxy, 'vm-moved')).toHaveLength(20); // the burst
    expect(proxy.status().moves?.refused['host-rate']).toBe(30);
    await clock.advance(1000); // 10 a second after that (deferred claims retried on the Proxy's tick)
    expect(eventsNamed(proxy, 'vm-moved').length).toBeLessThanOrEqual(31);
    expect(eventsNamed(proxy, 'vm-moved').length).toBeGreaterThanOrEqual(29);

    // One MAC flapping between h1 and h2 (a loop, or two guests with one MAC): 3 moves, then one every 2 s.
    const flap = vmMac('h2');
    for (let i = 0; i < 10; i++) {
      ports.get(i % 2 === 0 ? 'tap-h1v1' : 'tap-h2v1')!.inject([ethernetFrame({ src: flap, dst: BROADCAST })]);
      await clock.advance(10);
    }
    const flapMoves = () => eventsNamed(proxy, 'vm-moved').filter((e) => e.fields.mac === flap).length;
    expect(flapMoves()).toBe(3);
    expect(proxy.status().moves!.refused['mac-rate']).toBeGreaterThanOrEqual(6);
    const metrics = await new DaemonMetrics(() => ({ status: proxy.status(), rules: [], nowMs: 0 })).scrape();
    expect(metrics).toMatch(/^vswitch_vm_moves_refused_total\{reason="host-rate"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^vswitch_vm_moves_refused_total\{reason="mac-rate"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^vswitch_vm_moves_total \d+$/m);
  });

  it('moves the lab way: the port leaves h1, comes on h2, and the guest announces itself', async () => {
    const o = await overlay();
    const { proxy, hosts, ports, until, clock } = o;
    const [h1, h2] = [hosts.get('h1')!, hosts.get('h2')!];
    ports.get('tap-h1v1')!.inject([ethernetFrame({ src: M, dst: BROADCAST })]);
    await clock.advance(20);
    moveVm(o, { mac: M, ip: '198.19.1.1', port: 'tap-h1v1' }, h1, h2, 'tap-h2m').announce();
    await until(() => eventsNamed(proxy, 'vm-move-converged').length === 1, 2000);
    expect(eventsNamed(proxy, 'vm-moved').map((e) => e.fields)).toEqual([{ mac: M, from: 'h1', to: 'h2' }]);
    // Detected once although the arrival claim came too.
    await clock.advance(3000);
    expect(eventsNamed(proxy, 'vm-moved')).toHaveLength(1);
    expect(proxy.status().moves).toMatchObject({ detected: 1, converged: 1, incomplete: 0 });
  });
});

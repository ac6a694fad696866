/**
 * A VM that moves, with fast paths toward it (issue #16): a Proxy and three hosts in memory. h1's VM (M) and h3's VM
 * (V3) talk, so the fast-path plugin links h1–h3 with a rule on each end. Then M moves to h2 (its port leaves h1,
 * a port with its MAC comes on h2, and it sends a gratuitous ARP). The Proxy detects the move on that broadcast,
 * tells every host, and the plugin removes its rules toward h1 at once: from convergence on no frame reaches h1, every
 * frame reaches M at h2, the next reconcile links h2–h3 with rules there, and VTTIF counts the pair from h2.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../../daemon/daemon.js';
import { vttifServiceOf } from '../../../plugins/vttif/daemon-plugin.js';
import type { FastPath } from '../../../plugins/fastpath/fastpath.js';
import { ethernetFrame } from '../../support/frames.js';
import { startMemoryOverlay, vmMac, type MemoryOverlay } from '../../support/memory-overlay.js';
import { moveVm } from '../../support/move-vm.js';

const running: MemoryOverlay[] = [];
afterEach(async () => {
  while (running.length) await running.pop()!.stop();
});

const VTTIF = 'vttif: { updateRateHz: 20, smoothingMs: 200, threshold: 0.1 }';
const M = vmMac('h1');
const V3 = vmMac('h3');

const fastRules = async (d: Daemon) => (await d.primitives.rules()).filter((r) => r.owner === 'proxy:fastpath');
const namesM = (r: { src: string; dst: string }) => r.src === M || r.dst === M;
const eventsNamed = (d: Daemon, name: string) => d.events.list().filter((e) => e.event === name);
/** Ethernet frames a daemon received on all its ports (VM ports and links; control messages are not frames). */
const framesIn = (d: Daemon) => d.portStatuses().reduce((n, p) => n + p.rxFrames, 0);

describe('the fast path follows a VM that moves', () => {
  it('h1 → h2 with a fast path from h3: rules toward h1 go at once, nothing reaches h1, fast paths re-form at h2', async () => {
    const o = await startMemoryOverlay({ proxyYaml: `${VTTIF}\nfastpath: { enabled: true, removeAfterMs: 2000 }`, hostYaml: VTTIF });
    running.push(o);
    const { proxy, hosts, ports, until, clock } = o;
    const [h1, h2, h3] = ['h1', 'h2', 'h3'].map((h) => hosts.get(h)!) as [Daemon, Daemon, Daemon];
    let mPort = ports.get('tap-h1v1')!;
    const talk = clock.every(10, () => {
      mPort.inject([ethernetFrame({ src: M, dst: V3, payloadBytes: 1000 })]);
      ports.get('tap-h3v1')!.inject([ethernetFrame({ src: V3, dst: M, payloadBytes: 1000 })]);
    });
    try {
      await until(async () => (await fastRules(h1)).length === 1 && (await fastRules(h3)).length === 1, 8000, 'fast path h1–h3');
      expect(await fastRules(h3)).toEqual([expect.objectContaining({ src: V3, dst: M, target: 'fp-h1' })]);
      await until(() => vttifServiceOf(proxy)!.matrix().pairs.some((p) => p.hosts.join() === 'h1,h3'), 2000);

      const moved = moveVm(o, { mac: M, ip: '198.19.1.1', port: 'tap-h1v1' }, h1, h2, 'tap-h2m');
      mPort = moved.port;
      moved.announce();
      await until(() => eventsNamed(proxy, 'vm-move-converged').length === 1, 2000, 'move converged');

      // Detected once, on the announcement, with where it was and where it is; followed everywhere.
      expect(eventsNamed(proxy, 'vm-moved').map((e) => e.fields)).toEqual([{ mac: M, from: 'h1', to: 'h2' }]);
      const converged = eventsNamed(proxy, 'vm-move-converged')[0]!;
      expect(converged.fields).toMatchObject({ mac: M, from: 'h1', to: 'h2', hosts: 3, complete: true });
      expect(converged.fields.convergeMs).toBeLessThan(100);
      expect(proxy.status().moves).toMatchObject({ detected: 1, converged: 1, incomplete: 0, lastConvergeMs: converged.fields.convergeMs });
      // The plugin's rules naming M are gone on every host the moment the move converged.
      for (const h of [h1, h2, h3]) expect((await fastRules(h)).filter(namesM)).toEqual([]);
      // h3 had M behind its fast link to h1; the announcement flooded over the star re-taught it behind the star
      // (a host told by mac-moved alone forgets it: vm-moves-overlay.test.ts). Every host acted on the announcement.
      expect(h3.macEntries().find((e) => e.mac === M)?.port).toBe('proxy');
      for (const h of [h1, h2, h3]) expect(h.status().moves).toMatchObject({ applied: 1 });
      expect(proxy.macEntries().find((e) => e.mac === M)?.port).toBe('h2');

      // From now on nothing reaches h1, and M gets V3's frames at h2.
      const h1Before = framesIn(h1);
      const mBefore = moved.port.sent.length;
      const v3Before = ports.get('tap-h3v1')!.sent.length;
      await clock.advance(500);
      expect(framesIn(h1)).toBe(h1Before);
      expect(moved.port.sent.length - mBefore).toBeGreaterThanOrEqual(45); // 50 sent in 500 ms
      expect(ports.get('tap-h3v1')!.sent.length - v3Before).toBeGreaterThanOrEqual(45);

      // The next reconciles: h1–h3 went with its last pair, h2–h3 comes with a rule on each end.
      await until(async () => (await fastRules(h2)).length === 1 && (await fastRules(h3)).length === 1, 8000, 'fast path h2–h3');
      expect(await fastRules(h2)).toEqual([expect.objectContaining({ src: M, dst: V3, target: 'fp-h3' })]);
      expect(await fastRules(h3)).toEqual([expect.objectContaining({ src: V3, dst: M, target: 'fp-h2' })]);
      expect((await h1.primitives.links()).map((l) => l.name)).toEqual(['proxy']);
      const status = (proxy.pluginExports('fastpath') as FastPath).status();
      expect(status.links).toEqual([expect.objectContaining({ a: 'h2', b: 'h3', state: 'up', rules: 2 })]);
      expect(status.counters.movesFollowed).toBe(1);
      // VTTIF counts the pair from h2 (and h3), h1's reports having left the window.
      await until(() => vttifServiceOf(proxy)!.matrix().pairs.some((p) => p.a === M && p.b === V3 && p.hosts.join() === 'h2,h3'), 2000, 'vttif at h2');
      expect(framesIn(h1)).toBe(h1Before);
    } finally {
      talk.cancel();
    }
  }, 30_000);

  it('warns of, and leaves alone, an operator rule that names the VM', async () => {
    const o = await startMemoryOverlay({ proxyYaml: `${VTTIF}\nfastpath: { enabled: true }`, hostYaml: VTTIF });
    running.push(o);
    const { proxy, hosts, until } = o;
    const [h1, h2, h3] = ['h1', 'h2', 'h3'].map((h) => hosts.get(h)!) as [Daemon, Daemon, Daemon];
    const pinned = await h3.primitives.addRule({ src: 'any', dst: M, target: 'proxy', priority: 5 }, { name: 'ops' });
    // M is known behind h1 at the Proxy (its broadcast crossed the star), then moves to h2.
    o.ports.get('tap-h1v1')!.inject([ethernetFrame({ src: M, dst: 'ff:ff:ff:ff:ff:ff' })]);
    await o.clock.advance(20);
    moveVm(o, { mac: M, ip: '198.19.1.1', port: 'tap-h1v1' }, h1, h2, 'tap-h2m').announce();
    await until(() => eventsNamed(proxy, 'fastpath-move-rule-kept').length === 1, 2000);
    expect(eventsNamed(proxy, 'fastpath-move-rule-kept')[0]).toMatchObject({ level: 'warn', fields: { mac: M, host: 'h3', rule: pinned.id, owner: 'ops' } });
    expect((await h3.primitives.rules()).map((r) => r.id)).toContain(pinned.id);
  }, 15_000);
});

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
import { systemClock } from '../../../switch/clock.js';
import { FastPath as FastPathCore } from '../../../plugins/fastpath/fastpath.js';
import { createLogger } from '../../../switch/log.js';
import type { MacView, Primitives, RuleInput } from '../../../switch/overlay/primitives.js';
import { linkStatus } from '../../support/link-status.js';

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

/** The plugin alone, with primitives faked: two hosts, a fast link always up; addRule can be held. */
function harness() {
  const nowMs = 1000;
  const key = (c: string) => `${c.repeat(42)}A=`;
  const link = (name: string, publicKey = key('B'), endpoint = 'udp:198.18.0.1:51820') => linkStatus({ name, state: 'up', publicKey, endpoint });
  const rules = new Map<number, RuleInput & { host: string }>();
  const deleted: number[] = [];
  let nextId = 1;
  let hold: Promise<void> | undefined;
  const made = new Map<string, string[]>();
  const host = (h: string) =>
    ({
      addLink: async (l: { name: string }) => (made.set(h, [...(made.get(h) ?? []), l.name]), link(l.name)),
      deleteLink: async () => undefined,
      links: async () => (made.get(h) ?? []).map((n) => link(n)),
      rules: async () => [],
      addRule: async (r: RuleInput) => {
        const id = nextId++;
        if (hold) await hold;
        rules.set(id, { ...r, host: h });
        return { id, ...r, priority: 0, owner: 'proxy:fastpath', hitFrames: 0, hitBytes: 0 };
      },
      deleteRule: async (id: number) => void (deleted.push(id), rules.delete(id)),
    }) as unknown as Primitives;
  const macs: MacView[] = [
    { mac: M, port: 'h1', static: false, ageS: 1 },
    { mac: V3, port: 'h3', static: false, ageS: 1 },
  ];
  const fastpath = new FastPathCore({
    clock: { ...systemClock, now: () => nowMs },
    log: createLogger({ write: () => {} }),
    subscribe: () => () => {},
    currentEdges: () => [{ a: M, b: V3, intensity: 1 }],
    host,
    proxyLinks: () => [link('h1'), link('h2', key('C'), 'udp:198.18.0.2:51820'), link('h3', key('D'), 'udp:198.18.0.3:51820')],
    listenPorts: () => ({ udp: 51820 }),
    proxyMacs: () => macs,
  });
  let release: () => void = () => {};
  return {
    fastpath,
    rules,
    deleted,
    macs,
    holdRules: () => (hold = new Promise<void>((resolve) => (release = resolve))),
    releaseRules: () => {
      hold = undefined;
      release();
    },
  };
}

describe('the fast-path plugin and moves, alone', () => {
  it('a rule still being added when its VM moves is deleted as soon as it lands, and not kept', async () => {
    const h = harness();
    await h.fastpath.reconcile(); // adds h1–h3
    h.holdRules();
    const installing = h.fastpath.tick(); // the link is up: its two rules are being added
    await new Promise((r) => setImmediate(r));
    await h.fastpath.vmMoved({ mac: M, from: 'h1', to: 'h2' });
    h.releaseRules();
    await installing;
    expect([...h.rules.values()]).toEqual([]);
    expect(h.deleted).toHaveLength(2);
    expect(h.fastpath.status().links.flatMap((l) => (l.rules > 0 ? [l] : []))).toEqual([]);
  });

  it('learns from the Proxy\'s MAC table only VMs it does not know: a VM seen there behind another host (a relayed frame) moves nothing', async () => {
    const h = harness();
    await h.fastpath.reconcile();
    await h.fastpath.tick();
    expect([...h.rules.values()].map((r) => `${r.host} ${r.dst}`).sort()).toEqual([`h1 ${V3}`, `h3 ${M}`]);
    h.macs[0] = { mac: M, port: 'h2', static: false, ageS: 0 }; // the Proxy's table, for a moment
    await h.fastpath.tick();
    await h.fastpath.tick();
    expect([...h.rules.values()].map((r) => `${r.host} ${r.dst}`).sort()).toEqual([`h1 ${V3}`, `h3 ${M}`]);
    expect(h.fastpath.status().links.map((l) => `${l.a}–${l.b}`)).toEqual(['h1–h3']);
    expect(h.deleted).toEqual([]);
    // The announcement moves it: the rules toward h1 go, the next reconcile forms h2–h3.
    await h.fastpath.vmMoved({ mac: M, from: 'h1', to: 'h2' });
    expect([...h.rules.values()]).toEqual([]);
    await h.fastpath.tick();
    await h.fastpath.tick();
    expect([...h.rules.values()].map((r) => `${r.host} ${r.src} ${r.dst} ${r.target}`).sort()).toEqual([`h2 ${M} ${V3} fp-h3`, `h3 ${V3} ${M} fp-h2`]);
  });
});

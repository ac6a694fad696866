/**
 * Proxy HA with real Daemons in memory (issue 19 part 3): two Proxies p1, p2 elect on a memory etcd; hosts h1, h2
 * link to both (`proxy: [p1, p2]`). The active one dies: the hosts follow the other within the lease TTL and a
 * step, their default rule and flood port move, frames cross again — no host restarted. Everything on one
 * ManualClock (nothing sleeps).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { formatMac, readMac } from '../../switch/frame/mac.js';
import { HOSTS, haOverlay, vm, type HaOverlay } from '../support/ha-overlay.js';
import { ethernetFrame } from '../support/frames.js';

let current: HaOverlay | undefined;
afterEach(async () => {
  await current?.stop();
  current = undefined;
});

const following = (o: HaOverlay, h: string) => o.daemons.get(h)!.status().ha?.following;
const starTarget = (o: HaOverlay, h: string) => o.daemons.get(h)!.datapath.core.rules.list().find((r) => r.owner === 'star')?.target;

/** h2's VM announces itself (a broadcast: every Proxy on the star learns where it is). */
async function announce(o: HaOverlay): Promise<void> {
  o.ports.get('tap-h2v1')!.inject([ethernetFrame({ src: vm('h2'), dst: 'ff:ff:ff:ff:ff:ff' })]);
  await o.clock.advance(50);
}

/** A frame from h1's VM to h2's VM (unknown at h1: up its default rule) reaches h2's port. */
async function crosses(o: HaOverlay, what: string): Promise<void> {
  const to = o.ports.get('tap-h2v1')!;
  const before = to.sent.length;
  o.ports.get('tap-h1v1')!.inject([ethernetFrame({ src: vm('h1'), dst: vm('h2') })]);
  await o.until(() => to.sent.slice(before).some((f) => formatMac(readMac(f, 6)) === vm('h1')), 1000, what);
}

describe('Proxy HA (memory overlay)', () => {
  it('hosts follow the elected Proxy: default rule and flooding on its link only', async () => {
    const o = (current = await haOverlay());
    await o.until(() => HOSTS.every((h) => (following(o, h)?.epoch ?? 0) > 0), 3000, 'hosts told of the active proxy');
    expect(o.daemons.get('p1')!.status().ha?.election).toMatchObject({ role: 'active' });
    expect(o.daemons.get('p2')!.status().ha?.election).toMatchObject({ role: 'standby', leader: { name: 'p1' } });
    for (const h of HOSTS) {
      expect(following(o, h)).toMatchObject({ active: 'p1', proxies: ['p1', 'p2'] });
      expect(starTarget(o, h)).toBe('p1');
      const core = o.daemons.get(h)!.datapath.core;
      expect(['p1', 'p2'].map((l) => core.portStats(core.portId(l)!).floods)).toEqual([true, false]);
    }
    await announce(o);
    await crosses(o, 'h1 → h2 over p1');
    // Both links of a host stay up: the standby's is warm.
    for (const h of HOSTS) expect(o.daemons.get(h)!.linkStatuses().map((l) => [l.name, l.state])).toEqual([['p1', 'up'], ['p2', 'up']]);
  });

  it('the active Proxy dies: within the TTL and a step the hosts follow the standby, no host restarted, frames cross again', async () => {
    const o = (current = await haOverlay());
    await o.until(() => HOSTS.every((h) => following(o, h)?.active === 'p1' && following(o, h)!.epoch > 0), 3000, 'hosts follow p1');
    await announce(o);
    await crosses(o, 'h1 → h2 over p1');
    const hostsBefore = HOSTS.map((h) => o.daemons.get(h));
    const oldEpoch = following(o, 'h1')!.epoch;
    // A SIGKILL: p1 reaches etcd no more (no revoke) and its links go silent.
    o.etcd.get('p1')!.cut = true;
    await o.daemons.get('p1')!.stop();
    o.daemons.delete('p1');
    const diedAt = o.clock.now();
    await o.until(() => HOSTS.every((h) => following(o, h)?.active === 'p2'), 5000, 'hosts follow p2');
    expect(o.clock.now() - diedAt).toBeLessThanOrEqual(3500); // TTL 2 s + a 500 ms step + the next heartbeat
    for (const h of HOSTS) {
      expect(following(o, h)!.epoch).toBeGreaterThan(oldEpoch);
      expect(starTarget(o, h)).toBe('p2');
      const core = o.daemons.get(h)!.datapath.core;
      expect(['p1', 'p2'].map((l) => core.portStats(core.portId(l)!).floods)).toEqual([false, true]);
    }
    expect(HOSTS.map((h) => o.daemons.get(h))).toEqual(hostsBefore);
    await crosses(o, 'h1 → h2 over p2');
  });

  it('a stale epoch from the old active (cut from etcd, still running) is refused; the hosts stay with the new one', async () => {
    const o = (current = await haOverlay());
    await o.until(() => HOSTS.every((h) => following(o, h)?.active === 'p1' && following(o, h)!.epoch > 0), 3000, 'hosts follow p1');
    o.etcd.get('p1')!.cut = true; // p1 keeps running and keeps announcing its epoch
    await o.until(() => HOSTS.every((h) => following(o, h)?.active === 'p2'), 5000, 'hosts follow p2');
    await o.clock.advance(3000);
    expect(o.daemons.get('p1')!.status().ha?.election).toMatchObject({ role: 'active', etcdReachable: false });
    await announce(o);
    for (const h of HOSTS) {
      expect(following(o, h)?.active).toBe('p2');
      expect(o.daemons.get(h)!.status().refused?.control['proxy-active-stale'] ?? 0).toBeGreaterThan(0);
    }
    await crosses(o, 'h1 → h2 over p2 while p1 still believes');
    o.etcd.get('p1')!.cut = false;
    await o.until(() => o.daemons.get('p1')!.status().ha?.election?.role === 'standby', 2000, 'p1 steps down');
  });
});

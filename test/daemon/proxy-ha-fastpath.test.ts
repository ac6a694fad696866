/**
 * Fast paths across a takeover (issue 19 part 3): the fast link the active Proxy p1 made between h1 and h2 stays
 * on the hosts when p1 dies; p2's fast-path plugin, on winning, reads what the hosts have and takes that link and
 * its rules as its own: it does not add it again (no refusal, no second link), lists it, and removes it as its
 * own once the VMs stop talking. Real Daemons in memory, a memory etcd, one ManualClock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../daemon/daemon.js';
import type { FastPath } from '../../plugins/fastpath/fastpath.js';
import { ethernetFrame } from '../support/frames.js';
import { HOSTS, haOverlay, vm, type HaOverlay } from '../support/ha-overlay.js';

const VTTIF = 'vttif: { updateRateHz: 20, smoothingMs: 200, threshold: 0.1 }\n';

let current: HaOverlay | undefined;
afterEach(async () => {
  await current?.stop();
  current = undefined;
});

const fastpath = (o: HaOverlay, p: string) => o.daemons.get(p)!.pluginExports('fastpath') as FastPath;
const fastRules = async (d: Daemon) => (await d.primitives.rules()).filter((r) => r.owner === 'proxy:fastpath');
const fastLinks = async (d: Daemon) => (await d.primitives.links()).filter((l) => l.name.startsWith('fp-'));

/** h1's VM and h2's VM talk both ways. */
function talk(o: HaOverlay): () => void {
  const timer = o.clock.every(10, () => {
    o.ports.get('tap-h1v1')!.inject([ethernetFrame({ src: vm('h1'), dst: vm('h2'), payloadBytes: 1000 })]);
    o.ports.get('tap-h2v1')!.inject([ethernetFrame({ src: vm('h2'), dst: vm('h1'), payloadBytes: 1000 })]);
  });
  return () => timer.cancel();
}

describe('Proxy HA: fast paths across a takeover', () => {
  it('the new active Proxy adopts the fast link the hosts have, adds nothing, and removes it as its own when traffic stops', async () => {
    const o = (current = await haOverlay({ proxyConfig: `${VTTIF}fastpath: { enabled: true, removeAfterMs: 2000 }\n`, hostConfig: VTTIF }));
    const [h1, h2] = HOSTS.map((h) => o.daemons.get(h)!) as [Daemon, Daemon];
    await o.until(() => HOSTS.every((h) => o.daemons.get(h)!.status().ha?.following?.active === 'p1'), 3000, 'hosts follow p1');
    let stop = talk(o);
    try {
      const formed = async () => (await fastRules(h1)).length === 1 && (await fastRules(h2)).length === 1;
      for (let i = 0; i < 80 && !(await formed()); i++) await o.clock.advance(100);
      expect(await formed()).toBe(true);
      const rulesBefore = [...(await fastRules(h1)), ...(await fastRules(h2))].map((r) => r.id);
      expect(fastpath(o, 'p2').status().links).toEqual([]); // the standby planned nothing

      // p1 dies (no revoke): p2 wins; the hosts keep the fast link and its rules.
      o.etcd.get('p1')!.cut = true;
      await o.daemons.get('p1')!.stop();
      o.daemons.delete('p1');
      await o.until(() => fastpath(o, 'p2').status().links.some((l) => l.a === 'h1' && l.b === 'h2' && l.state === 'up'), 8000, 'p2 lists the fast link');
      await o.clock.advance(3000); // it keeps planning while the VMs talk
      const status = fastpath(o, 'p2').status();
      expect(status.links).toEqual([expect.objectContaining({ a: 'h1', b: 'h2', state: 'up', rules: 2 })]);
      expect(status.counters).toMatchObject({ linksAdded: 0, linkFailures: 0, rulesAdded: 0, errors: 0 });
      expect([...(await fastRules(h1)), ...(await fastRules(h2))].map((r) => r.id)).toEqual(rulesBefore);
      expect((await fastLinks(h1)).map((l) => [l.name, l.state])).toEqual([['fp-h2', 'up']]);
    } finally {
      stop();
    }
    stop = () => undefined;
    // The VMs stop talking: p2 removes the link it adopted, rules first, as its own.
    for (let i = 0; i < 150 && (await fastLinks(h1)).length + (await fastLinks(h2)).length > 0; i++) await o.clock.advance(100);
    expect(await fastLinks(h1)).toEqual([]);
    expect(await fastLinks(h2)).toEqual([]);
    expect(await fastRules(h1)).toEqual([]);
    expect(fastpath(o, 'p2').status()).toMatchObject({ links: [], counters: { linksRemoved: 1, rulesRemoved: 2, linkFailures: 0 } });
  }, 30_000);
});

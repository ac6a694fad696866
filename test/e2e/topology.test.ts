/**
 * The overlay language on the lab: 8 hosts, an all-to-all fast-path topology
 * applied through the Proxy, then a bus. `route` must agree with the path
 * frames really take: the rule counters along the route move with the pings,
 * and the Proxy does not carry them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Status } from '../../api/wire/schemas.js';
import { lab, labDownSync, labJson, requireRoot, vmIp, vmMac } from './support/lab.js';

interface Hop {
  host: string;
  step: string;
  rule?: { id: number; hitFrames: number };
  outPort: string;
}

const HOSTS = 8;

async function route(from: number, to: number): Promise<Hop[]> {
  const r = await labJson<{ hops: Hop[] }>('proxy', 'topology', 'route', vmMac(from, 1), vmMac(to, 1));
  return r.hops;
}

async function ruleHits(host: string, id: number): Promise<number> {
  const rules = await labJson<{ id: number; hitFrames: number }[]>(host, 'rule', 'list');
  return rules.find((r) => r.id === id)?.hitFrames ?? 0;
}

/** Ethernet frames the Proxy's switch received from a host's link (control messages are not frames). */
async function proxyFramesFrom(host: string): Promise<number> {
  const s = await labJson<Status>('proxy', 'status');
  return s.ports.find((p) => p.name === host)!.rxFrames;
}

/** Pings `count` times from hFv1 to hTv1 and checks each rule on the route counted them, and the Proxy did not. */
async function checkRouteCarriesPings(from: number, to: number, expectedHosts: string[]): Promise<void> {
  const hops = await route(from, to);
  expect(hops.map((h) => h.host)).toEqual(expectedHosts);
  const ruled = hops.filter((h) => h.step === 'rule');
  expect(ruled).toHaveLength(expectedHosts.length - 1);
  const before = await Promise.all(ruled.map((h) => ruleHits(h.host, h.rule!.id)));
  const proxyBefore = await proxyFramesFrom(`h${from}`);
  const count = 20;
  await lab('exec', `h${from}v1`, 'ping', '-c', String(count), '-i', '0.05', '-W', '2', vmIp(to, 1));
  const after = await Promise.all(ruled.map((h) => ruleHits(h.host, h.rule!.id)));
  ruled.forEach((_, i) => expect(after[i]! - before[i]!, `rule hits at ${ruled[i]!.host}`).toBeGreaterThanOrEqual(count));
  // The pings' frames must not reach the Proxy's switch (an ARP broadcast may: it travels the star).
  expect((await proxyFramesFrom(`h${from}`)) - proxyBefore).toBeLessThan(count / 4);
}

describe('applying fast-path topologies to 8 hosts', () => {
  beforeAll(async () => {
    requireRoot();
    labDownSync();
    await lab('up', '--hosts', String(HOSTS), '--vms-per-host', '1');
  });
  afterAll(() => labDownSync());

  it('applies an all-to-all fast-path topology, and a second apply changes nothing', async () => {
    const first = await lab('apply', 'all-to-all');
    expect(first.stdout).toContain('add link');
    const second = await lab('apply', 'all-to-all');
    expect(second.stdout).toContain('nothing to change');
    for (let h = 1; h <= HOSTS; h++) {
      const links = await labJson<{ name: string; state: string }[]>(`h${h}`, 'link', 'list');
      expect(links).toHaveLength(HOSTS); // the star link and 7 fast-path links
    }
  });

  it('routes h1v1 → h3v1 straight over the fast path, as the frames really go', async () => {
    await checkRouteCarriesPings(1, 3, ['h1', 'h3']);
    await checkRouteCarriesPings(8, 2, ['h8', 'h2']);
  });

  it('applies a bus, and frames cross every host between the ends', async () => {
    await lab('apply', 'bus');
    await checkRouteCarriesPings(1, 4, ['h1', 'h2', 'h3', 'h4']);
  });

  it('goes back to the star: only the star links remain, and pairs still ping through the Proxy', async () => {
    await lab('apply', 'star');
    const links = await labJson<{ name: string }[]>('h5', 'link', 'list');
    expect(links.map((l) => l.name)).toEqual(['proxy']);
    await lab('exec', 'h5v1', 'ping', '-c', '2', '-i', '0.2', '-W', '2', vmIp(7, 1));
  });
});

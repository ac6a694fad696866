/**
 * The VNET overlay on the lab: a Proxy and 4 hosts with one VM each, the
 * resilient star between them, h4's UDP blocked by nftables. Every VM pair
 * pings through the Proxy; h4 joins over TCP; the Proxy killed and restarted →
 * every pair pings again within 5 s of its return.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Status } from '../../api/schemas.js';
import { lab, labDownSync, labJson, requireRoot, vmIp } from './support/lab.js';
import { waitFor } from './support/netns.js';

const HOSTS = 4;
const vms = Array.from({ length: HOSTS }, (_, i) => ({ node: `h${i + 1}v1`, ip: vmIp(i + 1, 1) }));
const pairs = vms.flatMap((a, i) => vms.slice(i + 1).map((b) => [a, b] as const));

/** Pings every pair once, in parallel; returns the pairs that failed. */
async function failingPairs(timeoutS = 1): Promise<string[]> {
  const results = await Promise.all(
    pairs.map(async ([a, b]) => {
      const r = await lab('exec', a.node, 'ping', '-c', '1', '-W', String(timeoutS), b.ip).then(
        () => 0,
        () => 1,
      );
      return r === 0 ? undefined : `${a.node}→${b.node}`;
    }),
  );
  return results.filter((x): x is string => x !== undefined);
}

describe('the overlay: a Proxy and 4 hosts', () => {
  beforeAll(async () => {
    requireRoot();
    labDownSync();
    await lab('up', '--hosts', String(HOSTS), '--vms-per-host', '1', '--proxy', '--block-udp', 'h4');
  });
  afterAll(() => labDownSync());

  it('links every host to the Proxy (the resilient star)', async () => {
    await waitFor(async () => {
      const s = await labJson<Status>('proxy', 'status');
      return s.links.length === HOSTS && s.links.every((l) => l.state === 'up');
    }, 10_000, 'star up');
  });

  it('lets every VM pair ping through the Proxy', async () => {
    // ARP first: a pair's first ping may need a broadcast round trip through the star.
    await waitFor(async () => (await failingPairs(2)).length === 0, 15_000, 'all pairs ping');
    const proxy = await labJson<Status>('proxy', 'status');
    expect(proxy.links.every((l) => l.rxBytes > 0 && l.txBytes > 0)).toBe(true);
  });

  it('joins the host whose UDP is blocked over TCP', async () => {
    const h4 = await labJson<Status>('h4', 'status');
    expect(h4.links[0]).toMatchObject({ name: 'proxy', state: 'up', transport: 'tcp' });
    const h1 = await labJson<Status>('h1', 'status');
    expect(h1.links[0]).toMatchObject({ name: 'proxy', state: 'up', transport: 'udp' });
  });

  it('comes back within 5 s of the Proxy returning after a restart', async () => {
    await lab('stop', 'proxy');
    expect(await failingPairs()).not.toHaveLength(0);
    await new Promise((r) => setTimeout(r, 2000));
    await lab('start', 'proxy');
    const returnedAt = Date.now();
    await waitFor(async () => (await failingPairs(1)).length === 0, 15_000, 'all pairs ping after the restart');
    const tookMs = Date.now() - returnedAt;
    expect(tookMs).toBeLessThan(5000);
  });

  it('shows no pair traffic bypassing the Proxy: hosts only have the star link', async () => {
    for (let h = 1; h <= HOSTS; h++) {
      const s = await labJson<Status>(`h${h}`, 'status');
      expect(s.links.map((l) => l.name)).toEqual(['proxy']);
    }
  });
});

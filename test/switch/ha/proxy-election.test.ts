import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../switch/clock.js';
import { createLogger } from '../../../switch/log.js';
import { MemoryEtcdCluster, type MemoryEtcdClient } from '../../../switch/ha/memory-etcd.js';
import { ProxyElection } from '../../../switch/ha/proxy-election.js';
import { ProxyFollower } from '../../../switch/ha/proxy-follower.js';

const KEY = '/vswitch/test/proxy/leader';
const log = createLogger({ level: 'error', write: () => undefined });

/** Two Proxies on one memory etcd, each with its own client (so each can be cut), and what they announced. */
function twoProxies() {
  const clock = new ManualClock();
  const cluster = new MemoryEtcdCluster(clock);
  const made = ['p1', 'p2'].map((name) => {
    const client = cluster.client();
    const epochs: number[] = [];
    const election = new ProxyElection({
      etcd: client,
      key: KEY,
      name,
      leaseTtlMs: 2000,
      clock,
      log,
      onActive: (epoch) => epochs.push(epoch),
      onStandby: () => epochs.push(-1),
    });
    return { name, client, election, epochs };
  });
  return { clock, cluster, p1: made[0]!, p2: made[1]! };
}

type Proxy = { name: string; client: MemoryEtcdClient; election: ProxyElection };

describe('ProxyElection', () => {
  it('elects exactly one Proxy, whose epoch is the key create revision', async () => {
    const { clock, cluster, p1, p2 } = twoProxies();
    p1.election.start();
    await clock.advance(10);
    p2.election.start();
    await clock.advance(5000);
    expect(p1.election.status().role).toBe('active');
    expect(p2.election.status().role).toBe('standby');
    const epoch = p1.election.status().epoch!;
    expect(cluster.get(KEY)).toMatchObject({ value: 'p1', createRevision: epoch });
    expect(p2.election.status().leader).toEqual({ name: 'p1', epoch });
    expect(p1.epochs).toEqual([epoch]); // announced once: renewals do not re-elect
  });

  it('a dead active Proxy (no renewals) is replaced within TTL + one step, with a newer epoch', async () => {
    const { clock, p1, p2 } = twoProxies();
    p1.election.start();
    await clock.advance(10);
    p2.election.start();
    await clock.advance(3000);
    const first = p1.election.status().epoch!;
    p1.client.cut = true; // a SIGKILL: no renewal and no revoke, the lease expires on etcd's side
    await p1.election.stop();
    const diedAt = clock.now();
    let tookOverAt: number | undefined;
    for (let t = 0; t < 5000 && tookOverAt === undefined; t += 50) {
      await clock.advance(50);
      if (p2.election.isActive) tookOverAt = clock.now();
    }
    expect(tookOverAt).toBeDefined();
    expect(tookOverAt! - diedAt).toBeLessThanOrEqual(2000 + 500 + 50);
    expect(p2.election.status().epoch!).toBeGreaterThan(first);
  });

  it('a clean stop revokes the lease: the standby takes over at its next step', async () => {
    const { clock, p1, p2 } = twoProxies();
    p1.election.start();
    await clock.advance(10);
    p2.election.start();
    await clock.advance(1000);
    await p1.election.stop();
    await clock.advance(500);
    expect(p2.election.isActive).toBe(true);
  });

  it('keeps its role while etcd is unreachable, and steps down on return when another holds a newer epoch', async () => {
    const { clock, p1, p2 } = twoProxies();
    p1.election.start();
    await clock.advance(10);
    p2.election.start();
    await clock.advance(2000);
    const old = p1.election.status().epoch!;
    p1.client.cut = true;
    await clock.advance(4000);
    expect(p1.election.status()).toMatchObject({ role: 'active', epoch: old, etcdReachable: false }); // keeps serving
    expect(p2.election.status().role).toBe('active'); // p1's lease expired on etcd: p2 won
    expect(p2.election.status().epoch!).toBeGreaterThan(old);
    p1.client.cut = false;
    await clock.advance(600);
    expect(p1.election.status()).toMatchObject({ role: 'standby', demotions: 1, leader: { name: 'p2' } });
    expect(p1.epochs).toEqual([old, -1]);
  });

  it('no split brain: both cut from etcd, nobody promotes itself, hosts keep following one Proxy; after reconnection one active', async () => {
    const { clock, p1, p2 } = twoProxies();
    const proxies: Proxy[] = [p1, p2];
    const hosts = ['h1', 'h2', 'h3'].map(() => new ProxyFollower(['p1', 'p2']));
    // Every second each Proxy that believes it is active announces its epoch to every host (overlay.ts does this).
    const announce = (): void => {
      for (const p of proxies) {
        const s = p.election.status();
        if (s.role === 'active') for (const h of hosts) h.announced(p.name, s.epoch!);
      }
    };
    const followed = (): Set<string> => new Set(hosts.map((h) => h.active));
    const run = async (ms: number, check: () => void): Promise<void> => {
      for (let t = 0; t < ms; t += 250) {
        await clock.advance(250);
        if (t % 1000 === 0) announce();
        check();
      }
    };
    p2.election.start(); // p2 first this time
    await clock.advance(10);
    p1.election.start();
    await run(3000, () => undefined);
    expect(followed()).toEqual(new Set(['p2']));
    const promotions = proxies.map((p) => p.election.status().promotions);

    p1.client.cut = true;
    p2.client.cut = true;
    await run(20_000, () => {
      expect(followed().size).toBe(1);
      expect(proxies.filter((p) => p.election.isActive).length).toBe(1); // still p2, no second active
    });
    expect(proxies.map((p) => p.election.status().promotions)).toEqual(promotions);
    expect(followed()).toEqual(new Set(['p2']));

    p1.client.cut = false;
    p2.client.cut = false;
    await run(5000, () => expect(followed().size).toBe(1));
    expect(proxies.filter((p) => p.election.isActive).length).toBe(1);
    const active = proxies.find((p) => p.election.isActive)!;
    expect(followed()).toEqual(new Set([active.name]));
    for (const h of hosts) expect(h.epoch).toBe(active.election.status().epoch);
  });

  it('when only the active is cut, the hosts move to the new winner and refuse the old epoch', async () => {
    const { clock, p1, p2 } = twoProxies();
    const host = new ProxyFollower(['p1', 'p2']);
    p1.election.start();
    await clock.advance(10);
    p2.election.start();
    await clock.advance(1000);
    const old = p1.election.status().epoch!;
    expect(host.announced('p1', old)).toMatchObject({ kind: 'followed', changed: false });
    p1.client.cut = true;
    await clock.advance(4000);
    const next = p2.election.status().epoch!;
    expect(host.announced('p2', next)).toEqual({ kind: 'followed', changed: true, previous: 'p1' });
    expect(host.announced('p1', old)).toEqual({ kind: 'stale', followedEpoch: next }); // p1 still believes: refused
    expect(host.active).toBe('p2');
  });
});

describe('ProxyElection and a lease lost between renewal and campaign', () => {
  it('etcd refuses the transaction (no such lease): a new lease at the next step, and it wins again', async () => {
    const clock = new ManualClock();
    const cluster = new MemoryEtcdCluster(clock);
    const client = cluster.client();
    let renewalsLie = false;
    // A renewal that answered just before the lease expired: the transaction after it finds no lease.
    const etcd = Object.assign(Object.create(client) as MemoryEtcdClient, {
      keepAlive: async (lease: string) => (renewalsLie ? 2 : client.keepAlive(lease)),
    });
    const epochs: number[] = [];
    const election = new ProxyElection({ etcd, key: KEY, name: 'p1', leaseTtlMs: 2000, clock, log, onActive: (e) => epochs.push(e), onStandby: () => undefined });
    election.start();
    await clock.advance(10);
    cluster.revokeLease(election['lease'] as string); // gone under its feet, the key with it
    renewalsLie = true;
    await clock.advance(500);
    expect(election.status()).toMatchObject({ role: 'active', etcdReachable: false, etcdFailures: 1 });
    await clock.advance(500);
    expect(election.status()).toMatchObject({ role: 'active', etcdReachable: true });
    expect(epochs.length).toBe(2);
    expect(epochs[1]!).toBeGreaterThan(epochs[0]!);
  });
});

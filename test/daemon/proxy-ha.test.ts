/**
 * Proxy HA with real Daemons in memory (issue 19 part 3): two Proxies p1, p2 elect on a memory etcd; hosts h1, h2
 * link to both (`proxy: [p1, p2]`). The active one dies: the hosts follow the other within the lease TTL and a
 * step, their default rule and flood port move, frames cross again — no host restarted. Everything on one
 * ManualClock (nothing sleeps).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readPackageFile } from '../../api/package-files.js';
import { parseDaemonConfig } from '../../daemon/config.js';
import { Daemon, type DaemonDeps } from '../../daemon/daemon.js';
import { ManualClock } from '../../switch/clock.js';
import { formatMac, readMac } from '../../switch/frame/mac.js';
import { MemoryEtcdCluster, type MemoryEtcdClient } from '../../switch/ha/memory-etcd.js';
import { encodeKeyBase64, generatePrivateKey, publicKey } from '../../switch/link/noise/crypto.js';
import { MemoryNetwork } from '../../switch/link/transport/memory-transport.js';
import { createLogger } from '../../switch/log.js';
import { MemoryPort } from '../../switch/port/memory-port.js';
import { ethernetFrame } from '../support/frames.js';

const PROXIES = ['p1', 'p2'];
const HOSTS = ['h1', 'h2'];
const vm = (h: string): string => `02:00:c6:13:0${h.slice(1)}:01`;
const address = (n: string): string => (n.startsWith('p') ? `198.18.1.${n.slice(1)}` : `198.18.0.${n.slice(1)}`);

async function haOverlay() {
  let seed = 7;
  const random = (n: number) => Uint8Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) >>> 0) & 0xff);
  const clock = new ManualClock();
  const network = new MemoryNetwork();
  const cluster = new MemoryEtcdCluster(clock);
  const etcd = new Map<string, MemoryEtcdClient>();
  const ports = new Map<string, MemoryPort>();
  const dir = mkdtempSync(join(tmpdir(), 'vswitch-ha-'));
  const keys = Object.fromEntries([...PROXIES, ...HOSTS].map((n) => [n, generatePrivateKey(random)]));
  const pub = (n: string) => encodeKeyBase64(publicKey(keys[n]!));
  const deps = (n: string): DaemonDeps => ({
    clock,
    log: createLogger({ write: () => {} }),
    specText: readPackageFile('openapi.yaml'),
    version: 'test',
    openPort: (c) => {
      const p = new MemoryPort(c.name);
      ports.set(c.name, p);
      return p;
    },
    createTransport: (kind, listen) => network.createTransport({ kind, listen: { host: address(n), port: listen?.port ?? 51820 } }),
    etcd: () => {
      const client = cluster.client();
      etcd.set(n, client);
      return client;
    },
  });
  const daemons = new Map<string, Daemon>();
  const start = async (n: string, text: string) => daemons.set(n, await Daemon.start(parseDaemonConfig(text, join(dir, `${n}.yaml`)), deps(n)));
  const peer = (n: string) => `  - { name: ${n}, publicKey: "${pub(n)}", endpoint: "${address(n)}:51820" }\n`;
  for (const p of PROXIES) {
    await start(p, `name: ${p}\nrole: proxy\nprivateKey: "${encodeKeyBase64(keys[p]!)}"\napi: { listen: "unix:${dir}/${p}.sock" }\nha: { etcd: ["http://198.18.0.201:2379"] }\npeers:\n${HOSTS.map(peer).join('')}`);
    await clock.advance(10); // p1 campaigns first
  }
  for (const h of HOSTS) {
    await start(h, `name: ${h}\nproxy: [p1, p2]\nprivateKey: "${encodeKeyBase64(keys[h]!)}"\napi: { listen: "unix:${dir}/${h}.sock" }\nports:\n  - { name: tap-${h}v1, type: tap }\npeers:\n${PROXIES.map(peer).join('')}`);
  }
  const until = async (check: () => boolean, ms: number, what: string) => {
    if (!(await clock.advanceUntil(check, ms))) throw new Error(`${what}: not within ${ms} ms`);
  };
  const stop = async () => {
    for (const d of daemons.values()) await d.stop();
  };
  return { clock, cluster, etcd, ports, daemons, until, stop };
}

type HaOverlay = Awaited<ReturnType<typeof haOverlay>>;
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

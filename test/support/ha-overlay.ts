/**
 * Two Proxies p1, p2 electing on a memory etcd and hosts h1, h2 linked to both (`proxy: [p1, p2]`), as real
 * Daemons in memory on one ManualClock (issue 19 part 3). p1 campaigns first, so it wins.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPackageFile } from '../../api/package-files.js';
import { parseDaemonConfig } from '../../daemon/config.js';
import { Daemon, type DaemonDeps } from '../../daemon/daemon.js';
import type { AnyDaemonPlugin } from '../../plugins/plugin.js';
import { ManualClock } from '../../switch/clock.js';
import { MemoryEtcdCluster, type MemoryEtcdClient } from '../../switch/ha/memory-etcd.js';
import { encodeKeyBase64, generatePrivateKey, publicKey } from '../../switch/link/noise/crypto.js';
import { MemoryNetwork } from '../../switch/link/transport/memory-transport.js';
import { createLogger } from '../../switch/log.js';
import { MemoryPort } from '../../switch/port/memory-port.js';

export interface HaOverlayOptions {
  /** The plugins every daemon runs (default: the built-in ones). */
  plugins?: readonly AnyDaemonPlugin[];
  /** Lines added to each Proxy's config (e.g. a `fastpath:` section). */
  proxyConfig?: string;
  /** Lines added to each host's config (e.g. a `vttif:` section). */
  hostConfig?: string;
}

/** One JSON log line of a daemon, with its name. */
export type HaLogLine = { daemon: string; level: string; msg: string } & Record<string, unknown>;

export const PROXIES = ['p1', 'p2'];
export const HOSTS = ['h1', 'h2'];
export const vm = (h: string): string => `02:00:c6:13:0${h.slice(1)}:01`;
const address = (n: string): string => (n.startsWith('p') ? `198.18.1.${n.slice(1)}` : `198.18.0.${n.slice(1)}`);

export async function haOverlay(options: HaOverlayOptions = {}) {
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
    log: createLogger({ pretty: false, write: (line) => void logs.push({ daemon: n, ...(JSON.parse(line) as { level: string; msg: string }) }) }),
    specText: readPackageFile('openapi.yaml'),
    version: 'test',
    openPort: (c) => {
      const p = new MemoryPort(c.name);
      ports.set(c.name, p);
      return p;
    },
    createTransport: (kind, listen) => network.createTransport({ kind, listen: { host: address(n), port: listen?.port ?? 51820 } }),
    ...(options.plugins ? { plugins: options.plugins } : {}),
    etcd: () => {
      const client = cluster.client();
      etcd.set(n, client);
      return client;
    },
  });
  const daemons = new Map<string, Daemon>();
  const logs: HaLogLine[] = [];
  const start = async (n: string, text: string) => daemons.set(n, await Daemon.start(parseDaemonConfig(text, join(dir, `${n}.yaml`)), deps(n)));
  const peer = (n: string) => `  - { name: ${n}, publicKey: "${pub(n)}", endpoint: "${address(n)}:51820" }\n`;
  for (const p of PROXIES) {
    await start(p, `name: ${p}\nrole: proxy\nprivateKey: "${encodeKeyBase64(keys[p]!)}"\napi: { listen: "unix:${dir}/${p}.sock" }\nha: { etcd: ["http://198.18.0.201:2379"] }\n${options.proxyConfig ?? ''}peers:\n${HOSTS.map(peer).join('')}`);
    await clock.advance(10); // p1 campaigns first
  }
  for (const h of HOSTS) {
    await start(h, `name: ${h}\nproxy: [p1, p2]\nprivateKey: "${encodeKeyBase64(keys[h]!)}"\napi: { listen: "unix:${dir}/${h}.sock" }\n${options.hostConfig ?? ''}ports:\n  - { name: tap-${h}v1, type: tap }\npeers:\n${PROXIES.map(peer).join('')}`);
  }
  const until = async (check: () => boolean, ms: number, what: string) => {
    if (!(await clock.advanceUntil(check, ms))) throw new Error(`${what}: not within ${ms} ms`);
  };
  const stop = async () => {
    for (const d of daemons.values()) await d.stop();
  };
  return { clock, cluster, etcd, ports, daemons, until, stop, start, dir, logs };
}

export type HaOverlay = Awaited<ReturnType<typeof haOverlay>>;

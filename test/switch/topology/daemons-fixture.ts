/**
 * A real Proxy and N hosts as Daemons over memory ports and a memory
 * network (as test/switch/overlay/overlay.test.ts), plus the TopologySource
 * the API would build for the Proxy.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPackageFile } from '../../../api/package-files.js';
import { parseConfig } from '../../../switch/config/load-config.js';
import { Daemon, type DaemonDeps } from '../../../switch/daemon.js';
import { encodeKeyBase64, generatePrivateKey, publicKey } from '../../../switch/link/noise/crypto.js';
import { MemoryNetwork } from '../../../switch/link/transport/memory-transport.js';
import { createLogger } from '../../../switch/log.js';
import { MemoryPort } from '../../../switch/port/memory-port.js';
import type { TopologySource } from '../../../switch/topology/fetch.js';

let seed = 99;
const random = (n: number) => Uint8Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);

export interface Overlay3 {
  proxy: Daemon;
  hosts: Daemon[];
  all: Daemon[];
  ports: Map<string, MemoryPort>;
  keys: Record<string, string>;
  address: Record<string, string>;
  source: TopologySource;
  /** The Proxy's API socket, as --api takes it. */
  proxyApi: string;
  stop(): Promise<void>;
}

export async function startOverlay(hostCount: number): Promise<Overlay3> {
  const network = new MemoryNetwork();
  const dir = mkdtempSync(join(tmpdir(), 'vswitch-topology-'));
  const names = Array.from({ length: hostCount }, (_, i) => `h${i + 1}`);
  const privateKeys = Object.fromEntries(['proxy', ...names].map((n) => [n, generatePrivateKey(random)]));
  const keys = Object.fromEntries(Object.entries(privateKeys).map(([n, k]) => [n, encodeKeyBase64(publicKey(k))]));
  const address: Record<string, string> = { proxy: '198.18.1.1', ...Object.fromEntries(names.map((n, i) => [n, `198.18.0.${i + 1}`])) };
  const ports = new Map<string, MemoryPort>();
  const deps = (name: string): DaemonDeps => ({
    clock: { now: () => performance.now() },
    log: createLogger({ write: () => {} }),
    specText: readPackageFile('openapi.yaml'),
    version: 'test',
    openPort: (c) => {
      const p = new MemoryPort(c.name);
      ports.set(c.name, p);
      return p;
    },
    createTransport: (kind) => network.createTransport({ kind, listen: { host: address[name]!, port: 51820 } }),
  });
  const all: Daemon[] = [];
  const stop = async () => {
    while (all.length) await all.pop()!.stop();
  };
  const peer = (n: string) => `  - { name: ${n}, publicKey: "${keys[n]}", endpoint: "${address[n]}:51820" }\n`;
  const proxy = await Daemon.start(
    parseConfig(`name: proxy\nrole: proxy\nprivateKey: "${encodeKeyBase64(privateKeys.proxy!)}"\napi: { listen: "unix:${dir}/proxy.sock" }\npeers:\n${names.map(peer).join('')}`, 'proxy.yaml'),
    deps('proxy'),
  );
  all.push(proxy);
  const hosts: Daemon[] = [];
  for (const [i, n] of names.entries()) {
    const host = await Daemon.start(
      parseConfig(
        `name: ${n}\nproxy: proxy\nprivateKey: "${encodeKeyBase64(privateKeys[n]!)}"\napi: { listen: "unix:${dir}/${n}.sock" }\n` +
          `ports:\n  - { name: vm${i + 1}, type: tap }\npeers:\n${peer('proxy')}`,
        `${n}.yaml`,
      ),
      deps(n),
    );
    all.push(host);
    hosts.push(host);
  }
  await until(() => [proxy, ...hosts].every((d) => d.linkStatuses().every((l) => l.state === 'up')), 5000);
  const source: TopologySource = {
    proxyName: 'proxy',
    proxyPublicKey: keys.proxy!,
    local: proxy.primitives,
    host: (name) => proxy.overlay?.host(name),
    hostNames: () => proxy.linkStatuses().map((l) => l.name),
  };
  return { proxy, hosts, all: [...all], ports, keys, address, source, proxyApi: `unix:${dir}/proxy.sock`, stop };
}

export async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error('until: condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * A real Proxy and N hosts (test/support/memory-overlay.ts, VM ports vm1..vmN)
 * in the shape the topology tests use, plus the TopologySource the API would
 * build for the Proxy.
 */
import type { Daemon } from '../../../daemon/daemon.js';
import type { MemoryPort } from '../../../switch/port/memory-port.js';
import type { TopologySource } from '../../../switch/topology/fetch.js';
import { startMemoryOverlay } from '../../support/memory-overlay.js';

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
  /** Advances the overlay's clock until `check()` holds (3 s of clock time by default). */
  until(check: () => boolean, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startOverlay(hostCount: number): Promise<Overlay3> {
  const names = Array.from({ length: hostCount }, (_, i) => `h${i + 1}`);
  const overlay = await startMemoryOverlay({ hosts: names, seed: 99, portName: (_, i) => `vm${i + 1}` });
  const { proxy } = overlay;
  const hosts = names.map((n) => overlay.hosts.get(n)!);
  const keys = Object.fromEntries(['proxy', ...names].map((n) => [n, overlay.pub(n)]));
  const address = Object.fromEntries(['proxy', ...names].map((n) => [n, overlay.address(n)]));
  const source: TopologySource = {
    proxyName: 'proxy',
    proxyPublicKey: keys['proxy']!,
    local: proxy.primitives,
    host: (name) => proxy.overlay?.host(name),
    hostNames: () => proxy.linkStatuses().map((l) => l.name),
  };
  return { proxy, hosts, all: [proxy, ...hosts], ports: overlay.ports, keys, address, source, proxyApi: overlay.api.base, until: (check, timeoutMs = 3000) => overlay.until(check, timeoutMs), stop: overlay.stop };
}

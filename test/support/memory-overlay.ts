/**
 * A whole overlay of real Daemons in one process, over in-memory transports and ports: a Proxy and hosts h1..hN,
 * each host with one VM port tap-hHv1 (MAC 02:00:c6:13:0H:01), APIs on unix sockets. Tests of what spans daemons
 * (plugins, policies, relayed primitives) start one with `startMemoryOverlay` and stop it with `stop()`.
 * Every daemon runs on one ManualClock: a test moves time with `clock.advance(ms)` or waits for a condition with
 * `until(check, ms)`, which advances the clock — nothing sleeps on real time. A capture port opens as the real one
 * does (CapturePort.openWhenReady): down while its interface is not in `hostInterfaces`, up once recovery finds it. (The APIs are real unix sockets:
 * `until` lets the event loop run between steps, so their I/O completes as it would.)
 */
import { mkdtempSync } from 'node:fs';
import { globalAgent } from 'node:http';
import { ManualClock } from '../../switch/clock.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPackageFile } from '../../api/package-files.js';
import { parseDaemonConfig } from '../../daemon/config.js';
import { Daemon, type DaemonDeps } from '../../daemon/daemon.js';
import { encodeKeyBase64, generatePrivateKey, publicKey } from '../../switch/link/noise/crypto.js';
import { MemoryNetwork } from '../../switch/link/transport/memory-transport.js';
import type { Transport } from '../../switch/link/transport/transport.js';
import { createLogger } from '../../switch/log.js';
import { MemoryPort } from '../../switch/port/memory-port.js';
import { InterfaceNotFoundError } from '../../switch/port/port-errors.js';
import type { StateStore } from '../../switch/state/state-store.js';

export interface MemoryOverlay {
  proxy: Daemon;
  hosts: Map<string, Daemon>;
  ports: Map<string, MemoryPort>;
  /** Each daemon's host interfaces, as a run-time capture port's check sees them: add a name to make it exist there. */
  hostInterfaces: Map<string, Set<string>>;
  /** The Proxy's API (unix socket), as api/cli/client.ts takes it. */
  api: { base: string };
  /** Base64 public key of a daemon by name. */
  pub(name: string): string;
  address(name: string): string;
  /** The transports a daemon created (UDP first), to read their stats. */
  transports(name: string): Transport[];
  dir: string;
  /** The clock every daemon of this overlay runs on. */
  clock: ManualClock;
  /** Advances the clock in small steps until `check()` holds; throws after `timeoutMs` of clock time. */
  until(check: () => boolean | Promise<boolean>, timeoutMs: number, what?: string): Promise<void>;
  /**
   * Stops daemon `name` and starts it again on the same state store (options.state) and config — or on `configText`,
   * a new config file for it (the saved state is then restored against the new config). `proxy`/`hosts` follow.
   */
  restart(name: string, configText?: (current: string) => string): Promise<Daemon>;
  /** The config text daemon `name` was (last) started with. */
  configText(name: string): string;
  stop(): Promise<void>;
}

export interface MemoryOverlayOptions {
  hosts?: readonly string[];
  /** Extra YAML lines for the Proxy's config (vttif, fastpath, plugins…). */
  proxyYaml?: string;
  /** Extra YAML lines for each host's config (a function: per host, e.g. its own `listen`). */
  hostYaml?: string | ((host: string) => string);
  /** Hosts the Proxy's config gives no endpoint (as for a host behind NAT): they dial out, the Proxy only hears them. */
  dialOutHosts?: readonly string[];
  /** Extra fields of a host's peer entry for the Proxy, e.g. `transport: tcp` for a star over TCP. */
  proxyPeerYaml?: (host: string) => string;
  /** Extra peer entries of a host's config (YAML list items after its Proxy's), e.g. a configured link to another host. */
  hostPeersYaml?: (host: string, pub: (name: string) => string) => string;
  /** API tokens of the Proxy: `{ name, token }` pairs. */
  proxyTokens?: { name: string; token: string }[];
  seed?: number;
  /** The VM port of the i-th host (0-based); default tap-hHv1. */
  portName?: (host: string, index: number) => string;
  /** Each daemon's durable state (switch/state/); default: none (memory only, as `vswitch up` without a state dir). */
  state?: (name: string) => StateStore;
}

export const vmMac = (host: string): string => `02:00:c6:13:0${host.slice(1)}:01`;

export async function startMemoryOverlay(options: MemoryOverlayOptions = {}): Promise<MemoryOverlay> {
  const hostNames = options.hosts ?? ['h1', 'h2', 'h3'];
  let seed = options.seed ?? 29;
  const random = (n: number) => Uint8Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) >>> 0) & 0xff);
  const network = new MemoryNetwork();
  const clock = new ManualClock();
  const untilOnClock = async (check: () => boolean | Promise<boolean>, timeoutMs: number, what = 'condition'): Promise<void> => {
    if (!(await clock.advanceUntil(check, timeoutMs))) throw new Error(`${what}: not met within ${timeoutMs} ms (overlay clock)`);
  };
  const dir = mkdtempSync(join(tmpdir(), 'vswitch-overlay-'));
  const keys = Object.fromEntries(['proxy', ...hostNames].map((n) => [n, generatePrivateKey(random)]));
  const pub = (n: string) => encodeKeyBase64(publicKey(keys[n]!));
  const ports = new Map<string, MemoryPort>();
  const hostInterfaces = new Map(['proxy', ...hostNames].map((n) => [n, new Set<string>()]));
  const address = (n: string) => (n === 'proxy' ? '198.18.1.1' : `198.18.0.${n.slice(1)}`);
  const running: Daemon[] = [];
  const transports = new Map<string, Transport[]>();
  const deps = (n: string): DaemonDeps => ({
    clock,
    log: createLogger({ write: () => {} }),
    specText: readPackageFile('openapi.yaml'),
    version: 'test',
    openPort: (c) => {
      const p = c.type === 'capture' ? new MemoryCapturePort(c.name, () => hostInterfaces.get(n)!.has(c.interface), c.interface) : new MemoryPort(c.name);
      ports.set(c.name, p);
      return p;
    },
    interfaceExists: (name) => hostInterfaces.get(n)!.has(name),
    // The config's listen port (default 51820; TCP without listen.tcp too), at the daemon's address.
    createTransport: (kind, listen) => {
      const transport = network.createTransport({ kind, listen: { host: address(n), port: listen?.port ?? 51820 } });
      transports.set(n, [...(transports.get(n) ?? []), transport]);
      return transport;
    },
    ...(stores.has(n) ? { state: stores.get(n)! } : {}),
  });
  const stores = new Map<string, StateStore>();
  for (const n of ['proxy', ...hostNames]) if (options.state) stores.set(n, options.state(n));
  const configTexts = new Map<string, string>();
  const startDaemon = async (n: string, text: string): Promise<Daemon> => {
    configTexts.set(n, text);
    const daemon = await Daemon.start(parseDaemonConfig(text, join(dir, `${n}.yaml`)), deps(n));
    running.push(daemon);
    return daemon;
  };
  const stop = async (): Promise<void> => {
    while (running.length) await running.pop()!.stop();
  };
  try {
    const proxy = await startDaemon(
      'proxy',
      `name: proxy\nrole: proxy\nprivateKey: "${encodeKeyBase64(keys['proxy']!)}"\napi: { listen: "unix:${dir}/proxy.sock"${tokensYaml(options.proxyTokens)} }\n${options.proxyYaml ?? ''}\n` +
        `peers:\n${hostNames.map((h) => `  - { name: ${h}, publicKey: "${pub(h)}"${options.dialOutHosts?.includes(h) ? '' : `, endpoint: "${address(h)}:51820"`} }\n`).join('')}`,
    );
    const hosts = new Map<string, Daemon>();
    for (const [i, h] of hostNames.entries()) {
      const host = await startDaemon(
        h,
        `name: ${h}\nproxy: proxy\nprivateKey: "${encodeKeyBase64(keys[h]!)}"\napi: { listen: "unix:${dir}/${h}.sock" }\n${(typeof options.hostYaml === 'function' ? options.hostYaml(h) : options.hostYaml) ?? ''}\n` +
          `ports:\n  - { name: ${options.portName ? options.portName(h, i) : `tap-${h}v1`}, type: tap }\n` +
          `peers:\n  - { name: proxy, publicKey: "${pub('proxy')}", endpoint: "198.18.1.1:51820"${options.proxyPeerYaml ? `, ${options.proxyPeerYaml(h)}` : ''} }\n` +
          (options.hostPeersYaml?.(h, pub) ?? ''),
      );
      hosts.set(h, host);
    }
    await untilOnClock(() => proxy.linkStatuses().every((l) => l.state === 'up') && [...hosts.values()].every((h) => h.linkStatuses()[0]?.state === 'up'), 3000, 'every star link up');
    const overlay: MemoryOverlay = {
      proxy,
      hosts,
      ports,
      hostInterfaces,
      api: { base: `unix:${dir}/proxy.sock` },
      pub,
      address,
      transports: (n) => transports.get(n) ?? [],
      dir,
      clock,
      until: untilOnClock,
      configText: (n) => configTexts.get(n)!,
      restart: async (n, edit) => {
        const old = n === 'proxy' ? overlay.proxy : hosts.get(n)!;
        await old.stop();
        running.splice(running.indexOf(old), 1);
        const text = configTexts.get(n)!;
        const daemon = await startDaemon(n, edit ? edit(text) : text);
        if (n === 'proxy') overlay.proxy = daemon;
        else hosts.set(n, daemon);
        // The test's HTTP client keeps connections alive: the old daemon's are gone.
        globalAgent.destroy();
        return daemon;
      },
      stop,
    };
    return overlay;
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A capture port's twin: its interface comes and goes with the daemon's `hostInterfaces`. */
class MemoryCapturePort extends MemoryPort {
  constructor(
    name: string,
    private readonly present: () => boolean,
    private readonly iface: string,
  ) {
    super(name);
    if (!present()) this.pendingError = this.missing();
  }

  override reopen(): void {
    if (!this.present()) throw this.missing();
    super.reopen();
  }

  private missing(): Error {
    return new InterfaceNotFoundError({ device: this.iface });
  }
}

function tokensYaml(tokens: { name: string; token: string }[] | undefined): string {
  return tokens ? `, tokens: [${tokens.map((t) => `{ name: ${t.name}, token: ${t.token} }`).join(', ')}]` : '';
}

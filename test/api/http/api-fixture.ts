/**
 * A real API over a real switch, with no sockets: LocalPrimitives over a
 * SwitchCore/Datapath with MemoryPorts, links over a LinkManager on a
 * MemoryNetwork, and `app.request()` to talk to it. `daemons(2)` gives two
 * such daemons on one network, so an added link really handshakes.
 */
import { BUILTIN_PLUGINS } from '../../../plugins/builtin.js';
import { ManualClock } from '../../../switch/clock.js';
import { registerPluginRoutes } from '../../../plugins/host/routes.js';
import { readFileSync } from 'node:fs';
import type { Hono } from 'hono';
import { createApp, type ApiDeps } from '../../../api/http/app.js';
import type { ApiToken } from '../../../api/http/auth.js';
import type { ApiEnv } from '../../../api/http/primitive-routes.js';
import { Datapath } from '../../../switch/datapath.js';
import { LinkManager } from '../../../switch/link/link-manager.js';
import { encodeKeyBase64, generatePrivateKey, publicKey } from '../../../switch/link/noise/crypto.js';
import { MemoryNetwork } from '../../../switch/link/transport/memory-transport.js';
import { createLogger, type LogFields } from '../../../switch/log.js';
import { LocalPrimitives } from '../../../switch/overlay/local-primitives.js';
import { SwitchCore } from '../../../switch/pipeline/forward.js';
import { MemoryPort } from '../../../switch/port/memory-port.js';

export const SPEC_TEXT = readFileSync(new URL('../../../openapi.yaml', import.meta.url), 'utf8');

let seed = 7;
const randomBytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) >>> 0) & 0xff);

export interface TestDaemon {
  name: string;
  address: string;
  publicKeyBase64: string;
  primitives: LocalPrimitives;
  datapath: Datapath;
  links: LinkManager;
  ports: MemoryPort[];
  /** Ports opened at run time (POST /v1/ports), by name: memory twins of the TAP or capture device. */
  opened: Map<string, MemoryPort>;
  /** The host's interfaces as the capture check sees them: add a name to make `interface` exist. */
  hostInterfaces: Set<string>;
  /** When set, the next port open throws it (then it is cleared), as a device that refuses to open. */
  openFailure: { error: Error | undefined };
  logs: (LogFields & { msg: string; level: string })[];
  app: Hono<ApiEnv>;
  deps: ApiDeps;
}

export interface FixtureOptions {
  tokens?: ApiToken[];
  requireToken?: boolean;
  specText?: string;
  overrides?: Partial<ApiDeps>;
}

export async function daemons(count: number, options: FixtureOptions = {}): Promise<{ all: TestDaemon[]; clock: ManualClock; until: (check: () => boolean, timeoutMs?: number) => Promise<void>; stop: () => Promise<void> }> {
  const network = new MemoryNetwork();
  // One manual clock for every daemon: tests advance it (until) instead of sleeping.
  const clock = new ManualClock();
  const all: TestDaemon[] = [];
  for (let i = 0; i < count; i++) {
    const name = `h${i + 1}`;
    const address = `198.18.0.${i + 1}`;
    const logs: TestDaemon['logs'] = [];
    const log = createLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line) as TestDaemon['logs'][number]), pretty: false });
    const core = new SwitchCore({});
    const datapath = new Datapath({ core, clock, log });
    const ports = ['vm1', 'vm2'].map((p) => new MemoryPort(p));
    for (const p of ports) datapath.attach(p, { floods: true });
    const privateKey = generatePrivateKey(randomBytes);
    const links = new LinkManager({
      privateKey,
      udp: network.createTransport({ kind: 'udp', listen: { host: address, port: 51820 } }),
      clock,
      wallClock: () => Date.now(),
      randomBytes,
      log,
    });
    await links.start();
    const opened = new Map<string, MemoryPort>();
    const hostInterfaces = new Set<string>();
    const openFailure: { error: Error | undefined } = { error: undefined };
    const primitives = new LocalPrimitives({
      datapath,
      links: () => links,
      log,
      openPort: (config) => {
        const error = openFailure.error;
        openFailure.error = undefined;
        if (error) throw error;
        const port = new MemoryPort(config.name);
        opened.set(config.name, port);
        return port;
      },
      interfaceExists: (iface) => hostInterfaces.has(iface),
    });
    const deps: ApiDeps = {
      local: primitives,
      status: () => ({ name, role: 'host', version: 'test', uptimeS: 0, ports: [], links: [], macTable: { entries: 0, learned: 0, expired: 0, evicted: 0, moved: 0 } }),
      macs: () => [],
      specText: options.specText ?? SPEC_TEXT,
      auth: { tokens: options.tokens ?? [], requireToken: options.requireToken ?? (options.tokens ?? []).length > 0 },
      log,
      // A host's view of every plugin's routes (they answer 404 not-proxy here), as the daemon mounts them.
      mounts: [...BUILTIN_PLUGINS.map((plugin) => (app: Hono<ApiEnv>) => plugin.routes?.(app, () => undefined, { isProxy: false })), (app: Hono<ApiEnv>) => registerPluginRoutes(app, () => undefined)],
      ...options.overrides,
    };
    all.push({ name, address, publicKeyBase64: encodeKeyBase64(publicKey(privateKey)), primitives, datapath, links, ports, opened, hostInterfaces, openFailure, logs, app: createApp(deps), deps });
  }
  return {
    all,
    clock,
    until: async (check, timeoutMs = 2000) => {
      if (!(await clock.advanceUntil(check, timeoutMs))) throw new Error('until: condition not met in time (fixture clock)');
    },
    stop: async () => {
      for (const d of all) {
        await d.links.stop();
        d.datapath.closeAll();
      }
    },
  };
}

/** `app.request` with a JSON body and an optional bearer token; returns status and parsed body. */
export async function call(
  app: Hono<ApiEnv>,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const res = await app.request(`http://localhost${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, body: text !== '' && type.includes('json') ? JSON.parse(text) : text, headers: res.headers };
}


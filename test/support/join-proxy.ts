/**
 * One Proxy daemon with a join listener (real TLS on loopback), its links on a memory network and its API on a
 * unix socket, with an operator token and a read-only one: for the tests of the join routes and commands.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPackageFile } from '../../api/package-files.js';
import { parseDaemonConfig } from '../../daemon/config.js';
import { Daemon } from '../../daemon/daemon.js';
import { ManualClock } from '../../switch/clock.js';
import { encodeKeyBase64 } from '../../switch/link/noise/crypto.js';
import { MemoryNetwork } from '../../switch/link/transport/memory-transport.js';
import { createLogger } from '../../switch/log.js';
import { MemoryPort } from '../../switch/port/memory-port.js';
import { freePort } from './free-port.js';

export const OPS_TOKEN = 'join-ops-token-0123456789';
export const VIEW_TOKEN = 'join-view-token-0123456789';

export interface JoinProxy {
  daemon: Daemon;
  api: { base: string; token: string };
  dir: string;
  stop(): Promise<void>;
}

export async function startJoinProxy(options: { join?: boolean; wallClock?: () => number } = {}): Promise<JoinProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'vswitch-join-proxy-'));
  const network = new MemoryNetwork();
  const joinYaml = options.join === false ? '' : `join: { listen: "127.0.0.1:${await freePort()}", dir: "${dir}/join" }\n`;
  const text =
    `name: proxy\nrole: proxy\nprivateKey: "${encodeKeyBase64(new Uint8Array(32).fill(11))}"\n` +
    `api: { listen: "unix:${dir}/api.sock", tokens: [{ name: ops, token: ${OPS_TOKEN} }, { name: view, token: ${VIEW_TOKEN}, readOnly: true }] }\n` +
    joinYaml;
  const daemon = await Daemon.start(parseDaemonConfig(text, join(dir, 'proxy.yaml')), {
    clock: new ManualClock(),
    log: createLogger({ write: () => {} }),
    specText: readPackageFile('openapi.yaml'),
    version: 'test',
    openPort: (c) => new MemoryPort(c.name),
    ...(options.wallClock ? { wallClock: options.wallClock } : {}),
    createTransport: (kind, listen) => network.createTransport({ kind, listen: { host: '198.18.1.1', port: listen?.port ?? 51820 } }),
  });
  return { daemon, api: { base: `unix:${dir}/api.sock`, token: OPS_TOKEN }, dir, stop: () => daemon.stop() };
}

/**
 * Joining across real Daemons: a Proxy with `join:` (its listener real TLS on loopback, its links on the memory
 * network), a config host h1, and a host h9 that joins with `vswitch join`'s own code (daemon/join.ts: key, the
 * pinned exchange, the config file) and then starts from the file it wrote. h9 is then a host of the overlay in
 * every way a config peer is: its star link up both ways and protected, listed and heard by the Proxy, relayed to,
 * its VM reachable from h1's, a fast path formed for it by the fast-path plugin — and all of it back after a
 * Proxy restart, with nothing edited by hand.
 */
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { apiRequest } from '../../api/cli/client.js';
import { readPackageFile } from '../../api/package-files.js';
import { parseDaemonConfig } from '../../daemon/config.js';
import { Daemon, type DaemonDeps } from '../../daemon/daemon.js';
import { runJoin, type JoinCommandOptions } from '../../daemon/join.js';
import { ManualClock } from '../../switch/clock.js';
import { encodeKeyBase64, generatePrivateKey, publicKey } from '../../switch/link/noise/crypto.js';
import { MemoryNetwork } from '../../switch/link/transport/memory-transport.js';
import { createLogger } from '../../switch/log.js';
import { MemoryPort } from '../../switch/port/memory-port.js';
import { ethernetFrame } from '../support/frames.js';
import { freePort } from '../support/free-port.js';

const VTTIF = 'vttif: { updateRateHz: 20, smoothingMs: 200, threshold: 0.1 }';
const mac = (host: string): string => `02:00:c6:13:0${host.slice(1)}:01`;

interface JoinLab {
  dir: string;
  clock: ManualClock;
  proxy: Daemon;
  h1: Daemon;
  ports: Map<string, MemoryPort>;
  proxyConfig: string;
  start(name: string, configText: string): Promise<Daemon>;
  until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void>;
  stop(): Promise<void>;
}

const labs: JoinLab[] = [];
afterEach(async () => {
  while (labs.length) await labs.pop()!.stop();
});

async function startLab(): Promise<JoinLab> {
  let seed = 41;
  const random = (n: number) => Uint8Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) >>> 0) & 0xff);
  const network = new MemoryNetwork();
  const clock = new ManualClock();
  const dir = mkdtempSync(join(tmpdir(), 'vswitch-join-'));
  const ports = new Map<string, MemoryPort>();
  const running: Daemon[] = [];
  const address = (n: string) => (n === 'proxy' ? '198.18.1.1' : `198.18.0.${n.slice(1)}`);
  const deps = (n: string): DaemonDeps => ({
    clock,
    log: createLogger({ write: () => {} }),
    specText: readPackageFile('openapi.yaml'),
    version: 'test',
    randomBytes: random,
    openPort: (c) => {
      const p = new MemoryPort(c.name);
      ports.set(c.name, p);
      return p;
    },
    createTransport: (kind, listen) => network.createTransport({ kind, listen: { host: address(n), port: listen?.port ?? 51820 } }),
  });
  const start = async (n: string, text: string): Promise<Daemon> => {
    const daemon = await Daemon.start(parseDaemonConfig(text, join(dir, `${n}.yaml`)), deps(n));
    running.push(daemon);
    return daemon;
  };
  const until = async (check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> => {
    if (!(await clock.advanceUntil(check, ms))) throw new Error(`${what}: not met within ${ms} ms (lab clock)`);
  };
  const proxyKey = generatePrivateKey(random);
  const h1Key = generatePrivateKey(random);
  const pub = (k: Uint8Array) => encodeKeyBase64(publicKey(k));
  const joinPort = await freePort();
  const proxyConfig = [
    'name: proxy',
    'role: proxy',
    `privateKey: "${encodeKeyBase64(proxyKey)}"`,
    'listen: { udp: "198.18.1.1:51820", tcp: "198.18.1.1:51820" }',
    `api: { listen: "unix:${dir}/proxy.sock" }`,
    `join: { listen: "127.0.0.1:${joinPort}", dir: "${dir}/proxy-join" }`,
    VTTIF,
    'fastpath: { enabled: true, removeAfterMs: 2000 }',
    'peers:',
    `  - { name: h1, publicKey: "${pub(h1Key)}", endpoint: "198.18.0.1:51820" }`,
    '',
  ].join('\n');
  const proxy = await start('proxy', proxyConfig);
  const h1 = await start(
    'h1',
    [
      'name: h1',
      'proxy: proxy',
      `privateKey: "${encodeKeyBase64(h1Key)}"`,
      'listen: { udp: "0.0.0.0:51820", tcp: "0.0.0.0:51820" }',
      `api: { listen: "unix:${dir}/h1.sock" }`,
      VTTIF,
      'ports: [{ name: tap-h1v1, type: tap }]',
      `peers: [{ name: proxy, publicKey: "${pub(proxyKey)}", endpoint: "198.18.1.1:51820" }]`,
      '',
    ].join('\n'),
  );
  const lab: JoinLab = {
    dir,
    clock,
    proxy,
    h1,
    ports,
    proxyConfig,
    start,
    until,
    stop: async () => {
      while (running.length) await running.pop()!.stop();
    },
  };
  labs.push(lab);
  await until(() => proxy.linkStatuses()[0]?.state === 'up' && h1.linkStatuses()[0]?.state === 'up', 3000, 'h1 star up');
  return lab;
}

function joinOptions(lab: JoinLab, extra: Partial<JoinCommandOptions> = {}): JoinCommandOptions {
  return { config: join(lab.dir, 'h9', 'h9.yaml'), tap: ['tap-h9v1'], mtu: 1500, listen: '0.0.0.0:51820', apiListen: `unix:${lab.dir}/h9.sock`, up: false, offload: false, ...extra };
}

const printed: string[] = [];
const io = { out: (t: string) => printed.push(t), err: (t: string) => printed.push(t) };

describe('a host that joins with one command', () => {
  it('is a host of the overlay in every way a config peer is, and stays one across a Proxy restart', async () => {
    const lab = await startLab();
    const { token } = lab.proxy.join!.createToken({ name: 'h9' }, { name: 'ops' });
    const joined = await runJoin(token, joinOptions(lab), io);
    expect(joined).toEqual({ configFile: join(lab.dir, 'h9', 'h9.yaml'), name: 'h9' });
    // Written 0600: the config and the new key next to it.
    expect(statSync(joined.configFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(lab.dir, 'h9', 'h9.key')).mode & 0o777).toBe(0o600);
    const configText = readFileSync(joined.configFile, 'utf8');
    expect(configText).toContain('proxy: proxy');

    // The Proxy added the star link at once, under the actor "join", protected as the star.
    expect(lab.proxy.primitives.linksNow().find((l) => l.name === 'h9')).toMatchObject({ owner: 'join' });
    await expect(lab.proxy.primitives.deleteLink('h9', { name: 'ops' })).rejects.toMatchObject({ code: 'star-protected' });

    const h9 = await lab.start('h9', `${configText}${VTTIF}\n`);
    const proxyLink = () => lab.proxy.linkStatuses().find((l) => l.name === 'h9');
    await lab.until(() => h9.linkStatuses()[0]?.state === 'up' && proxyLink()?.state === 'up', 3000, 'h9 star up');
    await lab.until(() => lab.proxy.overlay!.hosts().some((h) => h.name === 'h9' && h.state === 'up' && h.interfaces === 2), 8000, 'h9 heard and reported');

    // Relayed primitives reach it; its VM and h1's exchange frames through the Proxy.
    const api = { base: `unix:${lab.dir}/proxy.sock` };
    const relayed = await apiRequest<{ links: { name: string }[] }>(api, 'GET', '/v1/hosts/h9/links');
    expect(relayed.links.map((l) => l.name)).toEqual(['proxy']);
    const topology = await apiRequest<string>(api, 'GET', '/v1/topology');
    expect(topology).toMatch(/^host h9 key "[^"]+"/m);
    expect(topology).toMatch(/^link h9 proxy\b|^link proxy h9\b/m);
    const h9v1 = lab.ports.get('tap-h9v1')!;
    const h1v1 = lab.ports.get('tap-h1v1')!;
    h9v1.inject([ethernetFrame({ src: mac('h9'), dst: 'ff:ff:ff:ff:ff:ff' })]);
    await lab.until(() => h1v1.sent.length > 0, 2000, 'h9 broadcast reaches h1');
    h1v1.inject([ethernetFrame({ src: mac('h1'), dst: mac('h9') })]);
    await lab.until(() => h9v1.sent.length > 0, 2000, 'h1 unicast reaches h9');

    // The fast-path plugin treats it as any host: their VMs talk, a direct link h1–h9 forms.
    const talk = lab.clock.every(10, () => {
      h1v1.inject([ethernetFrame({ src: mac('h1'), dst: mac('h9'), payloadBytes: 1000 })]);
      h9v1.inject([ethernetFrame({ src: mac('h9'), dst: mac('h1'), payloadBytes: 1000 })]);
    });
    try {
      await lab.until(() => lab.h1.linkStatuses().some((l) => l.name === 'fp-h9' && l.state === 'up'), 10_000, 'fast path h1–h9');
    } finally {
      talk.cancel();
    }

    // The Proxy restarts from the same config: the joined host is back as a star peer, nothing edited.
    await lab.proxy.stop();
    const proxy = await lab.start('proxy', lab.proxyConfig);
    expect(proxy.primitives.linksNow().find((l) => l.name === 'h9')).toMatchObject({ owner: 'join' });
    await lab.until(() => proxy.linkStatuses().find((l) => l.name === 'h9')?.state === 'up' && h9.linkStatuses()[0]?.state === 'up', 10_000, 'h9 back after the restart');
    await expect(proxy.primitives.deleteLink('h9', { name: 'ops' })).rejects.toMatchObject({ code: 'star-protected' });
    expect(proxy.join!.tokens()).toEqual([expect.objectContaining({ state: 'used', usedBy: 'h9' })]);

    // An operator removes it: forgotten, its link gone, and so after another restart.
    await proxy.join!.removeHost('h9', { name: 'ops' });
    expect(proxy.linkStatuses().map((l) => l.name)).toEqual(['h1']);
    expect(proxy.join!.hosts()).toEqual([]);
  }, 60_000);
});

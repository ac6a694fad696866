/**
 * A Proxy and a host, as two real Daemons over in-memory ports and transports:
 * the star comes up, the Proxy runs primitives on the host over the control
 * channel, and malformed control messages change nothing.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readPackageFile } from '../../../api/package-files.js';
import { parseConfig } from '../../../switch/config/load-config.js';
import { Daemon, type DaemonDeps } from '../../../switch/daemon.js';
import { encodeKeyBase64, generatePrivateKey, publicKey } from '../../../switch/link/noise/crypto.js';
import { MemoryNetwork } from '../../../switch/link/transport/memory-transport.js';
import { createLogger } from '../../../switch/log.js';
import { MemoryPort } from '../../../switch/port/memory-port.js';
import { arpRequest, mac } from '../../support/frames.js';

const random = (n: number) => new Uint8Array(Array.from({ length: n }, () => Math.floor(Math.random() * 256)));
const running: Daemon[] = [];
afterEach(async () => {
  while (running.length) await running.pop()!.stop();
});

async function star() {
  const network = new MemoryNetwork();
  const dir = mkdtempSync(join(tmpdir(), 'vswitch-overlay-'));
  const keys = { proxy: generatePrivateKey(random), h1: generatePrivateKey(random) };
  const pub = (k: Uint8Array) => encodeKeyBase64(publicKey(k));
  const ports = new Map<string, MemoryPort>();
  const deps = (host: string): DaemonDeps => ({
    clock: { now: () => performance.now() },
    log: createLogger({ write: () => {} }),
    specText: readPackageFile('openapi.yaml'),
    version: 'test',
    openPort: (c) => {
      const p = new MemoryPort(c.name);
      ports.set(c.name, p);
      return p;
    },
    createTransport: (kind) => network.createTransport({ kind, listen: { host, port: 51820 } }),
  });
  const proxy = await Daemon.start(
    parseConfig(
      `name: proxy\nrole: proxy\nprivateKey: "${encodeKeyBase64(keys.proxy)}"\napi: { listen: "unix:${dir}/proxy.sock" }\n` +
        `peers:\n  - { name: h1, publicKey: "${pub(keys.h1)}", endpoint: "198.18.0.1:51820" }\n`,
      'proxy.yaml',
    ),
    deps('198.18.1.1'),
  );
  running.push(proxy);
  const host = await Daemon.start(
    parseConfig(
      `name: h1\nproxy: proxy\nprivateKey: "${encodeKeyBase64(keys.h1)}"\napi: { listen: "unix:${dir}/h1.sock" }\n` +
        `ports:\n  - { name: tap-h1v1, type: tap }\n` +
        `peers:\n  - { name: proxy, publicKey: "${pub(keys.proxy)}", endpoint: "198.18.1.1:51820" }\n`,
      'h1.yaml',
    ),
    deps('198.18.0.1'),
  );
  running.push(host);
  const deadline = Date.now() + 3000;
  while (host.linkStatuses()[0]?.state !== 'up' || proxy.linkStatuses()[0]?.state !== 'up') {
    if (Date.now() > deadline) throw new Error('star did not come up');
    await new Promise((r) => setTimeout(r, 10));
  }
  return { proxy, host, ports };
}

describe('the overlay between a Proxy and a host', () => {
  it('installs the default rule toward the Proxy on the host', async () => {
    const { host } = await star();
    expect(await host.primitives.rules()).toEqual([
      expect.objectContaining({ src: 'any', dst: 'none', target: 'proxy', owner: 'star' }),
    ]);
  });

  it('sends a VM broadcast up the star to the Proxy', async () => {
    const { host, proxy, ports } = await star();
    ports.get('tap-h1v1')!.inject([arpRequest(mac('02:00:c6:13:01:01'), '198.19.1.1', '198.19.2.1')]);
    await new Promise((r) => setTimeout(r, 20));
    expect(proxy.macEntries()).toEqual([expect.objectContaining({ mac: '02:00:c6:13:01:01', port: 'h1' })]);
    expect(host.macEntries()).toHaveLength(1);
  });

  it('runs primitives on the host from the Proxy, over the control channel', async () => {
    const { host, proxy } = await star();
    const relayed = proxy.overlay!.host('h1')!;
    const rule = await relayed.addRule({ src: '02:00:c6:13:01:01', dst: 'any', target: 'proxy', priority: 5 }, { name: 'test' });
    expect(rule).toMatchObject({ src: '02:00:c6:13:01:01', dst: 'any', owner: 'proxy:test' });
    expect((await host.primitives.rules()).map((r) => r.id)).toContain(rule.id);
    expect((await relayed.interfaces()).map((i) => i.name)).toEqual(['tap-h1v1', 'proxy']);
    await relayed.deleteRule(rule.id, { name: 'test' });
    expect((await host.primitives.rules()).map((r) => r.id)).not.toContain(rule.id);
  });

  it('brings back typed errors from the host', async () => {
    const { proxy } = await star();
    const relayed = proxy.overlay!.host('h1')!;
    await expect(relayed.deleteRule(999, { name: 'test' })).rejects.toMatchObject({ code: 'not-found' });
    await expect(relayed.addRule({ src: 'nonsense', dst: 'any', target: 'x' }, { name: 'test' })).rejects.toMatchObject({
      code: 'invalid-input',
      field: 'src',
    });
  });

  it('rejects malformed control messages and changes nothing', async () => {
    const { host, proxy } = await star();
    const rulesBefore = await host.primitives.rules();
    for (const body of ['not json', '[]', '{"t":"req","id":1,"op":"format-disk","args":[],"actor":"x"}', '{"t":"req","id":-1}', '{"t":"nope"}']) {
      proxy.links!.sendControl('h1', new TextEncoder().encode(body));
    }
    // A request whose argument has the wrong shape reaches the host and is refused there, naming the field.
    await expect(proxy.overlay!.channel.request('h1', 'addRule', [{ src: 1 }], 'test')).rejects.toMatchObject({ field: 'src' });
    await new Promise((r) => setTimeout(r, 20));
    expect(Object.values(host.overlay!.channel.malformed).reduce((a, b) => a + b, 0)).toBe(5);
    expect(await host.primitives.rules()).toEqual(rulesBefore);
  });

  it('refuses primitive requests from a peer that is not its Proxy', async () => {
    const { host } = await star();
    // The host asks the Proxy: a Proxy takes no orders from hosts.
    await expect(host.overlay!.channel.request('proxy', 'rules', [], 'h1')).rejects.toMatchObject({ code: 'forbidden' });
  });
});

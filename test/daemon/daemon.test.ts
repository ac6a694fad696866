import { mkdtempSync } from 'node:fs';
import { systemClock } from '../../switch/clock.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { MemoryNetwork } from '../../switch/link/transport/memory-transport.js';
import { encodeKeyBase64, generatePrivateKey, publicKey } from '../../switch/link/noise/crypto.js';
import { apiRequest } from '../../api/cli/client.js';
import { readPackageFile } from '../../api/package-files.js';
import type { Status } from '../../api/wire/schemas.js';
import { parseDaemonConfig } from '../../daemon/config.js';
import { Daemon } from '../../daemon/daemon.js';
import { VswitchError } from '../../switch/errors.js';
import { pluginEvent } from '../../switch/events.js';
import type { DaemonPlugin } from '../../plugins/plugin.js';
import { createLogger } from '../../switch/log.js';
import { MemoryPort } from '../../switch/port/memory-port.js';
import { arpRequest, mac } from '../support/frames.js';

function setup(opts: { failOn?: string } = {}) {
  const socket = join(mkdtempSync(join(tmpdir(), 'vswitch-daemon-')), 'api.sock');
  const config = parseDaemonConfig(
    `name: h1\napi: { listen: "unix:${socket}" }\nports:\n  - { name: p1, type: tap }\n  - { name: p2, type: tap }\n`,
    'test.yaml',
  );
  const opened = new Map<string, MemoryPort>();
  const deps = {
    clock: { ...systemClock, now: () => 0 },
    log: createLogger({ write: () => {} }),
    specText: readPackageFile('openapi.yaml'),
    version: '0.0.0-test',
    openPort: (c: { name: string }) => {
      if (c.name === opts.failOn) throw new VswitchError('tap-name-taken', `cannot open ${c.name}`);
      const port = new MemoryPort(c.name);
      opened.set(c.name, port);
      return port;
    },
  };
  return { config, deps, opened, api: { base: `unix:${socket}` } };
}

describe('Daemon', () => {
  it('opens its ports, switches between them and reports status over the API', async () => {
    const { config, deps, opened, api } = setup();
    const daemon = await Daemon.start(config, deps);
    try {
      opened.get('p1')!.inject([arpRequest(mac('02:00:00:00:00:01'), '198.19.0.1', '198.19.0.2')]);
      expect(opened.get('p2')!.sent).toHaveLength(1);
      const status = await apiRequest<Status>(api, 'GET', '/v1/status');
      expect(status).toMatchObject({ name: 'h1', role: 'host', version: '0.0.0-test', macTable: { entries: 1 } });
      expect(status.ports.map((p) => [p.name, p.rxFrames, p.txFrames])).toEqual([
        ['p1', 1, 0],
        ['p2', 0, 1],
      ]);
      const spec = await apiRequest<string>(api, 'GET', '/openapi.yaml');
      expect(spec).toContain('openapi: 3.1.0');
    } finally {
      await daemon.stop();
    }
  });

  it('does not start half-configured: a port that cannot open closes the ones already open', async () => {
    const { config, deps, opened } = setup({ failOn: 'p2' });
    await expect(Daemon.start(config, deps)).rejects.toMatchObject({ code: 'tap-name-taken' });
    const p1 = opened.get('p1')!;
    p1.inject([arpRequest(mac('02:00:00:00:00:01'), '198.19.0.1', '198.19.0.2')]);
    expect(p1.stats().readFrames).toBe(0); // closed: nothing is delivered any more
  });

  it('closes its ports when the API cannot listen', async () => {
    const { config, deps, opened } = setup();
    config.api.listen = 'unix:/nonexistent-dir/vswitch.sock';
    await expect(Daemon.start(config, deps)).rejects.toMatchObject({ code: 'api-listen' });
    expect([...opened.values()].every((p) => p.stats().readFrames === 0)).toBe(true);
    opened.get('p1')!.inject([new Uint8Array(64)]);
    expect(opened.get('p1')!.stats().readFrames).toBe(0);
  });

  it('a start that fails after its links are up leaves no overlay heartbeat or control channel running', async () => {
    const network = new MemoryNetwork();
    const peerKey = encodeKeyBase64(publicKey(generatePrivateKey((n) => new Uint8Array(randomBytes(n)))));
    const key = encodeKeyBase64(generatePrivateKey((n) => new Uint8Array(randomBytes(n))));
    const config = parseDaemonConfig(
      `name: h1\nprivateKey: "${key}"\nproxy: proxy\npeers:\n  - { name: proxy, publicKey: "${peerKey}", endpoint: "198.18.0.1:51820", transport: udp }\napi: { listen: "unix:/nonexistent-dir/vswitch.sock" }\nports:\n  - { name: p1, type: tap }\n`,
      'test.yaml',
    );
    const { deps } = setup();
    // Only intervals are faked: the overlay's heartbeat is one, and a failed start must leave none behind.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      await expect(
        Daemon.start(config, { ...deps, createTransport: (kind, listen) => network.createTransport({ kind, listen: { host: '198.18.0.2', port: listen?.port ?? 51820 } }) }),
      ).rejects.toMatchObject({ code: 'api-listen' });
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('stops cleanly: the API is gone and the ports are closed', async () => {
    const { config, deps, opened, api } = setup();
    const daemon = await Daemon.start(config, deps);
    await daemon.stop();
    await expect(apiRequest(api, 'GET', '/v1/status')).rejects.toMatchObject({ code: 'api-client' });
    opened.get('p1')!.inject([new Uint8Array(64)]);
    expect(opened.get('p1')!.stats().readFrames).toBe(0);
  });

  it('keeps its events in the ring from the event bus, its own and its plugins\', whatever its log says', async () => {
    const { config, deps, opened } = setup(); // its logger discards everything
    const announcer: DaemonPlugin = {
      name: 'announcer',
      description: 'raises one event of its own at start',
      start: (ctx) => {
        ctx.events.emit(pluginEvent('announcer-started', 'info', 'announcer started', { on: ctx.name }));
        return { exports: undefined, stop: () => {} };
      },
    };
    const daemon = await Daemon.start(config, { ...deps, plugins: [announcer] });
    try {
      opened.get('p2')!.fail(new Error('ENODEV'));
      expect(daemon.events.list().map((e) => [e.level, e.event, e.fields])).toEqual([
        ['info', 'announcer-started', { on: 'h1' }],
        ['info', 'daemon-up', { name: 'h1', role: 'host', ports: 2 }],
        ['warn', 'port-down', { port: 'p2', error: 'ENODEV' }],
      ]);
      expect(daemon.events.list().map((e) => e.msg)).toEqual(['announcer started', 'daemon h1 up (host, 2 ports)', 'port p2 down: ENODEV']);
    } finally {
      await daemon.stop();
    }
  });

  it('tells the Proxy at once when a link goes up or down: it follows link-up and link-down on the bus, by type', async () => {
    const network = new MemoryNetwork();
    const peerKey = encodeKeyBase64(publicKey(generatePrivateKey((n) => new Uint8Array(randomBytes(n)))));
    const key = encodeKeyBase64(generatePrivateKey((n) => new Uint8Array(randomBytes(n))));
    const { deps, api } = setup();
    const config = parseDaemonConfig(
      `name: h1\nprivateKey: "${key}"\nproxy: proxy\npeers:\n  - { name: proxy, publicKey: "${peerKey}", endpoint: "198.18.0.1:51820", transport: udp }\napi: { listen: "${api.base}" }\nports:\n  - { name: p1, type: tap }\n`,
      'test.yaml',
    );
    const daemon = await Daemon.start(config, { ...deps, createTransport: (kind, listen) => network.createTransport({ kind, listen: { host: '198.18.0.2', port: listen?.port ?? 51820 } }) });
    try {
      const changed = vi.spyOn(daemon.overlay!, 'changed');
      daemon.bus.emit({ type: 'link-up', link: 'proxy', via: 'udp:198.18.0.1:51820' });
      daemon.bus.emit({ type: 'link-down', link: 'proxy', reason: 'session expired' });
      daemon.bus.emit({ type: 'port-up', port: 'p1' });
      // A plugin's event is never mistaken for the switch's, whatever its name.
      daemon.bus.emit(pluginEvent('link-up', 'info', 'not a link', {}));
      expect(changed).toHaveBeenCalledTimes(2);
    } finally {
      await daemon.stop();
    }
  });
});

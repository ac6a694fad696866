/**
 * No process globals: two daemons in one process each load the flow offload on their own NativeOffload (the addon
 * keeps no per-process tables), handshake over loopback UDP and keep their counters apart. Needs the built addon;
 * no namespaces (loopback only).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readPackageFile } from '../../api/package-files.js';
import { parseDaemonConfig } from '../../daemon/config.js';
import { Daemon } from '../../daemon/daemon.js';
import { loadNativeEdge } from '../../daemon/native.js';
import { systemClock } from '../../switch/clock.js';
import { encodeKeyBase64, generatePrivateKey, publicKey } from '../../switch/link/noise/crypto.js';
import { createLogger } from '../../switch/log.js';
import { MemoryPort } from '../../switch/port/memory-port.js';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const running: Daemon[] = [];
afterAll(async () => {
  for (const d of running) await d.stop();
});

describe('two daemons in one process', () => {
  it('both run the flow offload, each on its own tables, and link over loopback', async () => {
    const log = createLogger({ write: () => {} });
    const native = loadNativeEdge({}, log);
    expect(native, 'the addon is built (scripts/setup)').toBeDefined();
    const keys = [generatePrivateKey((n) => new Uint8Array(randomBytes(n))), generatePrivateKey((n) => new Uint8Array(randomBytes(n)))];
    const dir = mkdtempSync(join(tmpdir(), 'vswitch-two-'));
    const ports = [53101, 53102];
    const yaml = (i: number) =>
      `name: d${i}\nprivateKey: "${encodeKeyBase64(keys[i]!)}"\nlisten: { udp: "127.0.0.1:${ports[i]}" }\napi: { listen: "unix:${dir}/d${i}.sock" }\n` +
      `ports:\n  - { name: vm${i}, type: tap }\n` +
      `peers:\n  - { name: d${1 - i}, publicKey: "${encodeKeyBase64(publicKey(keys[1 - i]!))}", endpoint: "127.0.0.1:${ports[1 - i]}", transport: udp }\n`;
    for (const i of [0, 1]) {
      running.push(
        await Daemon.start(parseDaemonConfig(yaml(i), `d${i}.yaml`), {
          clock: systemClock,
          log,
          native: native!,
          specText: readPackageFile('openapi.yaml'),
          version: 'test',
          openPort: (c) => new MemoryPort(c.name),
        }),
      );
    }
    const [a, b] = running as [Daemon, Daemon];
    const deadline = performance.now() + 10_000;
    while (!(a.linkStatuses()[0]?.state === 'up' && b.linkStatuses()[0]?.state === 'up')) {
      if (performance.now() > deadline) throw new Error('the link did not come up over loopback');
      await new Promise((r) => setTimeout(r, 50)); // real time: real UDP sockets
    }
    expect(a.offloadStats()).toMatchObject({ enabled: true });
    expect(b.offloadStats()).toMatchObject({ enabled: true });
    expect(a.offload!.native).not.toBe(b.offload!.native);
  }, 30_000);
});

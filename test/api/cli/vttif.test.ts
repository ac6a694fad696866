/**
 * VTTIF's API and CLI on a Proxy daemon (no links: updates are fed to its VttifService directly, on a manual
 * clock): `topology app` in every format, `--watch` over the SSE stream, `vttif params`.
 */
import { vttifServiceOf } from '../../../plugins/vttif/daemon-plugin.js';
import { systemClock } from '../../../switch/clock.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProgram } from '../../../api/cli/program.js';
import { PRINT_PALETTE, sceneToSvg } from '../../../api/wire/app-topology-format.js';
import { layoutAppTopology } from '../../../api/wire/app-topology-layout.js';
import type { CliIo } from '../../../api/cli/common.js';
import { parseDaemonConfig } from '../../../daemon/config.js';
import { Daemon } from '../../../daemon/daemon.js';
import { parseMac } from '../../../switch/frame/mac.js';
import { createLogger } from '../../../switch/log.js';
import { MemoryPort } from '../../../switch/port/memory-port.js';

let daemon: Daemon;
let api: string;
let nowMs = 0;
const dir = mkdtempSync(join(tmpdir(), 'vswitch-vttif-cli-'));
const RING = ['02:00:c6:13:01:01', '02:00:c6:13:02:01', '02:00:c6:13:03:01', '02:00:c6:13:04:01'];

beforeAll(async () => {
  const config = parseDaemonConfig(`name: proxy\nrole: proxy\napi: { listen: "unix:${dir}/api.sock" }\nvttif: { smoothingMs: 1000 }\n`, 'proxy.yaml');
  daemon = await Daemon.start(config, {
    clock: { ...systemClock, now: () => nowMs },
    log: createLogger({ write: () => {} }),
    specText: readFileSync(new URL('../../../openapi.yaml', import.meta.url), 'utf8'),
    version: '0.0.0-test',
    openPort: (c: { name: string }) => new MemoryPort(c.name),
  });
  api = `unix:${dir}/api.sock`;
});
afterAll(async () => daemon.stop());

/** Feeds a 4-ring for `ms` at 20 Hz, the heaviest pair twice the others, ticking as the timer would. */
function feedRing(ms: number): void {
  for (let t = 0; t < ms; t += 50) {
    nowMs += 50;
    const entries = RING.map((a, i) => ({ src: parseMac(a)!, dst: parseMac(RING[(i + 1) % 4]!)!, frames: 10, bytes: i === 0 ? 20_000 : 10_000 }));
    vttifServiceOf(daemon)!.ingest({ host: 'h', atMs: nowMs, entries });
    vttifServiceOf(daemon)!.tick(nowMs);
  }
}

async function vswitch(...args: string[]): Promise<{ out: string; error?: { code?: string; status?: number } }> {
  const out: string[] = [];
  const io: CliIo = { out: (t) => out.push(t), err: () => {}, nowMs: () => 0 };
  try {
    await createProgram(io).parseAsync(['node', 'vswitch', ...args, '--api', api]);
    return { out: out.join('\n') };
  } catch (e) {
    return { out: out.join('\n'), error: e as { code?: string; status?: number } };
  }
}

describe('vswitch topology app / vttif params', () => {
  it('before any traffic: no edges, no shape, nothing detected', async () => {
    const json = JSON.parse((await vswitch('topology', 'app', '--json')).out);
    expect(json).toMatchObject({ edges: [], shape: null, detectedAt: null, settings: { updateRateHz: 20, smoothingMs: 1000, threshold: 0.1 } });
  });

  it('--watch prints the current topology, then each change (SSE)', async () => {
    const watching = vswitch('topology', 'app', '--watch', '--events', '2', '--format', 'json');
    // Real time: the CLI's SSE client runs over a real socket; let it connect before the ring is fed.
    await new Promise((r) => setTimeout(r, 100));
    feedRing(3000);
    const { out, error } = await watching;
    expect(error).toBeUndefined();
    const events = out.split('\n}\n').length;
    expect(events).toBe(2);
    expect(out).toContain('"reason": "current"');
    expect(out).toContain('"reason": "settled"');
  });

  it('prints the ring as JSON (undirected edges, lower-case MACs), text, DOT and SVG', async () => {
    const json = JSON.parse((await vswitch('topology', 'app', '--json')).out) as { edges: { a: string; b: string; intensity: number }[]; shape: string };
    expect(json.shape).toBe('ring');
    expect(json.edges).toHaveLength(4);
    for (const e of json.edges) expect(e.a < e.b && /^[0-9a-f:]{17}$/.test(e.a)).toBe(true);
    expect(Math.max(...json.edges.map((e) => e.intensity))).toBe(1);
    const text = (await vswitch('topology', 'app')).out;
    expect(text.split('\n')[0]).toMatch(/^application topology: ring \(4 VMs, 4 edges\), reported at /);
    const dot = (await vswitch('topology', 'app', '--format', 'dot')).out;
    expect(dot).toContain('"02:00:c6:13:01:01" -- "02:00:c6:13:02:01" [penwidth=8');
    expect(dot).toContain('penwidth=4.5');
    const svg = (await vswitch('topology', 'app', '--format', 'svg')).out;
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<line /g)).toHaveLength(4);
    // The drawing the dashboard shows too (api/wire/app-topology-layout.ts), serialised as text.
    expect(svg).toBe(sceneToSvg(layoutAppTopology(json, { palette: PRINT_PALETTE })));
    expect(svg.match(/stroke-width="8"/g)).toHaveLength(1); // the heaviest pair
  });

  it('vttif params shows and sets; a bad value is a 400 that changes nothing', async () => {
    expect(JSON.parse((await vswitch('vttif', 'params', '--threshold', '0.2', '--rate', '10', '--json')).out)).toMatchObject({ threshold: 0.2, updateRateHz: 10 });
    expect((await vswitch('vttif', 'params', '--threshold', '3')).error).toMatchObject({ status: 400 });
    expect((await vswitch('vttif', 'params')).out).toContain('threshold     0.2');
    const derived = await vswitch('vttif', 'params', '--smoothing', 'derived', '--json');
    expect(derived.error).toBeUndefined();
    expect(derived.out).toContain('"isSmoothingDerived": true');
  });
});

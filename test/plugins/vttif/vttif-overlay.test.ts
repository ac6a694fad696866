/**
 * VTTIF across real Daemons over in-memory ports and transports: a Proxy and two hosts. Frames injected on the
 * hosts' MemoryPorts are counted, sent up the star as matrix messages, and the Proxy infers the topology; the
 * parameters work through the Proxy's API (and the rate reaches the hosts); malformed matrix messages are
 * rejected, counted, and change nothing; `vttif.enabled: false` installs no counter.
 */
import { vttifServiceOf, type VttifParts } from '../../../plugins/vttif/daemon-plugin.js';
import { afterEach, describe, expect, it } from 'vitest';
import { apiRequest } from '../../../api/cli/client.js';
import type { MemoryPort } from '../../../switch/port/memory-port.js';
import { ethernetFrame } from '../../support/frames.js';
import { startMemoryOverlay, type MemoryOverlay } from '../../support/memory-overlay.js';
import type { ManualClock } from '../../../switch/clock.js';

const running: MemoryOverlay[] = [];
afterEach(async () => {
  while (running.length) await running.pop()!.stop();
});

const A = '02:00:c6:13:01:01';
const C = '02:00:c6:13:01:02';
const B = '02:00:c6:13:02:01';
const D = '02:00:c6:13:02:02';

async function star(vttifYaml = 'vttif: { updateRateHz: 20, smoothingMs: 200, threshold: 0.1 }') {
  const overlay = await startMemoryOverlay({ hosts: ['h1', 'h2'], proxyYaml: vttifYaml, hostYaml: vttifYaml, seed: 11 });
  running.push(overlay);
  const { proxy, hosts, ports, api, dir, clock, until } = overlay;
  return { proxy, h1: hosts.get('h1')!, h2: hosts.get('h2')!, ports, api, hostApi: { base: `unix:${dir}/h1.sock` }, clock, until };
}

const frame = (src: string, dst: string, payloadBytes = 1000) => ethernetFrame({ src, dst, payloadBytes });

/** A talks to B and C talks to B (heavy), A to D a little (~6 %), for `ms`; both directions, like an application. */
async function traffic(ports: Map<string, MemoryPort>, clock: ManualClock, ms: number): Promise<void> {
  const h1 = ports.get('tap-h1v1')!;
  const h2 = ports.get('tap-h2v1')!;
  for (let t = 0; t < ms; t += 10) {
    h1.inject([frame(A, B), frame(C, B), frame(A, D, 50)]);
    h2.inject([frame(B, A), frame(B, C), frame(D, A, 50)]);
    await clock.advance(10);
  }
}

const edgesOf = (t: { edges: { a: string; b: string }[] }) => t.edges.map((e) => `${e.a}-${e.b}`).sort();

describe('VTTIF in the daemons', () => {
  it('infers the topology at the Proxy from frames on the hosts, pruning the light pair', async () => {
    const { proxy, h1, ports, api, clock } = await star();
    expect(h1.datapath.counter).toBeDefined();
    await traffic(ports, clock, 700);
    const topology = vttifServiceOf(proxy)!.topology();
    expect(edgesOf(topology)).toEqual([`${A}-${B}`, `${C}-${B}`].sort());
    expect(topology.shape).toBe('bus');
    expect(topology.detectedAt).not.toBeNull();
    for (const e of topology.edges) expect(e.intensity).toBeGreaterThan(0.5);
    // The light pair is in the matrix, just not in the topology.
    const matrix = await apiRequest<{ pairs: { a: string; b: string }[]; stats: { updatesAccepted: number } }>(api, 'GET', '/v1/vttif/matrix');
    expect(matrix.pairs.map((p) => `${p.a}-${p.b}`)).toContain(`${A}-${D}`);
    expect(matrix.stats.updatesAccepted).toBeGreaterThan(5);
    // The API and `GET /v1/topology/app` say the same.
    const viaApi = await apiRequest<{ edges: unknown[]; shape: string }>(api, 'GET', '/v1/vttif/topology');
    expect(edgesOf(viaApi as never)).toEqual(edgesOf(topology));
    expect(await apiRequest(api, 'GET', '/v1/topology/app')).toMatchObject({ shape: 'bus' });
    expect(vttifServiceOf(proxy)!.events().at(-1)).toMatchObject({ reason: 'settled', shape: 'bus' });
  });

  it('sets the parameters through the API; the rate reaches the hosts; bad values are 400 and change nothing', async () => {
    const { proxy, h1, h2, api, hostApi, until } = await star();
    const set = await apiRequest<{ updateRateHz: number; threshold: number; smoothingMs: number }>(api, 'PUT', '/v1/vttif/parameters', { updateRateHz: 10, threshold: 0.3 });
    expect(set).toMatchObject({ updateRateHz: 10, threshold: 0.3, smoothingMs: 200 });
    await until(() => vttifReporterOf(h1)!.updateRateHz === 10 && vttifReporterOf(h2)!.updateRateHz === 10, 1000);
    await expect(apiRequest(api, 'PUT', '/v1/vttif/parameters', { threshold: 2 })).rejects.toMatchObject({ status: 400 });
    await expect(apiRequest(api, 'PUT', '/v1/vttif/parameters', { smoothingMs: 50 })).rejects.toMatchObject({ status: 400 });
    await expect(apiRequest(api, 'PUT', '/v1/vttif/parameters', { rate: 5 })).rejects.toMatchObject({ status: 400 });
    expect(vttifServiceOf(proxy)!.settings()).toMatchObject({ updateRateHz: 10, threshold: 0.3, smoothingMs: 200 });
    // Back to a derived window: it follows the Proxy's config-time bound (default 2000 ms → 4000 ms).
    expect(await apiRequest(api, 'PUT', '/v1/vttif/parameters', { smoothingMs: null })).toMatchObject({ smoothingMs: 4000, isSmoothingDerived: true });
    await apiRequest(api, 'PUT', '/v1/config-time', { upperBoundMs: 3000 });
    expect(await apiRequest(api, 'GET', '/v1/vttif/parameters')).toMatchObject({ smoothingMs: 6000, configTimeBoundMs: 3000 });
    // A host is not the Proxy.
    await expect(apiRequest(hostApi, 'GET', '/v1/vttif/topology')).rejects.toMatchObject({ status: 404, problem: { code: 'not-proxy' } });
  });

  it('rejects malformed matrix messages, counts them, and changes nothing', async () => {
    const { proxy, h1, clock } = await star();
    const before = vttifServiceOf(proxy)!.matrix();
    const bodies = [
      { t: 'matrix' },
      { t: 'matrix', update: { host: 'h1', atMs: 1, entries: [{ src: 'nonsense', dst: B, frames: 1, bytes: 1 }] } },
      { t: 'matrix', update: { host: 'h1', atMs: 1, entries: [{ src: A, dst: B, frames: -1, bytes: 10 }] } },
      { t: 'matrix', update: { host: 'h1', atMs: 1, entries: [{ src: A, dst: B, frames: 1.5, bytes: 10 }] } },
      { t: 'matrix', update: { host: '', atMs: 1, entries: [] } },
      { t: 'vttif-rate', updateRateHz: 99 },
    ];
    for (const body of bodies) h1.links!.sendControl('proxy', new TextEncoder().encode(JSON.stringify(body)));
    await clock.advance(50);
    expect(Object.values(proxy.overlay!.channel.malformed).reduce((a, b) => a + b, 0)).toBe(6);
    expect(vttifServiceOf(proxy)!.matrix().pairs).toEqual(before.pairs);
    expect(vttifServiceOf(proxy)!.matrix().stats.updatesAccepted).toBe(0);
  });

  it('a host cannot report under another name: the link names it', async () => {
    const { proxy, h1, until } = await star();
    const update = { host: 'h2', atMs: 1, entries: [{ src: A, dst: B, frames: 1, bytes: 100 }] };
    h1.links!.sendControl('proxy', new TextEncoder().encode(JSON.stringify({ t: 'matrix', update })));
    await until(() => vttifServiceOf(proxy)!.matrix().stats.updatesAccepted === 1, 500);
    expect(vttifServiceOf(proxy)!.matrix().pairs).toEqual([{ a: A, b: B, bytes: 100, frames: 1, hosts: ['h1'] }]);
  });

  it('vttif.enabled: false counts nothing and the Proxy answers 409', async () => {
    const { proxy, h1, ports, api, clock } = await star('vttif: { enabled: false }');
    expect(h1.datapath.counter).toBeUndefined();
    expect(vttifServiceOf(proxy)).toBeUndefined();
    await traffic(ports, clock, 50);
    await expect(apiRequest(api, 'GET', '/v1/vttif/topology')).rejects.toMatchObject({ status: 409, problem: { code: 'vttif-disabled' } });
  });
});


function vttifReporterOf(daemon: { pluginExports(name: string): unknown }) {
  return (daemon.pluginExports('vttif') as VttifParts | undefined)?.reporter;
}

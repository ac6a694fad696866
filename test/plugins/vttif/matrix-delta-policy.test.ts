/**
 * matrix-delta end to end in memory: a Proxy and two hosts (real Daemons, in-memory ports and transports, a manual
 * clock), an HTTP policy registered through the API taking `matrix-delta` and reading its SSE stream, next to one
 * taking `matrix`. The delta policy's first event is the whole matrix; what it holds after applying what it got is
 * the Proxy's matrix (GET /v1/vttif/matrix) within the threshold; a pair whose traffic stops comes as `removed`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { apiRequest, type ApiClientOptions } from '../../../api/cli/client.js';
import type { components } from '../../../api/generated/openapi.js';
import { readEventStream } from '../../../api/wire/sse.js';
import { applyMatrixDelta, DEFAULT_MATRIX_DELTA, movedEnough, type MatrixDelta } from '../../../plugins/vttif/matrix-delta.js';
import { ethernetFrame } from '../../support/frames.js';
import { startMemoryOverlay, type MemoryOverlay } from '../../support/memory-overlay.js';

type PluginEvent = components['schemas']['PluginEvent'];
type VttifMatrix = components['schemas']['VttifMatrix'];

const A = '02:00:c6:13:01:01';
const B = '02:00:c6:13:02:01';
const D = '02:00:c6:13:02:02';

let overlay: MemoryOverlay | undefined;
const aborts: AbortController[] = [];
afterEach(async () => {
  for (const a of aborts.splice(0)) a.abort();
  await overlay?.stop();
  overlay = undefined;
});

async function policy(name: string, events: string[]): Promise<PluginEvent[]> {
  const view = await apiRequest<{ token: string }>(overlay!.api, 'POST', '/v1/plugins', { name, events });
  const as: ApiClientOptions = { ...overlay!.api, token: view.token };
  const got: PluginEvent[] = [];
  const abort = new AbortController();
  aborts.push(abort);
  void readEventStream(as, `/v1/plugins/${name}/events`, (n, data) => void (n !== 'hello' && got.push(JSON.parse(data) as PluginEvent)), abort.signal);
  return got;
}

describe('matrix-delta for an HTTP policy', () => {
  it('whole matrix first, then changes: what it holds is the matrix within the threshold; a quiet pair is removed', async () => {
    const yaml = 'vttif: { updateRateHz: 20, smoothingMs: 1000, threshold: 0.1 }';
    overlay = await startMemoryOverlay({ hosts: ['h1', 'h2'], proxyYaml: yaml, hostYaml: yaml, seed: 11 });
    const { ports, clock, until } = overlay;
    const deltaEvents = await policy('delta', ['matrix-delta']);
    const wholeEvents = await policy('whole', ['matrix']);
    const h1 = ports.get('tap-h1v1')!;
    const h2 = ports.get('tap-h2v1')!;
    /** A ↔ B steady and heavy; A ↔ D while `withD`. */
    const traffic = async (ms: number, withD: boolean) => {
      for (let t = 0; t < ms; t += 10) {
        h1.inject([ethernetFrame({ src: A, dst: B, payloadBytes: 1000 }), ...(withD ? [ethernetFrame({ src: A, dst: D, payloadBytes: 1000 })] : [])]);
        h2.inject([ethernetFrame({ src: B, dst: A, payloadBytes: 1000 })]);
        await clock.advance(10);
      }
    };
    await traffic(3000, true);
    await until(() => deltaEvents.length > 0 && wholeEvents.length > 0, 2000, 'both policies heard the matrix');

    const deltas = () => deltaEvents.map((e) => e.matrixDelta as MatrixDelta);
    expect(deltaEvents.every((e) => e.type === 'matrix-delta')).toBe(true);
    expect(deltas()[0]).toMatchObject({ seq: 1, full: true });
    let held: ReturnType<typeof applyMatrixDelta>;
    const applyAll = () => {
      held = undefined;
      for (const d of deltas()) held = applyMatrixDelta(held, d);
      return held!;
    };
    const expectHeldIsMatrix = async () => {
      const matrix = await apiRequest<VttifMatrix>(overlay!.api, 'GET', '/v1/vttif/matrix');
      const got = applyAll();
      expect([...got.pairs.keys()].sort()).toEqual(matrix.pairs.map((p) => `${p.a} ${p.b}`).sort());
      for (const p of matrix.pairs) expect(movedEnough(got.pairs.get(`${p.a} ${p.b}`)!.bytes, p.bytes, DEFAULT_MATRIX_DELTA)).toBe(false);
      return matrix;
    };
    const withD = await expectHeldIsMatrix();
    expect(withD.pairs).toHaveLength(2);
    // Steady traffic: `matrix` came every second, matrix-delta only the first (and whatever moved as the window filled).
    expect(wholeEvents.length).toBeGreaterThan(deltaEvents.length);

    // D goes quiet: once its reports leave the window, the pair comes as removed.
    await traffic(3000, false);
    await expectHeldIsMatrix();
    expect(deltas().some((d) => d.removed.some((r) => r.a === A && r.b === D))).toBe(true);
    expect([...applyAll().pairs.keys()]).toEqual([`${A} ${B}`]);
    // No gap in seq: nothing lost.
    expect(deltas().map((d) => d.seq)).toEqual(deltas().map((_, i) => i + 1));
  }, 30_000);
});

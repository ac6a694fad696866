/**
 * What a subscriber to VTTIF's matrix receives per second: `matrix` (the whole matrix every second) against
 * `matrix-delta` (plugins/vttif/matrix-delta.ts: the whole matrix first and every 30 s, changes in between), as the
 * JSON bytes of the PluginEvents an SSE policy is sent, for 400 VMs all-to-all (79 800 pairs):
 *   - steady: every pair's rate moves by a small noise (±2 % a second);
 *   - changing: besides the noise, 10 % of the pairs (chosen at random each second) change rate (×0.3 … ×3).
 * Averaged over 120 simulated seconds (so 4 full matrices for matrix-delta), seeded (same figures every run).
 *
 *   npx tsc -p tsconfig.build.json && node dist/scripts/bench/vttif-delta.js [--json] [--vms N] [--seconds S]
 */
import { seededRandom } from '../lib/seeded-random.js';
import { MatrixDeltaTracker, type DeltaPair } from '../../plugins/vttif/matrix-delta.js';

interface CaseResult {
  case: string;
  vms: number;
  pairs: number;
  matrixBytesPerS: number;
  deltaBytesPerS: number;
  deltaPairsPerS: number;
  deltaPeakBytes: number;
  ratio: number;
}

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const VMS = arg('--vms', 400);
const SECONDS = arg('--seconds', 120);
const WINDOW_MS = 1000;

const macOf = (i: number): string => `02:00:c6:13:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
/** Two VMs per host, as in the lab: VM i is on host h(i/2). */
const hostOf = (i: number): string => `h${(i >> 1) + 1}`;

/** The event as the registry stamps it (seq, at) and the SSE stream sends it: its JSON is what crosses. */
const eventBytes = (seq: number, body: Record<string, unknown>): number =>
  Buffer.byteLength(JSON.stringify({ seq, at: '2026-12-03T21:00:00.000Z', ...body }));

function run(name: string, changingFraction: number): CaseResult {
  const random = seededRandom(19);
  const pairs: DeltaPair[] = [];
  for (let i = 0; i < VMS; i++) {
    for (let j = i + 1; j < VMS; j++) {
      const bytes = 20_000 + Math.floor(random() * 2_000_000);
      pairs.push({ a: macOf(i), b: macOf(j), bytes, frames: Math.ceil(bytes / 1400), hosts: [...new Set([hostOf(i), hostOf(j)])].sort() });
    }
  }
  const tracker = new MatrixDeltaTracker();
  let matrixBytes = 0;
  let deltaBytes = 0;
  let deltaPairs = 0;
  let peak = 0;
  let seq = 0;
  const stats = { lastTimeToAdaptMs: 120, lastReportAtMs: 0, lastAdaptedAtMs: 0 };
  for (let s = 0; s < SECONDS; s++) {
    for (let k = 0; k < pairs.length; k++) {
      const p = pairs[k]!;
      const factor = random() < changingFraction ? 0.3 + random() * 2.7 : 1 + (random() - 0.5) * 0.04;
      const bytes = Math.max(1, Math.floor(p.bytes * factor));
      pairs[k] = { ...p, bytes, frames: Math.ceil(bytes / 1400) };
    }
    const matrix = { windowMs: WINDOW_MS, pairs };
    matrixBytes += eventBytes(++seq, { type: 'matrix', matrix: { ...matrix, stats: { ...stats, lastReportAtMs: s * 1000 } } });
    const delta = tracker.next(matrix);
    if (delta) {
      const n = eventBytes(++seq, { type: 'matrix-delta', matrixDelta: delta });
      deltaBytes += n;
      deltaPairs += delta.pairs.length + delta.removed.length;
      peak = Math.max(peak, n);
    }
  }
  return {
    case: name,
    vms: VMS,
    pairs: pairs.length,
    matrixBytesPerS: Math.round(matrixBytes / SECONDS),
    deltaBytesPerS: Math.round(deltaBytes / SECONDS),
    deltaPairsPerS: Math.round(deltaPairs / SECONDS),
    deltaPeakBytes: peak,
    ratio: Number((deltaBytes / matrixBytes).toFixed(3)),
  };
}

const results = [run('steady (±2 % noise)', 0), run('changing (10 % of pairs a second)', 0.1)];
if (process.argv.includes('--json')) {
  console.log(JSON.stringify(results, null, 2));
} else {
  const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;
  console.log(`VTTIF matrix per subscriber: ${VMS} VMs all-to-all (${results[0]!.pairs} pairs), ${SECONDS} s`);
  console.log('case                               | matrix /s  | matrix-delta /s | pairs sent /s | delta peak (a full) | delta/matrix');
  for (const r of results) {
    console.log(
      `${r.case.padEnd(34)} | ${mb(r.matrixBytesPerS).padStart(10)} | ${mb(r.deltaBytesPerS).padStart(15)} | ${String(r.deltaPairsPerS).padStart(13)} | ${mb(r.deltaPeakBytes).padStart(19)} | ${r.ratio}`,
    );
  }
}

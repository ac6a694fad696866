/**
 * Super-linear behaviour: each target's worst-case families (long runs of one character, deep nesting, many
 * entries…) at 4 KiB, 16 KiB, 64 KiB, 256 KiB and 1 MiB, timed (the fastest of a few runs), and the growth
 * exponent between the two largest sizes that took measurable time: time ∝ size^k. k ≈ 1 is linear;
 * k > 1.5 for the last two steps, with at least 20 ms at the largest size, is flagged. Each run's time is the
 * lesser of its wall and CPU time, after a GC. Any size over its per-input budget
 * (engine.ts budgetMs: 100 ms per 64 KiB) is a hang; an error the target does not allow is a crash.
 */
import { budgetMs, crashSignature, describeError, type Finding } from './engine.js';
import type { FuzzTarget } from './target.js';

export const SCALING_SIZES = [4096, 16_384, 65_536, 262_144, 1_048_576];
const SUPERLINEAR_EXPONENT = 1.5;
const SUPERLINEAR_MIN_MS = 20;

export interface ScalingPoint {
  readonly bytes: number;
  readonly ms: number;
}

export interface ScalingResult {
  readonly target: string;
  readonly family: string;
  readonly points: ScalingPoint[];
  /** Growth exponent between the two largest measured sizes; undefined when too fast to tell. */
  readonly exponent: number | undefined;
  readonly superlinear: boolean;
  /** Stopped growing the input because the next size would take longer than the cap. */
  readonly capped: boolean;
  readonly findings: Finding[];
}

export interface ScalingOptions {
  /** Largest size tried (default 1 MiB). */
  readonly maxBytes?: number;
  /** Stop growing a family once the next size would take longer than this (default 3000 ms). */
  readonly capMs?: number;
  readonly seed?: number;
  readonly hangMs?: number;
}

/** One run: the lesser of wall and CPU time (a shared machine inflates wall time, GC threads CPU time). */
async function timeOnce<I>(target: FuzzTarget<I>, input: I): Promise<{ ms: number; error?: unknown }> {
  (globalThis as { gc?: () => void }).gc?.(); // the child runs with --expose-gc: no earlier garbage in this run
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let failure: unknown;
  try {
    const r = target.execute(input);
    if (typeof (r as { then?: unknown }).then === 'function') await r;
  } catch (error) {
    if (target.classify(error) === undefined) failure = error;
  }
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  const ms = Math.min(wall, (cpu.user + cpu.system) / 1000);
  return failure === undefined ? { ms } : { ms, error: failure };
}

export async function measureScaling<I>(target: FuzzTarget<I>, options: ScalingOptions = {}): Promise<ScalingResult[]> {
  const maxBytes = options.maxBytes ?? SCALING_SIZES[SCALING_SIZES.length - 1]!;
  const capMs = options.capMs ?? 3000;
  const results: ScalingResult[] = [];
  for (const family of target.worstCases) {
    const points: ScalingPoint[] = [];
    const findings: Finding[] = [];
    let capped = false;
    for (const bytes of SCALING_SIZES.filter((s) => s <= maxBytes)) {
      if (target.reset) await target.reset();
      const input = family.make(bytes);
      const size = target.size(input);
      let best = Number.POSITIVE_INFINITY;
      let spent = 0;
      let failed: unknown;
      for (let run = 0; run < 5 && (run < 3 || spent < 50) && spent < capMs; run++) {
        const { ms, error } = await timeOnce(target, input);
        best = Math.min(best, ms);
        spent += ms;
        if (error !== undefined) {
          failed = error;
          break;
        }
      }
      points.push({ bytes: size, ms: best });
      const base = { target: target.name, seed: options.seed ?? 0, index: -1, input: target.encode(input), size };
      if (failed !== undefined) {
        const { detail, stack } = describeError(failed);
        findings.push({ ...base, kind: 'crash', signature: crashSignature(failed), detail: `${family.name} at ${size} bytes: ${detail}`, stack });
        break;
      }
      const budget = budgetMs(size, options.hangMs);
      if (best > budget) {
        findings.push({ ...base, kind: 'hang', signature: `hang ${target.name} ${family.name}`, detail: `${family.name}: ${best.toFixed(1)} ms for ${size} bytes (budget ${budget.toFixed(0)} ms)`, stack: '', ms: best });
      }
      if (best * 4 > capMs) {
        capped = true; // the next size (×4) would take longer than the cap: stop here
        break;
      }
    }
    // The exponent between the two largest sizes; super-linear when it and the one before both exceed 1.5
    // (one steep step alone is usually the heap growing, not the algorithm).
    const measurable = points.filter((p) => p.ms >= 0.5);
    const slope = (a: ScalingPoint, b: ScalingPoint): number => Math.log(b.ms / a.ms) / Math.log(b.bytes / a.bytes);
    let exponent: number | undefined;
    let previous: number | undefined;
    if (measurable.length >= 2) exponent = slope(measurable[measurable.length - 2]!, measurable[measurable.length - 1]!);
    if (measurable.length >= 3) previous = slope(measurable[measurable.length - 3]!, measurable[measurable.length - 2]!);
    const last = points[points.length - 1];
    const steep = exponent !== undefined && exponent > SUPERLINEAR_EXPONENT && (previous === undefined || previous > SUPERLINEAR_EXPONENT);
    const superlinear = steep && (last?.ms ?? 0) >= SUPERLINEAR_MIN_MS;
    if (superlinear && !findings.some((f) => f.kind === 'hang') && last) {
      findings.push({
        target: target.name,
        seed: options.seed ?? 0,
        index: -1,
        kind: 'hang',
        signature: `superlinear ${target.name} ${family.name}`,
        detail: `${family.name}: time grows as size^${exponent?.toFixed(2) ?? '?'} (${points.map((p) => `${p.bytes} B ${p.ms.toFixed(1)} ms`).join(', ')})`,
        stack: '',
        input: target.encode(family.make(last.bytes)),
        size: last.bytes,
        ms: last.ms,
      });
    }
    results.push({ target: target.name, family: family.name, points, exponent, superlinear, capped, findings });
  }
  return results;
}

/**
 * Super-linear behaviour: each target's worst-case families (long runs of one character, deep nesting, many
 * entries…) at 4 KiB, 16 KiB, 64 KiB, 256 KiB and 1 MiB, timed (the fastest of a few runs), and the growth
 * exponent between the two largest sizes that took measurable time: time ∝ size^k. k ≈ 1 is linear;
 * k > 1.5 with at least 20 ms at the largest size is flagged. Any size over its per-input budget
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
  /** Stopped growing the input because one run took longer than the cap. */
  readonly capped: boolean;
  readonly findings: Finding[];
}

export interface ScalingOptions {
  /** Largest size tried (default 1 MiB). */
  readonly maxBytes?: number;
  /** Stop growing a family once one run takes this long (default 3000 ms). */
  readonly capMs?: number;
  readonly seed?: number;
  readonly hangMs?: number;
}

async function timeOnce<I>(target: FuzzTarget<I>, input: I): Promise<{ ms: number; error?: unknown }> {
  const t0 = performance.now();
  try {
    const r = target.execute(input);
    if (typeof (r as { then?: unknown }).then === 'function') await r;
  } catch (error) {
    if (target.classify(error) === undefined) return { ms: performance.now() - t0, error };
  }
  return { ms: performance.now() - t0 };
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
      for (let run = 0; run < 5 && (run < 2 || spent < 50) && spent < capMs; run++) {
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
      if (best > capMs || spent >= capMs) {
        capped = true;
        break;
      }
    }
    const measurable = points.filter((p) => p.ms >= 0.5);
    let exponent: number | undefined;
    if (measurable.length >= 2) {
      const [a, b] = measurable.slice(-2) as [ScalingPoint, ScalingPoint];
      exponent = Math.log(b.ms / a.ms) / Math.log(b.bytes / a.bytes);
    }
    const last = points[points.length - 1];
    const superlinear = (exponent !== undefined && exponent > SUPERLINEAR_EXPONENT && (last?.ms ?? 0) >= SUPERLINEAR_MIN_MS) || (capped && points.length < SCALING_SIZES.filter((s) => s <= maxBytes).length);
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

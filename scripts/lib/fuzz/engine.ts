/**
 * The fuzz loop, in-process: input #i = target.generate(rng(seed, target, i)); run; classify.
 *
 *   crash  execute threw something the target's `classify` does not allow (OracleViolation included)
 *   hang   one input took longer than its budget: hangMs (100) for an input up to 64 KiB, and linearly more
 *          above (a 1 MiB input may take 16 × 100 ms); a slow input is run twice more and counts only when
 *          the fastest of the three runs is over budget in both wall and CPU time (the machine is shared)
 *
 * A process-killing input (a fatal V8 error, an infinite loop) is the parent's job (main.ts): it watches
 * `onProgress` and replays the stretch the child died in with `careful` (progress before every input).
 */
import { inputRng } from './rng.js';
import { errorLabel, type FuzzTarget } from './target.js';

export const HANG_MS = 100;
export const HANG_BUDGET_BYTES = 65_536;
/** Distinct crashes kept (with their input) per signature; the rest are only counted. */
const KEEP_PER_SIGNATURE = 3;
/** Distinct crash signatures kept at most per run. */
const KEEP_SIGNATURES = 20;

export interface Finding {
  readonly kind: 'crash' | 'hang';
  readonly target: string;
  readonly seed: number;
  readonly index: number;
  /** Error class + message with numbers blanked + first frame outside the harness (crash), or "hang". */
  readonly signature: string;
  /** What happened: the error's message, or the time. */
  readonly detail: string;
  readonly stack: string;
  /** The encoded input (target.encode). */
  readonly input: Uint8Array;
  readonly size: number;
  readonly ms?: number;
}

export interface RunOptions {
  readonly seed: number;
  /** Stop after this many inputs (counting from startIndex). */
  readonly inputs?: number;
  /** Stop after this many seconds. */
  readonly seconds?: number;
  /** First input index (default 0). A stateful target is replayed from its last reset boundary first. */
  readonly startIndex?: number;
  readonly hangMs?: number;
  /** Called every `progressEvery` inputs with the next index to run (and in careful mode before each input). */
  readonly onProgress?: (nextIndex: number, input?: Uint8Array) => void;
  readonly progressEvery?: number;
  /** Report progress (with the encoded input) before every input. */
  readonly careful?: boolean;
  readonly onFinding?: (finding: Finding) => void;
  /** Indices not to run (inputs that killed an earlier process of this run: a restart replays past them). */
  readonly skip?: ReadonlySet<number>;
}

export interface RunResult {
  readonly target: string;
  readonly seed: number;
  readonly firstIndex: number;
  readonly inputs: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly crashes: number;
  readonly hangs: number;
  readonly findings: Finding[];
  /** Slowest input (execution only): ms, index, size. */
  readonly slowest: { ms: number; index: number; size: number };
  /** Outcome label → count. */
  readonly outcomes: Record<string, number>;
  readonly bytes: number;
}

type Outcome = { ok: true; label: string } | { ok: false; error: unknown };

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

function settle<I>(target: FuzzTarget<I>, input: I): Outcome | Promise<Outcome> {
  const onError = (error: unknown): Outcome => {
    const label = target.classify(error);
    return label === undefined ? { ok: false, error } : { ok: true, label };
  };
  try {
    const result = target.execute(input);
    if (isPromise(result)) return result.then((label) => ({ ok: true, label }) as Outcome, onError);
    return { ok: true, label: result };
  } catch (error) {
    return onError(error);
  }
}

/** Class + message (numbers blanked, first line, 120 chars) + the first stack frame outside the fuzz harness. */
export function crashSignature(error: unknown): string {
  const name = error instanceof Error ? error.name : typeof error;
  const message = (error instanceof Error ? error.message : String(error)).split('\n')[0]!.replace(/\d+/g, 'N').slice(0, 120);
  const frames = (error instanceof Error ? (error.stack ?? '') : '').split('\n').filter((l) => l.trimStart().startsWith('at '));
  const own = frames.find((l) => !/scripts[\\/]lib[\\/]fuzz[\\/]/.test(l)) ?? frames[0] ?? '';
  const where = own.replace(/^\s*at\s+/, '').replace(/:\d+:\d+\)?$/, '').replace(/\(.*[\\/]/, '(');
  return `${name}: ${message} @ ${where}`;
}

export function describeError(error: unknown): { detail: string; stack: string } {
  if (error instanceof Error) return { detail: `${error.name}: ${error.message}`.slice(0, 2000), stack: error.stack ?? String(error) };
  return { detail: String(error), stack: String(error) };
}

function cpuMsNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Wall ms over budget? Budget grows linearly above 64 KiB. */
export function budgetMs(size: number, hangMs = HANG_MS): number {
  return hangMs * Math.max(1, size / HANG_BUDGET_BYTES);
}

export async function runTarget<I>(target: FuzzTarget<I>, options: RunOptions): Promise<RunResult> {
  const seed = options.seed >>> 0;
  const start = options.startIndex ?? 0;
  const maxInputs = options.inputs ?? Number.POSITIVE_INFINITY;
  const deadline = options.seconds === undefined ? Number.POSITIVE_INFINITY : performance.now() + options.seconds * 1000;
  const hangMs = options.hangMs ?? HANG_MS;
  const progressEvery = options.careful ? 1 : (options.progressEvery ?? 64);
  const findings: Finding[] = [];
  const perSignature = new Map<string, number>();
  const outcomes: Record<string, number> = {};
  let crashes = 0;
  let hangs = 0;
  let bytes = 0;
  let slowest = { ms: 0, index: -1, size: 0 };

  const record = (finding: Finding): void => {
    const seen = perSignature.get(finding.signature) ?? 0;
    perSignature.set(finding.signature, seen + 1);
    if (seen < KEEP_PER_SIGNATURE && (seen > 0 || perSignature.size <= KEEP_SIGNATURES)) {
      findings.push(finding);
      options.onFinding?.(finding);
    }
  };

  // A stateful target starts from its last reset boundary at or before `start`, replayed without checks.
  const every = target.resetEvery;
  let index = start;
  if (target.reset) await target.reset();
  if (every !== undefined && start % every !== 0) {
    for (let i = start - (start % every); i < start; i++) {
      if (options.skip?.has(i)) continue;
      const outcome = settle(target, target.generate(inputRng(seed, target.name, i), i));
      if (isPromise(outcome)) await outcome;
    }
  }

  const wallStart = performance.now();
  const cpuStart = cpuMsNow();
  let count = 0;
  while (count < maxInputs && performance.now() < deadline) {
    if (every !== undefined && index !== start && index % every === 0 && target.reset) await target.reset();
    if (options.skip?.has(index)) {
      index++;
      count++;
      continue;
    }
    const input = target.generate(inputRng(seed, target.name, index), index);
    const size = target.size(input);
    if (options.onProgress && (count % progressEvery === 0 || options.careful)) {
      options.onProgress(index, options.careful ? target.encode(input) : undefined);
    }
    const t0 = performance.now();
    let outcome = settle(target, input);
    if (isPromise(outcome)) outcome = await outcome;
    const ms = performance.now() - t0;
    bytes += size;
    if (ms > slowest.ms) slowest = { ms, index, size };
    if (outcome.ok) {
      outcomes[outcome.label] = (outcomes[outcome.label] ?? 0) + 1;
    } else {
      crashes++;
      outcomes['CRASH'] = (outcomes['CRASH'] ?? 0) + 1;
      const { detail, stack } = describeError(outcome.error);
      record({ kind: 'crash', target: target.name, seed, index, signature: crashSignature(outcome.error), detail, stack, input: target.encode(input), size });
    }
    const budget = budgetMs(size, hangMs);
    if (ms > budget) {
      // Run it twice more: the fastest run decides, on wall and CPU time both.
      let bestWall = ms;
      let bestCpu = Number.POSITIVE_INFINITY;
      for (let rerun = 0; rerun < 2 && bestWall > budget; rerun++) {
        const w0 = performance.now();
        const c0 = cpuMsNow();
        const again = settle(target, input);
        if (isPromise(again)) await again;
        bestWall = Math.min(bestWall, performance.now() - w0);
        bestCpu = Math.min(bestCpu, cpuMsNow() - c0);
      }
      if (bestWall > budget && bestCpu > budget) {
        hangs++;
        record({
          kind: 'hang',
          target: target.name,
          seed,
          index,
          signature: `hang ${target.name}`,
          detail: `${bestWall.toFixed(1)} ms wall, ${bestCpu.toFixed(1)} ms CPU for ${size} bytes (budget ${budget.toFixed(0)} ms)`,
          stack: '',
          input: target.encode(input),
          size,
          ms: bestWall,
        });
      }
      slowest = slowest.index === index ? { ms: bestWall, index, size } : slowest;
    }
    index++;
    count++;
  }
  options.onProgress?.(index);
  return {
    target: target.name,
    seed,
    firstIndex: start,
    inputs: count,
    seconds: (performance.now() - wallStart) / 1000,
    cpuSeconds: (cpuMsNow() - cpuStart) / 1000,
    crashes,
    hangs,
    findings,
    slowest,
    outcomes,
    bytes,
  };
}

/** Runs one saved input on a fresh target: its outcome label, or the crash. */
export async function replayInput<I>(target: FuzzTarget<I>, bytes: Uint8Array): Promise<{ label?: string; error?: unknown; ms: number }> {
  if (target.reset) await target.reset();
  const input = target.decode(bytes);
  const t0 = performance.now();
  let outcome = settle(target, input);
  if (isPromise(outcome)) outcome = await outcome;
  const ms = performance.now() - t0;
  return outcome.ok ? { label: outcome.label, ms } : { error: outcome.error, ms };
}

export { errorLabel };

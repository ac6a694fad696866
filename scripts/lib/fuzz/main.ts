/**
 * scripts/fuzz: every decoder and parser that takes outside bytes, fuzzed (scripts/lib/fuzz/targets/).
 *
 *   scripts/fuzz [--inputs N] [--seconds S] [--target NAME[,NAME…]] [--seed K] [--start I] [--smoke]
 *                [--no-scaling] [--scaling-max BYTES] [--json FILE]
 *   scripts/fuzz --target NAME --replay FILE        run one saved input, print its outcome (or the crash)
 *   scripts/fuzz --target NAME --seed K --index I   run input #I of that seed's run, print its outcome
 *   scripts/fuzz --list
 *
 * Defaults: all targets, 1 000 000 inputs each, seed 1, then the super-linearity check up to 1 MiB.
 * --smoke: 2 s per target (at most 100 000 inputs) and the check up to 64 KiB, under 60 s in all.
 *
 * Each target runs in a child process (this file with --child), so a fatal error of the process (V8 out of
 * memory, a native abort) or a real hang is caught too: the child writes its progress to a file; when it dies
 * or stops making progress for 10 s, the parent kills it (by pid), replays the stretch since the last
 * progress in a careful child (progress and input saved before every input) to find the input, saves it,
 * and goes on after it. Every crash and hang is saved under test-artifacts/fuzz/ as
 * <target>-seed<K>-<index>-<kind>.bin (the encoded input) and .txt (error, stack, replay command).
 * Exit status: 1 when any target had a crash or a hang that is not a known issue (known.ts), 2 on bad usage.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../../../api/package-files.js';
import { describeError, replayInput, runTarget, type Finding, type RunResult } from './engine.js';
import { knownIssueOf } from './known.js';
import { measureScaling, type ScalingResult } from './scaling.js';
import { makeTarget, TARGET_NAMES } from './targets/index.js';
import type { AnyTarget } from './target.js';

const THIS_FILE = fileURLToPath(import.meta.url);
const STALL_MS = 10_000;
const MAX_RESTARTS = 8;

interface Options {
  targets: string[];
  inputs: number | undefined;
  seconds: number | undefined;
  seed: number;
  start: number;
  scaling: boolean;
  scalingMax: number;
  scalingCapMs: number;
  json: string | undefined;
  replay: string | undefined;
  index: number | undefined;
  list: boolean;
  child: boolean;
  careful: boolean;
  progressFile: string | undefined;
  artifacts: string;
  /** Self-test of the watchdog: the child aborts (or spins forever) at this input index. */
  dieAt: { index: number; how: 'abort' | 'spin' } | undefined;
  /** Inputs that killed an earlier child (not run again). */
  skip: number[];
}

const USAGE = `usage:
  scripts/fuzz [--inputs N] [--seconds S] [--target NAME[,NAME…]] [--seed K] [--start I] [--smoke]
               [--no-scaling] [--scaling-max BYTES] [--json FILE]
  scripts/fuzz --target NAME --replay FILE        run one saved input, print its outcome (or the crash)
  scripts/fuzz --target NAME --seed K --index I   run input #I of that seed's run, print its outcome
  scripts/fuzz --list
targets: ${TARGET_NAMES.join(', ')}
`;

function usage(message: string): never {
  process.stderr.write(`fuzz: ${message}\n${USAGE}`);
  process.exit(2);
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    targets: TARGET_NAMES,
    inputs: undefined,
    seconds: undefined,
    seed: 1,
    start: 0,
    scaling: true,
    scalingMax: 1_048_576,
    scalingCapMs: 3000,
    json: undefined,
    replay: undefined,
    index: undefined,
    list: false,
    child: false,
    careful: false,
    progressFile: undefined,
    artifacts: join(packageRoot(), 'test-artifacts', 'fuzz'),
    dieAt: undefined,
    skip: [],
  };
  let smoke = false;
  const number = (flag: string, value: string | undefined): number => {
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n) || n < 0) usage(`${flag} needs a non-negative number (got ${value ?? 'nothing'})`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    switch (flag) {
      case '--inputs': o.inputs = Math.floor(number(flag, value)); i++; break;
      case '--seconds': o.seconds = number(flag, value); i++; break;
      case '--seed': o.seed = Math.floor(number(flag, value)) >>> 0; i++; break;
      case '--start': o.start = Math.floor(number(flag, value)); i++; break;
      case '--index': o.index = Math.floor(number(flag, value)); i++; break;
      case '--scaling-max': o.scalingMax = number(flag, value); i++; break;
      case '--scaling-cap-ms': o.scalingCapMs = number(flag, value); i++; break;
      case '--json': o.json = value ?? usage('--json needs a file'); i++; break;
      case '--replay': o.replay = value ?? usage('--replay needs a file'); i++; break;
      case '--progress-file': o.progressFile = value; i++; break;
      case '--artifacts': o.artifacts = resolve(value ?? usage('--artifacts needs a directory')); i++; break;
      case '--target': {
        const names = (value ?? '').split(',').filter((n) => n !== '');
        for (const n of names) if (!TARGET_NAMES.includes(n)) usage(`no target "${n}" (targets: ${TARGET_NAMES.join(', ')})`);
        if (names.length === 0) usage('--target needs a name');
        o.targets = names;
        i++;
        break;
      }
      case '--selftest-abort-at': o.dieAt = { index: Math.floor(number(flag, value)), how: 'abort' }; i++; break;
      case '--selftest-spin-at': o.dieAt = { index: Math.floor(number(flag, value)), how: 'spin' }; i++; break;
      case '--skip': o.skip = (value ?? '').split(',').filter((x) => x !== '').map(Number); i++; break;
      case '--smoke': smoke = true; break;
      case '--no-scaling': o.scaling = false; break;
      case '--list': o.list = true; break;
      case '--child': o.child = true; break;
      case '--careful': o.careful = true; break;
      case '-h':
      case '--help': usage('help');
      default: usage(`unknown argument "${flag}"`);
    }
  }
  if (smoke) {
    o.seconds ??= 2;
    o.inputs ??= 100_000;
    o.scalingMax = Math.min(o.scalingMax, 65_536);
    o.scalingCapMs = 600;
  }
  if (o.inputs === undefined && o.seconds === undefined) o.inputs = 1_000_000;
  return o;
}

// ---- child: one target, in-process ----------------------------------------------------------------

/** --selftest-abort-at / --selftest-spin-at: the target kills or hangs its process at one index (tests the watchdog). */
function withSelfTest(target: AnyTarget, dieAt: Options['dieAt']): AnyTarget {
  if (!dieAt) return target;
  let current = -1;
  return {
    ...target,
    generate: (rng, index) => {
      current = index;
      return target.generate(rng, index);
    },
    execute: (input) => {
      if (current === dieAt.index) {
        if (dieAt.how === 'abort') process.abort();
        for (;;);
      }
      return target.execute(input);
    },
  };
}

interface ChildMessage {
  type: 'finding' | 'result' | 'scaling';
  finding?: WireFinding;
  result?: Omit<RunResult, 'findings'>;
  scaling?: (Omit<ScalingResult, 'findings'> & { findings: WireFinding[] })[];
}
type WireFinding = Omit<Finding, 'input'> & { input: string };

const toWire = (f: Finding): WireFinding => ({ ...f, input: Buffer.from(f.input).toString('base64') });
const fromWire = (f: WireFinding): Finding => ({ ...f, input: new Uint8Array(Buffer.from(f.input, 'base64')) });

async function child(o: Options): Promise<void> {
  const name = o.targets[0]!;
  const target = withSelfTest(makeTarget(name), o.dieAt);
  const send = (m: ChildMessage): Promise<void> => new Promise((done) => (process.send ? process.send(m, () => done()) : done()));
  const fd = o.progressFile ? openSync(o.progressFile, 'w') : undefined;
  const position = Buffer.alloc(8);
  const onProgress =
    fd === undefined
      ? undefined
      : (next: number, input?: Uint8Array) => {
          position.writeDoubleLE(next, 0);
          writeSync(fd, position, 0, 8, 0);
          if (input) writeFileSync(`${o.progressFile}.input`, input);
        };
  const pending: Promise<void>[] = [];
  {
    const result = await runTarget(target, {
      seed: o.seed,
      startIndex: o.start,
      ...(o.inputs !== undefined ? { inputs: o.inputs } : {}),
      ...(o.seconds !== undefined ? { seconds: o.seconds } : {}),
      careful: o.careful,
      skip: new Set(o.skip),
      ...(onProgress ? { onProgress } : {}),
      onFinding: (f) => void pending.push(send({ type: 'finding', finding: toWire(f) })),
    });
    await Promise.all(pending);
    const { findings: _f, ...rest } = result;
    await send({ type: 'result', result: rest });
  }
  if (o.scaling) {
    const scaling = await measureScaling(target, { maxBytes: o.scalingMax, capMs: o.scalingCapMs, seed: o.seed });
    await send({ type: 'scaling', scaling: scaling.map((s) => ({ ...s, findings: s.findings.map(toWire) })) });
  }
  if (fd !== undefined) closeSync(fd);
}

// ---- parent: children, watchdog, artifacts, table -----------------------------------------------------

interface TargetReport {
  target: string;
  inputs: number;
  seconds: number;
  cpuSeconds: number;
  crashes: number;
  hangs: number;
  slowest: { ms: number; index: number; size: number };
  findings: Finding[];
  scaling: ScalingResult[];
  outcomes: Record<string, number>;
  restarts: number;
}

interface ChildOutcome {
  result: Omit<RunResult, 'findings'> | undefined;
  scaling: ScalingResult[] | undefined;
  findings: Finding[];
  /** How the child ended when it did not finish: 'killed (no progress)', 'signal SIGABRT', 'exit 134'… */
  death: string | undefined;
  stderr: string;
  /** Next index the child was about to run when it died, and that input (careful mode). */
  lastIndex: number;
  lastInput: Uint8Array | undefined;
}

function runChild(o: Options, name: string, args: { start: number; inputs: number | undefined; seconds: number | undefined; careful: boolean; scaling: boolean; skip: number[] }): Promise<ChildOutcome> {
  const progressFile = join(tmpdir(), `vswitch-fuzz-${process.pid}-${name}.progress`);
  rmSync(progressFile, { force: true });
  rmSync(`${progressFile}.input`, { force: true });
  const argv = ['--child', '--target', name, '--seed', String(o.seed), '--start', String(args.start), '--progress-file', progressFile, '--artifacts', o.artifacts];
  if (args.inputs !== undefined) argv.push('--inputs', String(args.inputs));
  if (args.seconds !== undefined) argv.push('--seconds', String(args.seconds));
  if (args.careful) argv.push('--careful');
  if (args.skip.length > 0) argv.push('--skip', args.skip.join(','));
  if (o.dieAt) argv.push(o.dieAt.how === 'abort' ? '--selftest-abort-at' : '--selftest-spin-at', String(o.dieAt.index));
  if (!args.scaling) argv.push('--no-scaling');
  argv.push('--scaling-max', String(o.scalingMax), '--scaling-cap-ms', String(o.scalingCapMs));
  const proc: ChildProcess = fork(THIS_FILE, argv, { stdio: ['ignore', 'inherit', 'pipe', 'ipc'], execArgv: ['--max-old-space-size=4096', '--expose-gc'] });
  const outcome: ChildOutcome = { result: undefined, scaling: undefined, findings: [], death: undefined, stderr: '', lastIndex: args.start, lastInput: undefined };
  proc.stderr?.on('data', (d: Buffer) => (outcome.stderr = (outcome.stderr + d.toString()).slice(-8000)));
  proc.on('message', (m: ChildMessage) => {
    if (m.type === 'finding' && m.finding) outcome.findings.push(fromWire(m.finding));
    if (m.type === 'result') outcome.result = m.result;
    if (m.type === 'scaling' && m.scaling) {
      outcome.scaling = m.scaling.map((s) => ({ ...s, findings: s.findings.map(fromWire) }));
    }
  });
  const readProgress = (): number | undefined => {
    try {
      const b = readFileSync(progressFile);
      return b.length >= 8 ? b.readDoubleLE(0) : undefined;
    } catch {
      return undefined;
    }
  };
  return new Promise((done) => {
    let last = readProgress();
    let lastChange = Date.now();
    let killedForStall = false;
    const watchdog = setInterval(() => {
      const now = readProgress();
      if (now !== last) {
        last = now;
        lastChange = Date.now();
      } else if (outcome.result === undefined && Date.now() - lastChange > STALL_MS && proc.pid !== undefined) {
        killedForStall = true;
        proc.kill('SIGKILL');
      }
    }, 250);
    proc.on('exit', (code, signal) => {
      clearInterval(watchdog);
      const finished = outcome.result !== undefined && (!args.scaling || outcome.scaling !== undefined);
      if (!finished || code !== 0) {
        outcome.death = killedForStall ? `no progress for ${STALL_MS / 1000} s (killed)` : signal ? `signal ${signal}` : `exit ${code}`;
      }
      outcome.lastIndex = readProgress() ?? args.start;
      if (existsSync(`${progressFile}.input`)) outcome.lastInput = new Uint8Array(readFileSync(`${progressFile}.input`));
      rmSync(progressFile, { force: true });
      rmSync(`${progressFile}.input`, { force: true });
      done(outcome);
    });
  });
}

async function fuzzTarget(o: Options, name: string): Promise<TargetReport> {
  const report: TargetReport = { target: name, inputs: 0, seconds: 0, cpuSeconds: 0, crashes: 0, hangs: 0, slowest: { ms: 0, index: -1, size: 0 }, findings: [], scaling: [], outcomes: {}, restarts: 0 };
  const started = Date.now();
  let start = o.start;
  const end = o.inputs === undefined ? Number.POSITIVE_INFINITY : o.start + o.inputs;
  let needScaling = o.scaling;
  const skip: number[] = [];
  for (;;) {
    const left = o.seconds === undefined ? undefined : Math.max(0, o.seconds - (Date.now() - started) / 1000);
    const inputs = end === Number.POSITIVE_INFINITY ? undefined : end - start;
    const out = await runChild(o, name, { start, inputs, seconds: left, careful: false, scaling: needScaling, skip });
    report.findings.push(...out.findings);
    if (out.result) merge(report, out.result);
    if (out.scaling) {
      report.scaling = out.scaling;
      needScaling = false;
    }
    if (out.death === undefined) break;
    // The child died: inputs [lastIndex, lastIndex + progressEvery) hold the culprit. Find it carefully.
    report.restarts++;
    const from = out.result ? end : out.lastIndex; // died during scaling: nothing to replay
    let culprit: { index: number; input: Uint8Array | undefined; death: string; stderr: string } | undefined;
    if (!out.result) {
      report.inputs += Math.max(0, out.lastIndex - start); // run before the death, not reported by the dead child
      const careful = await runChild(o, name, { start: from, inputs: 256, seconds: undefined, careful: true, scaling: false, skip });
      report.findings.push(...careful.findings);
      culprit = careful.death ? { index: careful.lastIndex, input: careful.lastInput, death: careful.death, stderr: careful.stderr } : undefined;
      if (careful.result) merge(report, careful.result);
    }
    const death = culprit ?? { index: from, input: undefined, death: out.death, stderr: out.stderr };
    const isHang = death.death.startsWith('no progress');
    const finding: Finding = {
      kind: isHang ? 'hang' : 'crash',
      target: name,
      seed: o.seed,
      index: death.index,
      signature: isHang ? `hang ${name} (process stalled)` : `process death: ${death.death}`,
      detail: `${death.death}${culprit ? '' : ' (not reproduced input by input: state-dependent, or during the super-linearity check)'}`,
      stack: death.stderr.slice(-4000),
      input: death.input ?? new Uint8Array(0),
      size: death.input?.length ?? 0,
    };
    report.findings.push(finding);
    if (isHang) report.hangs++;
    else report.crashes++;
    if (report.restarts >= MAX_RESTARTS || out.result) break; // died in the super-linearity check: not retried
    skip.push(culprit ? culprit.index : from);
    start = (culprit ? culprit.index : from) + 1;
    if (start >= end && !needScaling) break;
    if (o.seconds !== undefined && (Date.now() - started) / 1000 >= o.seconds && !needScaling) break;
  }
  for (const s of report.scaling) {
    for (const f of s.findings) {
      report.findings.push(f);
      if (f.kind === 'hang') report.hangs++;
      else report.crashes++;
    }
  }
  return report;
}

function merge(report: TargetReport, r: Omit<RunResult, 'findings'>): void {
  report.inputs += r.inputs;
  report.seconds += r.seconds;
  report.cpuSeconds += r.cpuSeconds;
  report.crashes += r.crashes;
  report.hangs += r.hangs;
  if (r.slowest.ms > report.slowest.ms) report.slowest = r.slowest;
  for (const [k, v] of Object.entries(r.outcomes)) report.outcomes[k] = (report.outcomes[k] ?? 0) + v;
}

function saveFinding(o: Options, f: Finding): string {
  mkdirSync(o.artifacts, { recursive: true });
  const base = join(o.artifacts, `${f.target}-seed${f.seed}-${f.index < 0 ? `scaling-${f.signature.replace(/[^a-z0-9]+/gi, '-').slice(0, 40)}` : f.index}-${f.kind}`);
  writeFileSync(`${base}.bin`, f.input);
  const replay = f.index >= 0 ? `scripts/fuzz --target ${f.target} --seed ${f.seed} --index ${f.index}` : '(a super-linearity input: time it with --replay)';
  writeFileSync(
    `${base}.txt`,
    [`target:    ${f.target}`, `kind:      ${f.kind}`, `seed:      ${f.seed}`, `index:     ${f.index}`, `size:      ${f.size} bytes`, `signature: ${f.signature}`, `detail:    ${f.detail}`, `replay:    scripts/fuzz --target ${f.target} --replay ${base}.bin`, `           ${replay}`, `input hex: ${Buffer.from(f.input.subarray(0, 512)).toString('hex')}${f.input.length > 512 ? '…' : ''}`, '', f.stack, ''].join('\n'),
  );
  return `${base}.bin`;
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

async function parent(o: Options): Promise<number> {
  const reports: TargetReport[] = [];
  for (const name of o.targets) {
    process.stderr.write(`fuzz: ${name} …\n`);
    reports.push(await fuzzTarget(o, name));
  }
  const header = ['target', 'inputs', 'seconds', 'inputs/s', 'crashes', 'hangs', 'slowest ms', '(bytes)'];
  const widths = [16, 10, 9, 10, 8, 6, 11, 9];
  const lines: string[] = [];
  lines.push(header.map((h, i) => pad(h, widths[i]!, i > 0)).join(' '));
  let failing = 0;
  const known: string[] = [];
  const fresh: string[] = [];
  for (const r of reports) {
    const rate = r.seconds > 0 ? r.inputs / r.seconds : 0;
    lines.push(
      [r.target, String(r.inputs), r.seconds.toFixed(1), rate.toFixed(0), String(r.crashes), String(r.hangs), r.slowest.ms.toFixed(1), String(r.slowest.size)]
        .map((c, i) => pad(c, widths[i]!, i > 0))
        .join(' '),
    );
    const seen = new Set<string>();
    for (const f of r.findings) {
      const file = saveFinding(o, f);
      if (seen.has(f.signature)) continue;
      seen.add(f.signature);
      const issue = knownIssueOf(f.target, f.signature);
      const line = `  ${f.target} ${f.kind} #${f.index}: ${f.signature}\n      ${f.detail.split('\n')[0]}\n      saved: ${file}`;
      if (issue) known.push(`${line}\n      known (${issue.where}): ${issue.note}`);
      else fresh.push(line);
    }
    if (r.findings.some((f) => !knownIssueOf(f.target, f.signature)) || ((r.crashes > 0 || r.hangs > 0) && r.findings.length === 0)) failing++;
  }
  const scalingLines: string[] = [];
  for (const r of reports) {
    for (const s of r.scaling) {
      const pts = s.points.map((p) => `${p.bytes >= 1_000_000 ? `${(p.bytes / 1_048_576).toFixed(1)}M` : `${Math.round(p.bytes / 1024)}K`}:${p.ms.toFixed(1)}`).join(' ');
      scalingLines.push(`  ${pad(r.target, 15)} ${pad(s.family, 32)} k=${s.exponent === undefined ? ' -  ' : s.exponent.toFixed(2)} ${s.superlinear ? 'SUPER-LINEAR' : 'ok          '} ${pts} ms`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  if (scalingLines.length > 0) process.stdout.write(`\nsuper-linearity (time ∝ size^k between the two largest sizes; ms at each size):\n${scalingLines.join('\n')}\n`);
  if (fresh.length > 0) process.stdout.write(`\nfindings:\n${fresh.join('\n')}\n`);
  if (known.length > 0) process.stdout.write(`\nknown issues (reported, not failing this run):\n${known.join('\n')}\n`);
  process.stdout.write(`\nseed ${o.seed}; ${failing === 0 ? 'no new crash or hang' : `${failing} target(s) with a new crash or hang`}\n`);
  if (o.json) {
    writeFileSync(o.json, JSON.stringify(reports.map((r) => ({ ...r, findings: r.findings.map((f) => ({ ...f, input: Buffer.from(f.input).toString('base64') })) })), null, 2));
  }
  return failing === 0 ? 0 : 1;
}

async function replay(o: Options): Promise<number> {
  if (o.targets.length !== 1) usage('--replay and --index need exactly one --target');
  const target = makeTarget(o.targets[0]!);
  if (!o.replay) {
    // Input #index: the stateful target is replayed from its last reset boundary first (engine.ts).
    const index = o.index!;
    let bytes: Uint8Array = new Uint8Array(0);
    const result = await runTarget(target, { seed: o.seed, startIndex: index, inputs: 1, careful: true, hangMs: Number.POSITIVE_INFINITY, onProgress: (_next, input) => input && (bytes = input) });
    process.stdout.write(`input #${index} (${bytes.length} bytes): ${Buffer.from(bytes.subarray(0, 256)).toString('hex')}${bytes.length > 256 ? '…' : ''}\n`);
    const finding = result.findings[0];
    if (finding) {
      process.stdout.write(`CRASH ${finding.detail}\n${finding.stack}\n`);
      return 1;
    }
    process.stdout.write(`outcome: ${Object.keys(result.outcomes).join(', ')} (${(result.seconds * 1000).toFixed(1)} ms)\n`);
    return 0;
  }
  const bytes = new Uint8Array(readFileSync(o.replay));
  const r = await replayInput(target, bytes);
  if (r.error !== undefined) {
    const { detail, stack } = describeError(r.error);
    process.stdout.write(`CRASH after ${r.ms.toFixed(1)} ms: ${detail}\n${stack}\n`);
    return 1;
  }
  process.stdout.write(`outcome: ${r.label} (${r.ms.toFixed(1)} ms)\n`);
  return 0;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (o.list) {
    for (const name of TARGET_NAMES) process.stdout.write(`${pad(name, 16)} ${makeTarget(name).summary}\n`);
    return;
  }
  if (o.child) return child(o);
  if (o.replay || o.index !== undefined) {
    process.exitCode = await replay(o);
    return;
  }
  process.exitCode = await parent(o);
}

main().catch((error: unknown) => {
  process.stderr.write(`fuzz: ${describeError(error).stack}\n`);
  process.exit(2);
});

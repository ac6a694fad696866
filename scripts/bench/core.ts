/**
 * Benchmark of the pure switch core: SwitchCore.forward with no I/O, and
 * RuleTable.lookup alone. Median of 5 timed runs after one warm-up run.
 *
 *   npx tsc -p tsconfig.build.json && node dist/scripts/bench/core.js [--json] [--quick]
 *
 * The wall clock and the PRNG here are benchmark scaffolding, not core code.
 */
import { performance } from 'node:perf_hooks';
import { writeMac, type Mac } from '../../switch/frame/mac.js';
import { SwitchCore } from '../../switch/pipeline/forward.js';
import { RuleTable } from '../../switch/rules/rule-table.js';
import type { RuleSpec } from '../../switch/rules/rule.js';
import { seededRandom } from '../lib/seeded-random.js';

interface CaseResult {
  name: string;
  unit: 'frames/s' | 'ns/op';
  median: number;
  runs: number[];
}

const RUNS = 5;
const quick = process.argv.includes('--quick');
const FRAMES_PER_RUN = quick ? 200_000 : 1_000_000;
const LOOKUPS_PER_RUN = quick ? 200_000 : 1_000_000;

const vmMac = (n: number): Mac => 0x02_00_c6_13_00_00 + n;

function frameBytes(src: Mac, dst: Mac, payloadBytes = 46): Uint8Array {
  const frame = new Uint8Array(14 + payloadBytes);
  writeMac(frame, 0, dst);
  writeMac(frame, 6, src);
  frame[12] = 0x08;
  return frame;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Times `frames` (cycled) through core.forward; returns frames/s per run. */
function benchForward(name: string, core: SwitchCore, frames: Uint8Array[], inPorts: number[]): CaseResult {
  let sink = 0;
  const run = (count: number, startMs: number): number => {
    const t0 = performance.now();
    const n = frames.length;
    for (let i = 0; i < count; i++) {
      const decision = core.forward(frames[i % n]!, inPorts[i % n]!, startMs + (i >>> 16));
      sink += decision.kind.length;
    }
    return performance.now() - t0;
  };
  run(FRAMES_PER_RUN / 4, 0);
  const runs: number[] = [];
  for (let r = 0; r < RUNS; r++) runs.push(FRAMES_PER_RUN / (run(FRAMES_PER_RUN, 100 * (r + 1)) / 1000));
  if (sink === 42) console.log('');
  return { name, unit: 'frames/s', median: median(runs), runs };
}

function twoPortsLearned(): CaseResult {
  const core = new SwitchCore();
  const a = core.addPort({ name: 'a', floods: true });
  const b = core.addPort({ name: 'b', floods: true });
  const frames = [frameBytes(vmMac(1), vmMac(2)), frameBytes(vmMac(2), vmMac(1))];
  core.forward(frames[0]!, a, 0);
  core.forward(frames[1]!, b, 0);
  return benchForward('forward: 2 ports, learned unicast', core, frames, [a, b]);
}

function manyPortsAndRules(): CaseResult {
  const random = seededRandom(7);
  const core = new SwitchCore();
  const ports: number[] = [];
  for (let p = 0; p < 64; p++) ports.push(core.addPort({ name: `p${p}`, floods: p < 4 }));
  const macCount = 512; // 8 VMs per port
  const home = (m: number) => ports[m % 64]!;
  insertMixedRules(core.rules, 1000, macCount, random, (i) => `p${i % 64}`, false);
  const frames: Uint8Array[] = [];
  const inPorts: number[] = [];
  // Learn every VM on its home port first.
  for (let m = 0; m < macCount; m++) core.forward(frameBytes(vmMac(m), vmMac((m + 1) % macCount)), home(m), 0);
  for (let i = 0; i < 4096; i++) {
    const src = Math.floor(random() * macCount);
    const dst = Math.floor(random() * macCount);
    frames.push(frameBytes(vmMac(src), vmMac(dst === src ? (dst + 1) % macCount : dst)));
    inPorts.push(home(src));
  }
  return benchForward('forward: 64 ports, 1000 rules mixed kinds', core, frames, inPorts);
}

function flood(): CaseResult {
  const core = new SwitchCore();
  const ports: number[] = [];
  for (let p = 0; p < 64; p++) ports.push(core.addPort({ name: `p${p}`, floods: true }));
  const frames = ports.map((_, p) => frameBytes(vmMac(p), 0xffff_ffff_ffff));
  return benchForward('forward: flood broadcast, 64 ports', core, frames, ports);
}

/**
 * Mixed kinds roughly as an adapted overlay has them: 50 % (src, dst) fast-path rules,
 * 15 % (any, dst), 15 % (src, any), 20 % (src, none) per-source defaults, plus one (any, none).
 */
function insertMixedRules(
  table: RuleTable,
  count: number,
  macCount: number,
  random: () => number,
  target: (i: number) => string,
  withCatchAll: boolean,
): void {
  const pick = () => vmMac(Math.floor(random() * macCount));
  table.insert({ src: 'any', dst: 'none', target: target(0) });
  // A catch-all (any, any) makes every lookup probe all four non-default kinds, but in the
  // pipeline it would also override learning for every frame, so forward() runs without it.
  if (withCatchAll) table.insert({ src: 'any', dst: 'any', target: target(1), priority: -1 });
  for (let i = 2; table.size < count; i++) {
    const roll = random();
    const spec: RuleSpec =
      roll < 0.5
        ? { src: pick(), dst: pick(), target: target(i) }
        : roll < 0.65
          ? { src: 'any', dst: pick(), target: target(i) }
          : roll < 0.8
            ? { src: pick(), dst: 'any', target: target(i) }
            : { src: pick(), dst: 'none', target: target(i) };
    if (table.find(spec.src, spec.dst, 0) === undefined) table.insert(spec);
  }
}

function lookupCase(ruleCount: number): CaseResult {
  const random = seededRandom(ruleCount);
  const macCount = Math.max(64, Math.ceil(Math.sqrt(ruleCount) * 4));
  const table = new RuleTable();
  insertMixedRules(table, ruleCount, macCount, random, (i) => `t${i % 16}`, true);
  const srcs: Mac[] = [];
  const dsts: Mac[] = [];
  for (let i = 0; i < 4096; i++) {
    srcs.push(vmMac(Math.floor(random() * macCount)));
    dsts.push(vmMac(Math.floor(random() * macCount)));
  }
  let hits = 0;
  const run = (count: number): number => {
    const t0 = performance.now();
    for (let i = 0; i < count; i++) if (table.lookup(srcs[i & 4095]!, dsts[i & 4095]!) !== undefined) hits++;
    return performance.now() - t0;
  };
  run(LOOKUPS_PER_RUN / 4);
  const runs: number[] = [];
  for (let r = 0; r < RUNS; r++) runs.push((run(LOOKUPS_PER_RUN) * 1e6) / LOOKUPS_PER_RUN);
  if (hits < 0) console.log('');
  return { name: `RuleTable.lookup: ${ruleCount} rules mixed kinds`, unit: 'ns/op', median: median(runs), runs };
}

const results: CaseResult[] = [
  twoPortsLearned(),
  manyPortsAndRules(),
  flood(),
  lookupCase(10),
  lookupCase(1000),
  lookupCase(100_000),
];

if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ node: process.version, runs: RUNS, results }, null, 2));
} else {
  const width = Math.max(...results.map((r) => r.name.length));
  const heading = `${'case'.padEnd(width)}  ${'median'.padStart(12)}  unit`;
  console.log(`${heading}      (node ${process.version}, median of ${RUNS})`);
  for (const r of results) {
    const value = r.unit === 'ns/op' ? r.median.toFixed(1) : Math.round(r.median).toLocaleString('en-US');
    console.log(`${r.name.padEnd(width)}  ${value.padStart(12)}  ${r.unit}`);
  }
}

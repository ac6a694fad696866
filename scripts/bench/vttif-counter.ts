/**
 * Benchmark of VTTIF's data-path cost: ns per TrafficCounter.count() call, next to the ~5 µs per frame the data
 * path spends (the paper: VTTIF costs throughput "on the order of 1%"). Median of 5 timed runs after a warm-up.
 *
 *   npx tsc -p tsconfig.build.json && node dist/scripts/bench/vttif-counter.js [--json] [--quick]
 *
 * Cases: a hot pair (one VM streaming to one peer), 16 VMs all-to-all (240 pairs, frames round-robin), and a
 * broadcast destination (skipped). A drain every 1000 frames stands in for the 20 Hz update.
 */
import { performance } from 'node:perf_hooks';
import { BROADCAST_MAC, type Mac } from '../../switch/frame/mac.js';
import { TrafficCounter } from '../../plugins/vttif/traffic-counter.js';

interface CaseResult {
  name: string;
  unit: 'ns/op';
  median: number;
  runs: number[];
}

const RUNS = 5;
const quick = process.argv.includes('--quick');
const CALLS = quick ? 1_000_000 : 5_000_000;
const DATA_PATH_NS_PER_FRAME = 5000;

const vmMac = (n: number): Mac => 0x02_00_c6_13_00_00 + n;

function measure(name: string, srcs: Mac[], dsts: Mac[]): CaseResult {
  const counter = new TrafficCounter('bench');
  const pairs = srcs.length;
  const once = (): number => {
    const start = performance.now();
    for (let i = 0; i < CALLS; i++) {
      const p = i % pairs;
      counter.count(srcs[p]!, dsts[p]!, 1400);
      if (i % 1000 === 999) counter.drain(i);
    }
    return ((performance.now() - start) * 1e6) / CALLS;
  };
  once();
  const runs = Array.from({ length: RUNS }, once);
  const sorted = [...runs].sort((a, b) => a - b);
  return { name, unit: 'ns/op', median: sorted[Math.floor(RUNS / 2)]!, runs };
}

/** The loop alone (index arithmetic and array reads), to subtract. */
function baseline(srcs: Mac[], dsts: Mac[]): number {
  let sink = 0;
  const start = performance.now();
  for (let i = 0; i < CALLS; i++) {
    const p = i % srcs.length;
    sink += srcs[p]! - dsts[p]!;
  }
  const ns = ((performance.now() - start) * 1e6) / CALLS;
  return sink === 42 ? -1 : ns;
}

const allSrcs: Mac[] = [];
const allDsts: Mac[] = [];
for (let a = 0; a < 16; a++) {
  for (let b = 0; b < 16; b++) {
    if (a === b) continue;
    allSrcs.push(vmMac(a));
    allDsts.push(vmMac(b));
  }
}

const results = [
  measure('count 1 hot pair', [vmMac(1)], [vmMac(2)]),
  measure('count 16 VMs all-to-all (240 pairs)', allSrcs, allDsts),
  measure('count broadcast (skipped)', [vmMac(1)], [BROADCAST_MAC]),
];
const loopNs = baseline(allSrcs, allDsts);

if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ bench: 'vttif-counter', calls: CALLS, loopNs, results }, null, 2));
} else {
  for (const r of results) {
    const share = ((r.median / DATA_PATH_NS_PER_FRAME) * 100).toFixed(2);
    console.log(`${r.name.padEnd(40)} ${r.median.toFixed(1).padStart(7)} ns/op  (${share} % of ${DATA_PATH_NS_PER_FRAME} ns/frame)`);
  }
  console.log(`${'loop overhead (included above)'.padEnd(40)} ${loopNs.toFixed(1).padStart(7)} ns/op`);
}

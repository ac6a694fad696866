/**
 * The numbers and plots behind scripts/bench/vttif (run that; it calls this):
 *
 *   node dist/scripts/bench/vttif.js fig6 --out DIR
 *     Figure 6: the reported topology-change rate against the rate at which an application switches between two
 *     topologies (8 VMs, ring ⇄ star). The real Vttif (aggregation, inference, damper) on manual time, fed by one
 *     TrafficCounter per host exactly as the daemons feed it (each VM on its own host, so every frame is seen by two
 *     hosts), 120 simulated seconds per point. Two settings: the paper's best case (20 Hz, 1 s smoothing) and the
 *     lab's fast one (20 Hz, 500 ms). The curve must rise with the switching rate only while phases outlast the
 *     settle time, then flatten and fall — not follow the y = x line.
 *   node dist/scripts/bench/vttif.js fig7 --matrices DIR --out DIR
 *     Figure 7: for each pattern, the Proxy's global matrix captured on the lab mid-run (DIR/matrix-P.json, the
 *     body of GET /v1/vttif/matrix), inferred at detection thresholds 0.05 … 0.95: is the edge set the pattern's?
 *   node dist/scripts/bench/vttif.js overhead --samples FILE --out DIR
 *     Throughput with VTTIF counting on vs off: FILE has lines "on|off BITS_PER_SECOND" (iperf3 runs, interleaved).
 * Each writes a .tsv table and an .svg plot into DIR and prints the table.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseMac, type Mac } from '../../switch/frame/mac.js';
import { infer } from '../../plugins/vttif/infer.js';
import type { GlobalMatrix } from '../../plugins/vttif/matrix.js';
import { TrafficCounter } from '../../plugins/vttif/traffic-counter.js';
import { createVttif } from '../../plugins/vttif/vttif.js';
import { PATTERNS, patternEdges, type Pattern } from '../lib/patterns-topology.js';
import { lineChart } from './vttif-svg.js';

const VMS = 8;
const vm = (rank: number): Mac => 0x02_00_c6_13_00_01 + (rank + 1) * 0x100;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { out: { type: 'string', default: '.' }, matrices: { type: 'string' }, samples: { type: 'string' } },
});

function write(name: string, text: string): void {
  writeFileSync(join(values.out!, name), text);
}

function fig6(): void {
  const halfPeriodsMs = [100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10_000, 20_000];
  const settings = [
    { label: '20 Hz, 1000 ms smoothing', updateRateHz: 20, smoothingMs: 1000 },
    { label: '20 Hz, 500 ms smoothing', updateRateHz: 20, smoothingMs: 500 },
  ];
  const durationMs = 120_000;
  const ring = patternEdges('ring', VMS);
  const star = patternEdges('star', VMS);
  const rows = ['switch_rate_per_s\thalf_period_ms\t' + settings.map((s) => `reported_per_s (${s.label})`).join('\t')];
  const series = settings.map((s) => ({ name: s.label, points: [] as [number, number][] }));
  for (const halfMs of halfPeriodsMs) {
    const switchRate = 1000 / halfMs;
    const cells: string[] = [];
    settings.forEach((s, i) => {
      const vttif = createVttif({ updateRateHz: s.updateRateHz, smoothingMs: s.smoothingMs, threshold: 0.1 });
      const counters = Array.from({ length: VMS }, (_, r) => new TrafficCounter(`h${r + 1}`));
      const stepMs = 1000 / s.updateRateHz;
      let changes = 0;
      for (let t = 0; t <= durationMs; t += stepMs) {
        const edges = Math.floor(t / halfMs) % 2 === 0 ? ring : star;
        for (const [x, y] of edges) {
          for (const [src, dst] of [[x, y], [y, x]] as const) {
            for (let f = 0; f < 10; f++) {
              counters[src]!.count(vm(src), vm(dst), 1500);
              counters[dst]!.count(vm(src), vm(dst), 1500);
            }
          }
        }
        for (const c of counters) vttif.ingest(c.drain(t), t);
        if (vttif.tick(t)) changes++;
      }
      const rate = changes / (durationMs / 1000);
      series[i]!.points.push([switchRate, rate]);
      cells.push(rate.toFixed(3));
    });
    rows.push(`${switchRate.toFixed(3)}\t${halfMs}\t${cells.join('\t')}`);
  }
  const follow = { name: 'y = x (following every switch)', dashed: true, points: halfPeriodsMs.map((h) => [1000 / h, Math.min(1000 / h, 2)] as [number, number]) };
  write('fig6.tsv', rows.join('\n') + '\n');
  write('fig6.svg', lineChart([...series, follow], { title: 'Figure 6: reported change rate vs. topology switching rate', xLabel: 'application topology switches per second (log)', yLabel: 'reported changes per second', isLogX: true, yMax: 2 }));
  console.log(rows.join('\n'));
}

interface MatrixJson {
  windowMs: number;
  pairs: { a: string; b: string; bytes: number; frames: number }[];
}

function fig7(): void {
  const thresholds = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];
  const rows = ['threshold\t' + PATTERNS.join('\t')];
  const correct = new Map<Pattern, number[]>();
  const cells = new Map<number, string[]>(thresholds.map((t) => [t, []]));
  for (const pattern of PATTERNS) {
    const json = JSON.parse(readFileSync(join(values.matrices!, `matrix-${pattern}.json`), 'utf8')) as MatrixJson;
    const matrix: GlobalMatrix = {
      windowMs: json.windowMs,
      pairs: json.pairs.map((p) => ({ a: parseMac(p.a)!, b: parseMac(p.b)!, bytes: p.bytes, frames: p.frames })),
    };
    const expected = new Set(patternEdges(pattern, VMS).map(([x, y]) => `${vm(x)}-${vm(y)}`));
    for (const threshold of thresholds) {
      const found = infer(matrix, threshold).edges.map((e) => `${e.a}-${e.b}`);
      const isSame = found.length === expected.size && found.every((k) => expected.has(k));
      correct.set(pattern, [...(correct.get(pattern) ?? []), isSame ? 1 : 0]);
      cells.get(threshold)!.push(`${isSame ? 'yes' : 'NO'} (${found.length}/${expected.size})`);
    }
  }
  for (const t of thresholds) rows.push(`${t}\t${cells.get(t)!.join('\t')}`);
  // Plot: edges found as a fraction of the pattern's (1 = exactly the pattern) per threshold and pattern.
  const series = PATTERNS.map((pattern, i) => ({
    name: pattern,
    points: thresholds.map((t, j) => [t, correct.get(pattern)![j]! + i * 0.02] as [number, number]),
  }));
  write('fig7.tsv', rows.join('\n') + '\n');
  write('fig7.svg', lineChart(series, { title: 'Figure 7: topology inferred correctly (1) vs. detection threshold', xLabel: 'detection threshold', yLabel: 'edge set = pattern (1 yes, 0 no; offset per pattern)', yMax: 1.2 }));
  console.log(rows.join('\n'));
}

function overhead(): void {
  const samples = readFileSync(values.samples!, 'utf8').trim().split('\n').map((l) => l.trim().split(/\s+/));
  const of = (mode: string): number[] => samples.filter((s) => s[0] === mode).map((s) => Number(s[1]) / 1e6);
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
  const on = of('on');
  const off = of('off');
  const cost = (1 - median(on) / median(off)) * 100;
  const rows = [
    'mode\tmedian_mbit_s\truns_mbit_s',
    `off\t${median(off).toFixed(1)}\t${off.map((x) => x.toFixed(1)).join(' ')}`,
    `on\t${median(on).toFixed(1)}\t${on.map((x) => x.toFixed(1)).join(' ')}`,
    `cost_percent\t${cost.toFixed(2)}\t`,
  ];
  write('overhead.tsv', rows.join('\n') + '\n');
  write('overhead.svg', lineChart([
    { name: 'VTTIF off', points: off.map((x, i) => [i + 1, x] as [number, number]) },
    { name: 'VTTIF on', points: on.map((x, i) => [i + 1, x] as [number, number]) },
  ], { title: `Throughput VM→VM, VTTIF on vs off (cost ${cost.toFixed(1)} %)`, xLabel: 'run (interleaved)', yLabel: 'Mbit/s (iperf3 TCP)' }));
  console.log(rows.join('\n'));
}

switch (positionals[0]) {
  case 'fig6':
    fig6();
    break;
  case 'fig7':
    fig7();
    break;
  case 'overhead':
    overhead();
    break;
  default:
    console.error('usage: vttif.js fig6|fig7|overhead --out DIR [--matrices DIR] [--samples FILE]');
    process.exit(2);
}

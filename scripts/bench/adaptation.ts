/**
 * bench/adaptation: the Virtuoso paper's adaptation experiment (§4, Figures 10–11) on a running lab of 8 hosts ×
 * 1 VM (scripts/bench/adaptation starts it). For each pattern (all-to-all, ring, bus):
 *   - star: the fast-path plugin disabled, VTTIF's topology empty, `scripts/patterns` timed;
 *   - adapted: the plugin enabled at the start of the run, so the run pays for inference and adaptation
 *     (the paper's "with adaptation"); time to infer = VTTIF's first report with edges − the run's start (wall
 *     clock; includes ~1 s of worker start-up), time to adapt = the plugin's report → all links up with rules.
 * Then Figure 11: all-to-all with at most k fast links (k = 0, 7, 14, 21, 28, heaviest first, the plugin's
 * maxLinks), measured after a warm-up run once the k links are up.
 * Prints a table and JSON; writes adaptation.svg and adaptation.json into --out (default test-artifacts/).
 *   node dist/scripts/bench/adaptation.js [--iterations N] [--out DIR]
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderAdaptationSvg, type AdaptationFigures } from './adaptation-svg.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const NS = process.env['VSWITCH_LAB_NS'] ?? 'vs-';
const argOf = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return (i >= 0 ? process.argv[i + 1] : undefined) ?? fallback;
};
const ITERATIONS = Number(argOf('iterations', '40'));
const OUT = argOf('out', join(ROOT, 'test-artifacts'));

function api<T>(method: string, path: string, body?: unknown): T {
  const args = ['netns', 'exec', `${NS}proxy`, 'curl', '-sf', '-X', method, `http://127.0.0.1:7000${path}`];
  if (body !== undefined) args.push('-H', 'content-type: application/json', '-d', JSON.stringify(body));
  return JSON.parse(execFileSync('ip', args, { encoding: 'utf8' })) as T;
}

interface Status {
  links: { state: string }[];
  timings: { lastTimeToAdaptMs: number | null; lastAdaptedAtMs: number | null };
}
interface AppTopology {
  edges: unknown[];
  detectedAt: string | null;
}

const upLinks = (): number => api<Status>('GET', '/v1/plugins/fastpath/status').links.filter((l) => l.state === 'up').length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`bench: ${what} did not happen in ${timeoutMs} ms`);
    await sleep(250);
  }
}

/** Runs scripts/patterns; resolves with the running time rank 0 measured (s) and, while it runs, calls `during`. */
async function patterns(pattern: string, during?: () => void): Promise<number> {
  const child = spawn(join(ROOT, 'scripts/patterns'), ['--pattern', pattern, '--iterations', String(ITERATIONS), '--timeout', '600'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const poll = during ? setInterval(during, 250) : undefined;
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? -1)));
  clearInterval(poll);
  if (code !== 0) throw new Error(`bench: patterns ${pattern} failed: ${err}`);
  return Number(out.trim().split('\n').at(-1));
}

async function toStar(): Promise<void> {
  api('PUT', '/v1/plugins/fastpath/settings', { enabled: false, maxLinks: 1000, removeAfterMs: 10_000 });
  await waitFor('VTTIF forgetting the last pattern', () => api<AppTopology>('GET', '/v1/vttif/topology').edges.length === 0, 30_000);
}

async function main(): Promise<void> {
  const figures: AdaptationFigures = { iterations: ITERATIONS, patterns: [], figure11: [] };
  for (const pattern of ['all-to-all', 'ring', 'bus']) {
    await toStar();
    const starS = await patterns(pattern);
    await toStar();
    const startWallMs = Date.now();
    api('PUT', '/v1/plugins/fastpath/settings', { enabled: true });
    let inferredAtMs: number | undefined;
    const adaptedS = await patterns(pattern, () => {
      const t = api<AppTopology>('GET', '/v1/vttif/topology');
      if (inferredAtMs === undefined && t.edges.length > 0 && t.detectedAt) inferredAtMs = Date.parse(t.detectedAt);
    });
    const status = api<Status>('GET', '/v1/plugins/fastpath/status');
    const row = {
      pattern,
      starS,
      adaptedS,
      speedup: starS / adaptedS,
      timeToInferMs: inferredAtMs === undefined ? null : inferredAtMs - startWallMs,
      timeToAdaptMs: status.timings.lastTimeToAdaptMs,
      fastLinks: status.links.filter((l) => l.state === 'up').length,
    };
    figures.patterns.push(row);
    console.log(JSON.stringify(row));
  }
  for (const k of [0, 7, 14, 21, 28]) {
    await toStar();
    api('PUT', '/v1/plugins/fastpath/settings', { enabled: true, maxLinks: k, removeAfterMs: 60_000 });
    // Warm-up runs until VTTIF has inferred and the plugin has the top k links up (they outlive the run: hysteresis).
    for (let warm = 0; k > 0 && upLinks() < k; warm++) {
      if (warm === 3) throw new Error(`bench: ${k} fast links not up after 3 warm-up runs`);
      await patterns('all-to-all');
    }
    const seconds = await patterns('all-to-all');
    figures.figure11.push({ links: k, seconds });
    console.log(JSON.stringify({ figure11: { links: k, seconds } }));
  }
  api('PUT', '/v1/plugins/fastpath/settings', { enabled: false, maxLinks: 1000 });

  console.log(`\n${'pattern'.padEnd(12)} ${'star s'.padStart(8)} ${'adapted s'.padStart(10)} ${'speed-up'.padStart(9)} ${'infer ms'.padStart(9)} ${'adapt ms'.padStart(9)} links`);
  for (const r of figures.patterns) {
    console.log(
      `${r.pattern.padEnd(12)} ${r.starS.toFixed(2).padStart(8)} ${r.adaptedS.toFixed(2).padStart(10)} ${`${r.speedup.toFixed(2)}x`.padStart(9)} ` +
        `${String(r.timeToInferMs ?? '-').padStart(9)} ${String(r.timeToAdaptMs === null ? '-' : Math.round(r.timeToAdaptMs)).padStart(9)} ${r.fastLinks}`,
    );
  }
  console.log(`\nFigure 11 (all-to-all, ${ITERATIONS} iterations): ${figures.figure11.map((f) => `${f.links} links ${f.seconds.toFixed(2)} s`).join(', ')}`);
  console.log('paper: all-to-all on 8 VMs 1700 s on the star → 700 s with adaptation (2.4x)');
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, 'adaptation.json'), `${JSON.stringify(figures, null, 2)}\n`);
  writeFileSync(join(OUT, 'adaptation.svg'), renderAdaptationSvg(figures));
  console.log(`wrote ${join(OUT, 'adaptation.svg')} and adaptation.json`);
}

main().catch((err: unknown) => {
  console.error((err as Error).message);
  process.exitCode = 1;
});

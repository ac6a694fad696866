/**
 * What /metrics through prom-client costs, beside the baseline it replaced (the text written by hand,
 * scripts/bench/lib/hand-written-metrics.ts): the time of one scrape, and the resident memory of a process that
 * serves scrapes.
 *
 *   npx tsc -p tsconfig.build.json && node dist/scripts/bench/metrics.js [--json] [--quick] [--daemon DIST]...
 *
 * Daemons: a host (1 link, 2 ports, 2 rules) and a Proxy of 64 hosts (64 links and link ports with drops by
 * reason, 192 rules, 3 plugins, 64 hosts): ~20 and ~1500 samples. Time: median of 5 runs of N scrapes each,
 * after a warm-up. Memory: each renderer in its own child process (node --expose-gc), RSS after a GC once it has
 * served 500 scrapes of the Proxy, beside a child that loaded neither.
 * `--daemon DIST` (repeatable) also runs a real daemon — `node DIST/api/cli/main.js up`, an empty Proxy with its
 * links on 127.0.0.1 and its API on a unix socket — and prints its RSS (VmRSS) before and after 500 scrapes of
 * GET /metrics and the scrape's median time over HTTP: with DIST the build of an earlier commit (in a directory of
 * its own), that is the daemon before and after a change.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { MetricsSnapshot } from '../../api/http/metrics.js';
import type { Status } from '../../api/wire/schemas.js';

// Both renderers are loaded with dynamic imports: a memory child must load only its own (or none).
const handWritten = () => import('./lib/hand-written-metrics.js');
const promClient = () => import('../../api/http/metrics.js');

const RUNS = 5;
const quick = process.argv.includes('--quick');
const asJson = process.argv.includes('--json');

function snapshotOf(hosts: number, rulesPerHost: number, role: 'host' | 'proxy'): MetricsSnapshot {
  const names = role === 'proxy' ? Array.from({ length: hosts }, (_, i) => `h${i + 1}`) : ['proxy'];
  const status: Status = {
    name: role === 'proxy' ? 'proxy' : 'h1',
    role,
    version: '0.1.0',
    uptimeS: 86_400,
    ports: [
      ...(role === 'host' ? [{ name: 'tap-h1v1', kind: 'tap' as const, state: 'up' as const, rxFrames: 1e9, rxBytes: 1e12, txFrames: 1e9, txBytes: 1e12, drops: { runt: 3 }, owner: 'config' }] : []),
      ...names.map((n, i) => ({ name: n, kind: 'link' as const, state: 'up' as const, rxFrames: i * 1e6, rxBytes: i * 1e9, txFrames: i * 1e6, txBytes: i * 1e9, drops: {}, owner: 'config' })),
    ],
    links: names.map((n, i) => ({
      name: n,
      publicKey: 'k',
      state: 'up' as const,
      mode: 'auto' as const,
      transport: 'udp' as const,
      endpoint: `198.18.0.${i + 1}:51820`,
      lastHandshakeAt: '2026-12-01T10:00:00.000Z',
      rxBytes: i * 1e9,
      txBytes: i * 1e9,
      rxPackets: i * 1e6,
      txPackets: i * 1e6,
      transportSwitches: i % 3,
      drops: { 'bad-packet-auth': i, 'replayed-counter': 2 * i, 'no-keypair': 1 },
    })),
    macTable: { entries: 4 * hosts, learned: 1e4, expired: 1e3, evicted: 0, moved: 12 },
    refused: { underlay: { 'bad-mac1': 10, 'unknown-receiver': 3 }, control: { 'report-invalid': 1 } },
    offload: { enabled: true, txHits: 1e9, txMisses: 1e4, txPunts: 10, rxHits: 1e9, rxPunts: 10, installs: 100, flushes: 20, flows: 64 },
    ...(role === 'host' ? { star: { proxy: 'proxy', alive: true, silentS: 0.4, reconnects: 1 } } : {}),
  };
  const rules = names.flatMap((n, i) =>
    Array.from({ length: rulesPerHost }, (_, j) => ({ id: i * rulesPerHost + j, src: 'any', dst: `02:00:c6:13:${(i % 256).toString(16).padStart(2, '0')}:0${j}`, target: n, priority: 0, owner: 'star', hitFrames: 1e6, hitBytes: 1e9 })),
  );
  const plugins = role === 'proxy' ? ['vttif', 'fastpath', 'pin'].map((name) => ({ name, kind: 'builtin', state: 'running', counters: { delivered: 1e5, dropped: 0, errors: 0, requests: 0, rateLimited: 0 } })) : [];
  const hostList = role === 'proxy' ? names.map((name) => ({ name, state: 'up' as const, interfaces: 2, links: 1, rules: 2 })) : [];
  return { status, rules, nowMs: Date.parse('2026-12-01T10:01:00.000Z'), plugins, hosts: hostList };
}

const HOST = snapshotOf(1, 2, 'host');
const PROXY = snapshotOf(64, 3, 'proxy');

interface TimeCase {
  name: string;
  handWrittenUs: number;
  promClientUs: number;
  ratio: number;
  samples: number;
  bytes: number;
}

async function medianUs(scrape: () => string | Promise<string>, n: number): Promise<number> {
  for (let i = 0; i < n; i++) await scrape();
  const runs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const start = performance.now();
    for (let i = 0; i < n; i++) await scrape();
    runs.push(((performance.now() - start) * 1000) / n);
  }
  return runs.sort((a, b) => a - b)[Math.floor(RUNS / 2)]!;
}

async function timeCase(name: string, snapshot: MetricsSnapshot, n: number): Promise<TimeCase> {
  const [{ renderMetrics }, { DaemonMetrics }] = await Promise.all([handWritten(), promClient()]);
  const metrics = new DaemonMetrics(() => snapshot);
  const text = await metrics.scrape();
  const handWrittenUs = await medianUs(() => renderMetrics(snapshot), n);
  const promClientUs = await medianUs(() => metrics.scrape(), n);
  const samples = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
  return { name, handWrittenUs, promClientUs, ratio: promClientUs / handWrittenUs, samples, bytes: text.length };
}

/** In a child: load one renderer (or none), serve 500 scrapes of the Proxy, GC, report RSS. */
async function child(mode: string): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run the child with --expose-gc');
  if (mode === 'hand') {
    const { renderMetrics } = await handWritten();
    for (let i = 0; i < 500; i++) renderMetrics(PROXY);
  }
  if (mode === 'prom') {
    const { DaemonMetrics } = await promClient();
    const metrics = new DaemonMetrics(() => PROXY);
    for (let i = 0; i < 500; i++) await metrics.scrape();
  }
  gc();
  await new Promise((r) => setTimeout(r, 50));
  gc();
  process.stdout.write(JSON.stringify({ rssBytes: process.memoryUsage.rss(), heapUsedBytes: process.memoryUsage().heapUsed }));
}

function rssOf(mode: string): { rssBytes: number; heapUsedBytes: number } {
  const runs = Array.from({ length: 3 }, () => {
    const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child', mode], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`child ${mode}: ${r.stderr}`);
    return JSON.parse(r.stdout) as { rssBytes: number; heapUsedBytes: number };
  });
  const median = (key: 'rssBytes' | 'heapUsedBytes') => runs.map((x) => x[key]).sort((a, b) => a - b)[1]!;
  return { rssBytes: median('rssBytes'), heapUsedBytes: median('heapUsedBytes') };
}

function getMetrics(socketPath: string): Promise<number> {
  return new Promise((done, fail) => {
    const start = performance.now();
    const req = request({ socketPath, path: '/metrics', headers: { host: 'localhost' } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? done((performance.now() - start) * 1000) : fail(new Error(`GET /metrics: ${res.statusCode}`))));
    });
    req.on('error', fail);
    req.end();
  });
}

const vmRss = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;

/** A real daemon from DIST: RSS before and after 500 scrapes, and the median scrape over HTTP. */
async function daemonCase(dist: string): Promise<{ dist: string; rssBeforeBytes: number; rssAfterBytes: number; scrapeUs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'vswitch-bench-metrics-'));
  const socket = join(dir, 'api.sock');
  const config = join(dir, 'proxy.yaml');
  writeFileSync(config, `name: bench\nrole: proxy\nlisten: { udp: "127.0.0.1:51999", tcp: "127.0.0.1:51999" }\napi: { listen: "unix:${socket}" }\nlog: { level: warn }\n`);
  const daemon = spawn(process.execPath, [join(resolve(dist), 'api/cli/main.js'), 'up', '-c', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    for (let tries = 0; ; tries++) {
      try {
        await getMetrics(socket);
        break;
      } catch (err) {
        if (tries > 100 || daemon.exitCode !== null) throw new Error(`the daemon from ${dist} did not come up: ${String(err)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await new Promise((r) => setTimeout(r, 1000));
    const rssBeforeBytes = vmRss(daemon.pid!);
    const times: number[] = [];
    for (let i = 0; i < 500; i++) times.push(await getMetrics(socket));
    await new Promise((r) => setTimeout(r, 1000));
    return { dist, rssBeforeBytes, rssAfterBytes: vmRss(daemon.pid!), scrapeUs: times.sort((a, b) => a - b)[250]! };
  } finally {
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const childAt = process.argv.indexOf('--child');
  if (childAt >= 0) return child(process.argv[childAt + 1] ?? 'none');

  const times = [await timeCase('host (1 link, 2 ports, 2 rules)', HOST, quick ? 500 : 5000), await timeCase('proxy of 64 hosts (64 links, 192 rules)', PROXY, quick ? 50 : 500)];
  const memory = { neither: rssOf('none'), handWritten: rssOf('hand'), promClient: rssOf('prom') };
  const daemons = [];
  for (let at = process.argv.indexOf('--daemon'); at >= 0; at = process.argv.indexOf('--daemon', at + 1)) daemons.push(await daemonCase(process.argv[at + 1] ?? 'dist'));
  if (asJson) {
    process.stdout.write(JSON.stringify({ times, memory, daemons }, null, 2) + '\n');
    return;
  }
  const mb = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
  console.log('one scrape (median of 5 runs)        hand-written   prom-client   ratio   samples   bytes');
  for (const t of times) {
    console.log(`${t.name.padEnd(38)} ${`${t.handWrittenUs.toFixed(1)} µs`.padStart(10)}   ${`${t.promClientUs.toFixed(1)} µs`.padStart(11)}   ${t.ratio.toFixed(2).padStart(5)}×  ${String(t.samples).padStart(7)}  ${String(t.bytes).padStart(7)}`);
  }
  console.log('\nresident memory after 500 scrapes of the Proxy (child process, after GC; median of 3)');
  for (const [name, m] of Object.entries(memory)) console.log(`  ${name.padEnd(12)} RSS ${mb(m.rssBytes).padStart(9)}   heap used ${mb(m.heapUsedBytes).padStart(8)}`);
  console.log(`  prom-client − hand-written: RSS ${mb(memory.promClient.rssBytes - memory.handWritten.rssBytes)}, heap ${mb(memory.promClient.heapUsedBytes - memory.handWritten.heapUsedBytes)}`);
  if (daemons.length > 0) console.log('\na real daemon (an empty Proxy): RSS before → after 500 scrapes, median scrape over HTTP');
  for (const d of daemons) console.log(`  ${d.dist.padEnd(40)} ${mb(d.rssBeforeBytes).padStart(9)} → ${mb(d.rssAfterBytes).padStart(9)}   ${d.scrapeUs.toFixed(0)} µs`);
}

await main();

import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meshDimensions, neighboursOf, PATTERNS, type Pattern } from '../../scripts/lib/patterns-topology.js';
import { encodeHello, encodeMessageHeader, PatternsParser, Phase, type ParserEvent } from '../../scripts/lib/patterns-wire.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('patterns topology', () => {
  it('neighbours on 4 ranks', () => {
    const table = (pattern: Pattern) => [0, 1, 2, 3].map((r) => neighboursOf(pattern, r, 4));
    expect(table('ring')).toEqual([[1, 3], [0, 2], [1, 3], [0, 2]]);
    expect(table('all-to-all')).toEqual([[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]]);
    expect(table('bus')).toEqual([[1], [0, 2], [1, 3], [2]]);
    expect(table('mesh')).toEqual([[1, 2], [0, 3], [0, 3], [1, 2]]); // 2 × 2
    expect(table('tree')).toEqual([[1, 2], [0, 3], [0], [1]]);
    expect(table('star')).toEqual([[1, 2, 3], [0], [0], [0]]);
  });

  it('near-square meshes, and degenerate sizes', () => {
    expect([4, 6, 8, 9, 12, 7].map(meshDimensions)).toEqual([
      { rows: 2, cols: 2 },
      { rows: 2, cols: 3 },
      { rows: 2, cols: 4 },
      { rows: 3, cols: 3 },
      { rows: 3, cols: 4 },
      { rows: 1, cols: 7 },
    ]);
    for (const pattern of PATTERNS) {
      expect(neighboursOf(pattern, 0, 1)).toEqual([]);
      expect(neighboursOf(pattern, 0, 2)).toEqual([1]);
    }
  });
});

describe('patterns wire', () => {
  it('parses hello and messages split at every byte boundary, without the payload', () => {
    const stream = Buffer.concat([
      encodeHello(3),
      encodeMessageHeader(7, Phase.Reduce, 5),
      Buffer.alloc(5),
      encodeMessageHeader(8, Phase.Exchange, 0),
    ]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const parser = new PatternsParser(true);
      const events: ParserEvent[] = [...parser.push(stream.subarray(0, cut)), ...parser.push(stream.subarray(cut))];
      expect(events).toEqual([
        { kind: 'hello', rank: 3 },
        { kind: 'message', message: { iteration: 7, phase: Phase.Reduce, payloadBytes: 5 } },
        { kind: 'message', message: { iteration: 8, phase: Phase.Exchange, payloadBytes: 0 } },
      ]);
    }
  });

  it('reports a bad hello as an error event', () => {
    expect(new PatternsParser(true).push(Buffer.alloc(8))).toEqual([{ kind: 'error', reason: 'bad hello magic' }]);
  });
});

/** Ports base..base+count-1 all free on 127.0.0.1 right now. */
async function freeBasePort(count: number): Promise<number> {
  const isFree = (port: number) =>
    new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 30_000 + ((process.pid * 131 + attempt * 97) % 25_000);
    let isAllFree = true;
    for (let i = 0; i < count && isAllFree; i++) isAllFree = await isFree(base + i);
    if (isAllFree) return base;
  }
  throw new Error('no free port range');
}

/** PIDs whose command line contains `needle` (read from /proc; nothing is signalled). */
function processesWith(needle: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').includes(needle)) found.push(Number(entry));
    } catch {
      // The process exited while we looked.
    }
  }
  return found;
}

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

function launch(args: string[], workerJs: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      path.join(ROOT, 'scripts/patterns'),
      args,
      { env: { ...process.env, PATTERNS_WORKER_JS: workerJs }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ status: error ? ((error as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
  });
}

describe('scripts/patterns --local', () => {
  let outDir = '';
  let workerJs = '';

  beforeAll(() => {
    // Compile only the worker's own import graph, into a temporary directory (not the shared dist/).
    outDir = mkdtempSync(path.join(tmpdir(), 'patterns-test-'));
    execFileSync(
      path.join(ROOT, 'node_modules/.bin/tsc'),
      ['--outDir', outDir, '--rootDir', ROOT, '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022',
        '--strict', '--skipLibCheck', '--types', 'node', path.join(ROOT, 'scripts/lib/patterns-worker.ts')],
      { stdio: 'pipe' },
    );
    workerJs = path.join(outDir, 'scripts/lib/patterns-worker.js');
  }, 90_000);

  afterAll(() => {
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it.each(PATTERNS)('%s: 4 ranks × 3 iterations complete, each rank exchanging with exactly its neighbours', async (pattern) => {
    const base = await freeBasePort(4);
    const run = await launch(
      ['--local', '--ranks', '4', '--pattern', pattern, '--iterations', '3', '--size', '4096', '--compute-ms', '1',
        '--port', String(base), '--report', '--timeout', '30'],
      workerJs,
    );
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines.at(-1)).toMatch(/^\d+\.\d{3}$/);
    const reports = lines.slice(0, -1).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(reports.map((r) => r.rank)).toEqual([0, 1, 2, 3]);
    for (const report of reports) {
      const expected = neighboursOf(pattern, report.rank as number, 4);
      expect(report).toMatchObject({ pattern, ranks: 4, iterations: 3, neighbours: expected, sentTo: expected, receivedFrom: expected });
    }
  }, 60_000);

  it('a failing worker fails the run (exit 1, naming the rank) and the others are stopped', async () => {
    const base = await freeBasePort(3);
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(base + 1, '127.0.0.1', resolve));
    try {
      const run = await launch(['--local', '--ranks', '3', '--pattern', 'ring', '--iterations', '3', '--port', String(base)], workerJs);
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('rank 1');
      // Ranks 0 and 2 were left waiting on rank 1 (the blocker accepts but never speaks): the launcher killed them.
      // Real time: the pattern workers are child processes.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(processesWith(`127.0.0.1:${base},`)).toEqual([]);
    } finally {
      blocker.close();
    }
  }, 60_000);

  it('rejects an unknown pattern before starting anything', async () => {
    const run = await launch(['--local', '--pattern', 'hypercube'], workerJs);
    expect(run.status).toBe(1);
  });
});

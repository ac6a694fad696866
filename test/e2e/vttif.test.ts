/**
 * VTTIF on the lab: a Proxy and 8 hosts with one VM each. For each pattern of `scripts/patterns` (ring,
 * all-to-all, bus, mesh, tree, star) the Proxy's inferred edge set must equal the pattern's edge set over the VMs'
 * MACs (rank r is VM h(r+1)v1, MAC 02:00:c6:13:HH:01), and with fast settings (20 Hz, 500 ms smoothing) the
 * topology must be reported within 1 s of the pattern starting.
 *
 * When the pattern starts: rank 0 measures its running time from the end of the start barrier (every pattern link
 * up) to its last iteration, and prints it last. So start ≈ (when the launcher exits) − (rank 0's running time).
 * That places the start a few tens of ms LATE at most (rank 0's exit and the launcher reaping it), so the time to
 * report errs low by that much; we also log the upper bound from the launcher's start, which includes node start-up
 * and connection set-up. Each pattern is paced (--compute-ms 10, sleep) to run ~3 s, so the topology is polled
 * while the pattern still runs; between patterns the topology is first allowed to decay to empty.
 *
 * Uses its own lab (VSWITCH_LAB_NS=vs-vt-, VSWITCH_LAB_DIR=/run/vswitch-lab-vt unless set), so it can run beside
 * the default lab.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATTERNS, patternEdges, type Pattern } from '../../scripts/lib/patterns-topology.js';
import { lab, labDownSync, labJson, requireRoot, ROOT, vmMac } from './support/lab.js';
import { waitFor } from './support/netns.js';

process.env['VSWITCH_LAB_NS'] ??= 'vs-vt-';
process.env['VSWITCH_LAB_DIR'] ??= '/run/vswitch-lab-vt';

const HOSTS = 8;
const run = promisify(execFile);

interface AppTopology {
  edges: { a: string; b: string; intensity: number }[];
  shape: string | null;
  detectedAt: string | null;
}

const edgeSet = (edges: readonly { a: string; b: string }[]): string[] => edges.map((e) => `${e.a}-${e.b}`).sort();
const expectedEdges = (pattern: Pattern): string[] =>
  edgeSet(patternEdges(pattern, HOSTS).map(([x, y]) => ({ a: vmMac(x + 1, 1), b: vmMac(y + 1, 1) })));

const EXPECTED_SHAPE: Record<Pattern, string> = { ring: 'ring', 'all-to-all': 'all-to-all', bus: 'bus', mesh: 'mesh', tree: 'tree', star: 'star' };
const figures: { pattern: Pattern; reportMs: number; fromLaunchMs: number; runS: number }[] = [];

describe('VTTIF on the lab: 8 hosts × 1 VM, every pattern', () => {
  beforeAll(async () => {
    requireRoot();
    labDownSync();
    await lab('up', '--hosts', String(HOSTS), '--vms-per-host', '1', '--proxy');
    await waitFor(async () => {
      const s = await labJson<{ links: { state: string }[] }>('proxy', 'status');
      return s.links.length === HOSTS && s.links.every((l) => l.state === 'up');
    }, 15_000, 'star up');
    await labJson('proxy', 'vttif', 'params', '--rate', '20', '--smoothing', '500', '--threshold', '0.1');
  });
  afterAll(() => {
    // eslint-disable-next-line no-console
    console.log(`VTTIF time to report (ms, from the pattern start / from the launcher start):\n${figures.map((f) => `  ${f.pattern.padEnd(10)} ${String(f.reportMs).padStart(5)} / ${String(f.fromLaunchMs).padStart(5)}  (ran ${f.runS} s)`).join('\n')}`);
    labDownSync();
  });

  it.each(PATTERNS.map((p) => [p]))('%s: the inferred edge set is the pattern’s, reported within 1 s of its start', async (pattern) => {
    const expected = expectedEdges(pattern);
    await waitFor(async () => (await labJson<AppTopology>('proxy', 'topology', 'app')).edges.length === 0, 10_000, 'topology decayed to empty');
    const launchedAt = Date.now();
    const patterns = run(join(ROOT, 'scripts/patterns'), ['--pattern', pattern, '--iterations', '120', '--size', '8192', '--compute-ms', '10', '--compute', 'sleep', '--timeout', '60'], {
      env: process.env,
    }).then((r) => ({ ...r, exitedAt: Date.now() }));
    let found: AppTopology | undefined;
    let isRunning = true;
    void patterns.finally(() => (isRunning = false));
    while (isRunning && found === undefined) {
      const t = await labJson<AppTopology>('proxy', 'topology', 'app');
      if (edgeSet(t.edges).join() === expected.join()) found = t;
      else await new Promise((r) => setTimeout(r, 100));
    }
    const { stdout, exitedAt } = await patterns;
    const seconds = Number(stdout.trim().split('\n').at(-1));
    expect(found, `${pattern}: the Proxy never reported the pattern's edges while it ran`).toBeDefined();
    expect(found!.shape).toBe(EXPECTED_SHAPE[pattern]);
    const startedAt = exitedAt - seconds * 1000;
    const reportMs = Date.parse(found!.detectedAt!) - startedAt;
    figures.push({ pattern, reportMs: Math.round(reportMs), fromLaunchMs: Date.parse(found!.detectedAt!) - launchedAt, runS: seconds });
    expect(reportMs).toBeLessThan(1000);
  });
});

/**
 * The fast-path plugin on the lab: 8 hosts × 1 VM, `scripts/patterns` all-to-all. With the plugin enabled, VTTIF
 * infers the all-to-all topology and the plugin adds fast links for all 28 host pairs (owner proxy:fastpath),
 * after which the Proxy's switch hardly sees a VM frame. Mid-run, one fast path (h1 ↔ h2) is cut with nftables in
 * h1's namespace (everything to and from h2's underlay address; the star is untouched): the plugin removes that
 * pair's rules, the pair's traffic goes back over the star, and the run completes.
 * Run it with its own lab: VSWITCH_LAB_NS=vs-ad- VSWITCH_LAB_DIR=/run/vswitch-lab-ad.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Status } from '../../api/wire/schemas.js';
import type { FastPathStatus } from '../../plugins/fastpath/fastpath.js';
import { lab, labDownSync, labExec, labJson, ROOT, requireRoot } from './support/lab.js';

const HOSTS = 8;
const CUT_TABLE = 'vswitch_adaptation_cut';

function proxyApi<T>(method: string, path: string, body?: unknown): T {
  const args = ['curl', '-sf', '-X', method, `http://127.0.0.1:7000${path}`];
  if (body !== undefined) args.push('-H', 'content-type: application/json', '-d', JSON.stringify(body));
  const r = labExec('proxy', args);
  if (r.code !== 0) throw new Error(`proxy API ${method} ${path} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** Ethernet frames the Proxy's switch received over its links (control messages are not frames). */
async function proxyLinkFrames(): Promise<number> {
  const s = await labJson<Status>('proxy', 'status');
  return s.ports.filter((p) => p.kind === 'link').reduce((sum, p) => sum + p.rxFrames, 0);
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function runPatterns(iterations: number): { done: Promise<{ code: number; stdout: string; stderr: string }> } {
  const child = spawn(join(ROOT, 'scripts/patterns'), ['--pattern', 'all-to-all', '--iterations', String(iterations), '--timeout', '100'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return { done: new Promise((resolve) => child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }))) };
}

describe('the fast-path plugin on 8 hosts', () => {
  beforeAll(async () => {
    requireRoot();
    labDownSync();
    await lab('up', '--hosts', String(HOSTS), '--vms-per-host', '1');
    proxyApi('PUT', '/v1/plugins/fastpath/settings', { enabled: true });
  }, 90_000);
  afterAll(() => {
    labExec('h1', ['nft', 'delete', 'table', 'inet', CUT_TABLE]);
    labDownSync();
  });

  it('adds fast links for all 28 host pairs; the Proxy stops forwarding; a cut fast path falls back to the star', async () => {
    const run = runPatterns(300);
    await until('28 fast links up', () => proxyApi<FastPathStatus>('GET', '/v1/plugins/fastpath/status').links.filter((l) => l.state === 'up').length === 28, 40_000);
    const status = proxyApi<FastPathStatus>('GET', '/v1/plugins/fastpath/status');
    expect(status.counters.rulesAdded).toBe(56);
    expect(status.timings.lastTimeToAdaptMs).not.toBeNull();
    const h1Rules = await labJson<{ owner: string; target: string }[]>('h1', 'rule', 'list');
    expect(h1Rules.filter((r) => r.owner === 'proxy:fastpath').map((r) => r.target).sort()).toEqual(
      ['h2', 'h3', 'h4', 'h5', 'h6', 'h7', 'h8'].map((h) => `fp-${h}`),
    );

    // The Proxy's forwarded frames fall to near zero (ARP and the like still travel the star).
    const before = await proxyLinkFrames();
    await new Promise((r) => setTimeout(r, 2000));
    const forwardedPerS = ((await proxyLinkFrames()) - before) / 2;
    expect(forwardedPerS).toBeLessThan(50);

    // Cut h1 ↔ h2's fast path only: h1's namespace drops everything to and from h2's underlay address.
    const nft = (...args: string[]) => expect(labExec('h1', ['nft', ...args]).code).toBe(0);
    nft('add', 'table', 'inet', CUT_TABLE);
    nft('add', 'chain', 'inet', CUT_TABLE, 'out', '{ type filter hook output priority 0 ; }');
    nft('add', 'chain', 'inet', CUT_TABLE, 'in', '{ type filter hook input priority 0 ; }');
    nft('add', 'rule', 'inet', CUT_TABLE, 'out', 'ip', 'daddr', '198.18.0.2', 'drop');
    nft('add', 'rule', 'inet', CUT_TABLE, 'in', 'ip', 'saddr', '198.18.0.2', 'drop');
    await until('h1 → h2 rule removed', async () => {
      const rules = await labJson<{ owner: string; target: string }[]>('h1', 'rule', 'list');
      return !rules.some((r) => r.target === 'fp-h2');
    }, 10_000);
    const after = proxyApi<FastPathStatus>('GET', '/v1/plugins/fastpath/status');
    expect(after.counters.linkFailures).toBeGreaterThanOrEqual(1);
    expect(after.unreachable.map((u) => `${u.a}-${u.b}`)).toContain('h1-h2');

    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    expect(Number(result.stdout.trim().split('\n').at(-1))).toBeGreaterThan(0);
  }, 110_000);
});

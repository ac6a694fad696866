/**
 * `scripts/lab move` on namespace VMs, the fast form of a migration: the VM's port is deleted on its host's daemon,
 * added on another's, and the VM sends a gratuitous ARP. A Proxy and three hosts with the fast-path plugin on; h3v1
 * talks to h1v1 until they have a fast path; then h1v1 moves to h2 (and back to h1): the Proxy raises vm-moved, h3's
 * fast rules toward the old host go and come back toward the new one, and h3v1 reaches the VM again within 2 s of
 * each move. Its own namespaces (prefix vs-mv-).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

process.env['VSWITCH_LAB_NS'] = 'vs-mv-';
process.env['VSWITCH_LAB_DIR'] = '/run/vswitch-lab-mv';

type LabSupport = typeof import('./support/lab.js');
let support: LabSupport;

const VM_MAC = '02:00:c6:13:01:01';
function api<T>(node: string, method: string, path: string, body?: unknown): T {
  const args = ['curl', '-sf', '-X', method, `http://127.0.0.1:7000${path}`];
  if (body !== undefined) args.push('-H', 'content-type: application/json', '-d', JSON.stringify(body));
  const r = support.labExec(node, args);
  if (r.code !== 0) throw new Error(`${node} API ${method} ${path} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
const fastTargets = (): string[] =>
  api<{ rules: { dst: string; target: string; owner: string }[] }>('h3', 'GET', '/v1/rules')
    .rules.filter((r) => r.owner === 'proxy:fastpath' && r.dst === VM_MAC)
    .map((r) => r.target);
async function until(what: string, check: () => boolean, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - started;
}
const pings = (): boolean => support.labExec('h3v1', ['ping', '-c', '1', '-W', '1', support.vmIp(1, 1)]).code === 0;

describe('scripts/lab move: a namespace VM moves between hosts and the overlay follows', () => {
  beforeAll(async () => {
    support = await import('./support/lab.js');
    support.requireRoot();
    support.labDownSync();
    await support.lab('up', '--hosts', '3', '--vms-per-host', '1', '--proxy');
    api('proxy', 'PUT', '/v1/plugins/fastpath/settings', { enabled: true });
  }, 120_000);
  afterAll(() => support?.labDownSync());

  it('has a fast path h3 → h1 for the VM first', async () => {
    await until('a fast rule on h3 toward h1', () => (pings(), fastTargets().includes('fp-h1')), 40_000);
  }, 60_000);

  it.each([
    ['h2', 'fp-h1', 'fp-h2'],
    ['h1', 'fp-h2', 'fp-h1'],
  ])('moves to %s: reachable again at once, fast rules re-pointed, vm-moved raised', async (to, oldTarget, newTarget) => {
    await support.lab('move', 'h1v1', to);
    expect((await support.lab('where', 'h1v1')).stdout.trim()).toBe(to);
    const reachedMs = await until(`h3v1 reaching h1v1 on ${to}`, pings, 2_000);
    await until(`h3's fast rules leaving ${oldTarget}`, () => !fastTargets().includes(oldTarget), 5_000);
    await until(`a fast rule on h3 toward ${newTarget}`, () => (pings(), fastTargets().includes(newTarget)), 30_000);
    const r = support.labExec('proxy', ['curl', '-sN', '--max-time', '1', 'http://127.0.0.1:7000/v1/events']);
    const moved = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)) as { event?: string; fields?: Record<string, unknown> })
      .filter((e) => e.event === 'vm-moved' && e.fields?.['mac'] === VM_MAC && e.fields?.['to'] === to);
    expect(moved.length).toBeGreaterThan(0);
    console.log(`move h1v1 → ${to}: h3v1 reached it again ${reachedMs} ms after scripts/lab move returned`);
  }, 60_000);
});

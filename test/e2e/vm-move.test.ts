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
// Loaded with the lab's support, after VSWITCH_LAB_NS is set (netns.ts imports lab.ts, which reads it once).
let waitFor: typeof import('./support/netns.js').waitFor;

const VM_MAC = '02:00:c6:13:01:01';
const fastTargets = (): string[] =>
  support.labApi<{ rules: { dst: string; target: string; owner: string }[] }>('h3', 'GET', '/v1/rules')
    .rules.filter((r) => r.owner === 'proxy:fastpath' && r.dst === VM_MAC)
    .map((r) => r.target);
const pings = (): boolean => support.labExec('h3v1', ['ping', '-c', '1', '-W', '1', support.vmIp(1, 1)]).code === 0;

describe('scripts/lab move: a namespace VM moves between hosts and the overlay follows', () => {
  beforeAll(async () => {
    support = await import('./support/lab.js');
    ({ waitFor } = await import('./support/netns.js'));
    support.requireRoot();
    support.labDownSync();
    await support.lab('up', '--hosts', '3', '--vms-per-host', '1', '--proxy');
    support.labApi('proxy', 'PUT', '/v1/plugins/fastpath/settings', { enabled: true });
  }, 120_000);
  afterAll(() => support?.labDownSync());

  it('has a fast path h3 → h1 for the VM first', async () => {
    await waitFor(() => (pings(), fastTargets().includes('fp-h1')), 40_000, 'a fast rule on h3 toward h1');
  }, 60_000);

  it.each([
    ['h2', 'fp-h1', 'fp-h2'],
    ['h1', 'fp-h2', 'fp-h1'],
  ])('moves to %s: reachable again at once, fast rules re-pointed, vm-moved raised', async (to, oldTarget, newTarget) => {
    await support.lab('move', 'h1v1', to);
    expect((await support.lab('where', 'h1v1')).stdout.trim()).toBe(to);
    const reachedMs = await waitFor(pings, 2_000, `h3v1 reaching h1v1 on ${to}`);
    await waitFor(() => !fastTargets().includes(oldTarget), 5_000, `h3's fast rules leaving ${oldTarget}`);
    await waitFor(() => (pings(), fastTargets().includes(newTarget)), 30_000, `a fast rule on h3 toward ${newTarget}`);
    const moved = support
      .replayedEvents('proxy')
      .filter((e) => e.event === 'vm-moved' && e.fields?.['mac'] === VM_MAC && e.fields?.['to'] === to);
    expect(moved.length).toBeGreaterThan(0);
    console.log(`move h1v1 → ${to}: h3v1 reached it again ${reachedMs} ms after scripts/lab move returned`);
  }, 60_000);
});

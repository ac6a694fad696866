/**
 * Live migration of a real QEMU guest that the overlay follows with no operator step. A Proxy and three hosts: the
 * guest h1v1 (QEMU) on h1, namespace VMs on h2 and h3; the fast-path plugin on. h3v1 talks to the guest until the
 * plugin has a fast path h1 ↔ h3 with rules toward it; then, while h3v1 pings the guest every 10 ms and streams TCP
 * to it (iperf3), `scripts/lab migrate h1v1 h2` moves the running guest (QEMU migration over the underlay; the
 * destination's TAP attached by the hook before the switch-over). Shown:
 * - the TCP stream survives (iperf3 ends without error, every second of it carried data);
 * - the ping loss is at most QEMU's own downtime + 100 ms (both printed);
 * - the fast path re-forms at the guest's new host (h2 ↔ h3), the rules toward h1 are gone, and after the overlay
 *   converged not one frame leaves h3 for h1 (h3's fast link counters);
 * - the Proxy raised vm-moved for the guest's MAC, h1 → h2.
 * Its own namespaces (prefix vs-mig-).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Status } from '../../api/wire/schemas.js';
import type { FastPathStatus } from '../../plugins/fastpath/fastpath.js';

process.env['VSWITCH_LAB_NS'] = 'vs-mig-';
process.env['VSWITCH_LAB_DIR'] = '/run/vswitch-lab-mig';

type LabSupport = typeof import('./support/lab.js');
let support: LabSupport;
// Loaded with the lab's support, after VSWITCH_LAB_NS is set (netns.ts imports lab.ts, which reads it once).
let waitFor: typeof import('./support/netns.js').waitFor;

interface RuleView {
  src: string;
  dst: string;
  target: string;
  owner: string;
}



function inBackground(node: string, command: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(join(support.ROOT, 'scripts/lab'), ['exec', node, ...command], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr })));
}

const GUEST_MAC = '02:00:c6:13:01:01';
const fastRulesTo = (node: string, mac: string): RuleView[] =>
  support.labApi<{ rules: RuleView[] }>(node, 'GET', '/v1/rules').rules.filter((r) => r.owner === 'proxy:fastpath' && r.dst === mac);
const linkTxFrames = (node: string, link: string): number =>
  support.labApi<Status>(node, 'GET', '/v1/status').ports.find((p) => p.name === link)?.txFrames ?? 0;

describe('live migration of a QEMU guest, followed by the overlay', () => {
  beforeAll(async () => {
    support = await import('./support/lab.js');
    ({ waitFor } = await import('./support/netns.js'));
    support.requireRoot();
    support.labDownSync();
    await support.lab('up', '--hosts', '3', '--vms-per-host', '1', '--proxy', '--guests', 'h1v1');
    support.labApi('proxy', 'PUT', '/v1/plugins/fastpath/settings', { enabled: true });
    expect(support.labExec('h1v1', ['iperf3', '-s', '-D']).code).toBe(0);
  }, 180_000);
  afterAll(() => support?.labDownSync());

  it('has a fast path h1 ↔ h3 carrying h3v1 → guest before the migration', async () => {
    const warm = inBackground('h3v1', ['ping', '-q', '-i', '0.05', '-w', '20', support.vmIp(1, 1)]);
    await waitFor(() => fastRulesTo('h3', GUEST_MAC).some((r) => r.target.endsWith('h1')), 40_000, 'fast rule h3 → guest toward h1');
    await warm;
  }, 60_000);

  it('keeps the TCP stream, loses no more pings than the downtime + 100 ms, and re-forms the fast path at h2', async () => {
    const ping = inBackground('h3v1', ['ping', '-q', '-i', '0.01', '-w', '14', support.vmIp(1, 1)]);
    const stream = inBackground('h3v1', ['iperf3', '-c', support.vmIp(1, 1), '-t', '12', '-b', '50M', '-J']);
    await new Promise((r) => setTimeout(r, 3000));
    const { stdout } = await support.lab('migrate', 'h1v1', 'h2');
    const migration = JSON.parse(stdout.trim().split('\n').pop()!) as { downtimeMs: number; totalMs: number; resumedAtMs: number };
    expect(await support.lab('where', 'h1v1').then((r) => r.stdout.trim())).toBe('h2');

    // The overlay follows: h3's rules toward h1 go at once, fast ones toward h2 come with the next adaptation.
    const rulesGoneMs = await waitFor(() => !fastRulesTo('h3', GUEST_MAC).some((r) => r.target.endsWith('h1')), 5_000, 'no fast rule toward h1 for the guest');
    const reformedMs = await waitFor(() => fastRulesTo('h3', GUEST_MAC).some((r) => r.target.endsWith('h2')), 30_000, 'fast rule h3 → guest toward h2');
    const fast = support.labApi<FastPathStatus>('proxy', 'GET', '/v1/plugins/fastpath/status');
    expect(fast.links.some((l) => l.a === 'h2' && l.b === 'h3')).toBe(true);
    const toH1Before = linkTxFrames('h3', 'fp-h1');
    await new Promise((r) => setTimeout(r, 1500));
    const toH1After = linkTxFrames('h3', 'fp-h1');

    const pinged = await ping;
    const counts = /(\d+) packets transmitted, (\d+) received/.exec(pinged.stdout);
    expect(counts, pinged.stdout + pinged.stderr).not.toBeNull();
    const lostMs = (Number(counts![1]) - Number(counts![2])) * 10;
    const streamed = await stream;
    expect(streamed.code, streamed.stderr).toBe(0);
    const report = JSON.parse(streamed.stdout) as { intervals: { sum: { bytes: number } }[]; end: { sum_received: { bytes: number } } };
    console.log(
      `migration: QEMU downtime ${migration.downtimeMs} ms (total ${migration.totalMs} ms); ping loss ${lostMs} ms; ` +
        `h3's rules toward h1 gone ${rulesGoneMs} ms and re-formed toward h2 ${reformedMs} ms after the migration ended; ` +
        `TCP ${(report.end.sum_received.bytes / 1e6).toFixed(1)} MB received`,
    );
    expect(lostMs).toBeLessThanOrEqual(migration.downtimeMs + 100);
    expect(report.intervals.every((i) => i.sum.bytes > 0)).toBe(true);
    expect(toH1After - toH1Before).toBe(0);
  }, 120_000);

  it('raised vm-moved h1 → h2 for the guest on the Proxy (its event stream replays it)', () => {
    const moved = support.replayedEvents('proxy').filter((e) => e.event === 'vm-moved');
    expect(moved.map((e) => e.fields), JSON.stringify(moved)).toContainEqual(expect.objectContaining({ mac: GUEST_MAC, from: 'h1', to: 'h2' }));
  });
});

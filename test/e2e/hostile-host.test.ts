/**
 * One compromised host must not take the overlay down: on a lab of a Proxy and 3 hosts, h2's daemon is replaced by
 * a hostile one (scripts/lib/hostile-host.ts, with h2's own key) that sends the Proxy malformed reports, answers to
 * requests it was never asked, malformed and oversized matrices and a flood of control messages. Meanwhile h1v1
 * pings h3v1 every 100 ms. The Proxy stays up, the other pair loses nothing, and the Proxy's counters say what it
 * refused, by fixed reason: most of the flood unread (`rate-limited`), the rest for what it is.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Status } from '../../api/wire/schemas.js';
import { lab, labDownSync, labJson, requireRoot, ROOT, vmIp } from './support/lab.js';
import { waitFor } from './support/netns.js';

const LAB_DIR = process.env['VSWITCH_LAB_DIR'] ?? '/run/vswitch-lab';

describe('a hostile host on the star', () => {
  beforeAll(async () => {
    requireRoot();
    labDownSync();
    await lab('up', '--hosts', '3', '--vms-per-host', '1', '--proxy');
    await waitFor(async () => (await labJson<Status>('proxy', 'status')).links.every((l) => l.state === 'up'), 15_000, 'star up');
  });
  afterAll(() => labDownSync());

  it('keeps the Proxy up and every other pair pinging, and counts what it refused', async () => {
    await lab('stop', 'h2');
    const hostile = spawn(join(ROOT, 'scripts/lab'), ['exec', 'h2', 'node', join(ROOT, 'dist/scripts/lib/hostile-host.js'), '--config', join(LAB_DIR, 'h2.yaml'), '--seconds', '6'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    hostile.stdout.on('data', (c: Buffer) => (out += c.toString()));
    hostile.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const done = new Promise<number>((resolve) => hostile.on('close', (code) => resolve(code ?? 1)));
    // h1v1 → h3v1 while h2 attacks (the hostile host needs ~1 s to handshake; the ping runs through the attack).
    const ping = lab('exec', 'h1v1', 'ping', '-c', '60', '-i', '0.1', '-W', '1', vmIp(3, 1)).then(
      (r) => r.stdout,
      (e: { stdout?: string }) => e.stdout ?? '',
    );
    const [code, pingOut] = await Promise.all([done, ping]);
    expect(code, out).toBe(0);
    const report = JSON.parse(out.trim().split('\n').at(-1)!) as { linkUp: boolean; sent: Record<string, number> };
    expect(report.linkUp).toBe(true);
    expect(report.sent['report-null-link']).toBeGreaterThan(10);

    const received = Number(/(\d+) received/.exec(pingOut)?.[1] ?? 0);
    expect(received, pingOut).toBe(60);

    const proxy = await labJson<Status>('proxy', 'status'); // the Proxy answers: it did not crash
    const refused = proxy.refused!.control;
    console.log(`hostile host: sent ${JSON.stringify(report.sent)}; the Proxy refused ${JSON.stringify(refused)}; h1v1→h3v1 ${received}/60`);
    // Most of the flood is dropped unread (the Proxy's per-peer rate, control-budget.ts); what is read is refused for what it is.
    expect(refused['rate-limited'] ?? 0).toBeGreaterThan(1000);
    expect(refused['report-invalid'] ?? 0).toBeGreaterThan(10);
    expect((refused['res-unknown-id'] ?? 0) + (refused['res-wrong-peer'] ?? 0) + (refused['res-invalid'] ?? 0)).toBeGreaterThan(10);
    expect(refused['not-json'] ?? refused['malformed'] ?? Object.values(refused).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    // The oversized matrix (61 500 bytes, over the 60 000-byte cap, in one datagram) is refused whole, unparsed.
    expect(report.sent['matrix-oversized']).toBeGreaterThan(0);
    expect(refused['too-large'] ?? 0).toBeGreaterThan(0);
    // Only fixed reasons: nothing the sender chose became a key.
    for (const reason of Object.keys(refused)) expect(reason.length).toBeLessThan(40);
    // h1 and h3 still talk to the Proxy, and the Proxy still relays to them.
    expect((await labJson<unknown[]>('proxy', 'rule', 'list', '--host', 'h3')).length).toBeGreaterThan(0);
  }, 60_000);

  it("bounds TCP from one address: 8 connections, each closed unless it authenticates within 10 s (real sockets)", async () => {
    // From h2's namespace (its daemon is stopped): 9 connections to the Proxy's link port that never send a byte.
    const probe = `
      const net = require('node:net');
      const started = Date.now();
      const closed = [];
      let pending = 9;
      for (let i = 0; i < 9; i++) {
        const s = net.connect(51820, '198.18.1.1');
        s.on('error', () => {});
        s.on('close', () => { closed.push(Date.now() - started); if (--pending === 0) { console.log(JSON.stringify(closed.sort((a, b) => a - b))); process.exit(0); } });
      }
      setTimeout(() => { console.log(JSON.stringify(closed.sort((a, b) => a - b))); process.exit(1); }, 20000);`;
    const { stdout } = await lab('exec', 'h2', 'node', '-e', probe);
    const closedAtMs = JSON.parse(stdout) as number[];
    console.log(`idle TCP connections from one address closed after (ms): ${closedAtMs.join(', ')}`);
    expect(closedAtMs).toHaveLength(9);
    // The 9th at once (over the per-address cap), the other 8 at the deadline: not before 10 s, within the 1 s check.
    expect(closedAtMs[0]!).toBeLessThan(2000);
    for (const t of closedAtMs.slice(1)) {
      expect(t).toBeGreaterThanOrEqual(9_500);
      expect(t).toBeLessThan(13_000);
    }
    expect((await labJson<Status>('proxy', 'status')).links.find((l) => l.name === 'h1')?.state).toBe('up');
  }, 60_000);
});

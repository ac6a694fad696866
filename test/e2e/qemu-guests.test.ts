/**
 * Real VMs: a Proxy and two hosts, each with one QEMU guest (Debian's kernel, the initramfs of scripts/guest-image,
 * virtio-net on a TAP that QEMU creates) and one namespace VM. Nothing attaches the guests but QEMU's own ifup hook
 * (bin/vswitch-ifup, run by `-netdev tap,script=…`): the test checks that each host's daemon then has the guest's
 * TAP as a port, and that ARP, ping and a TCP transfer (iperf3) work guest ↔ guest and guest ↔ namespace VM across
 * the overlay. Its own namespaces (prefix vs-qg-), so it can run beside a developer's lab.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

process.env['VSWITCH_LAB_NS'] = 'vs-qg-';
process.env['VSWITCH_LAB_DIR'] = '/run/vswitch-lab-qg';

type LabSupport = typeof import('./support/lab.js');
let support: LabSupport;

interface PortView {
  name: string;
  kind: string;
  state: string;
}

describe('QEMU guests in the lab, attached by the hook alone', () => {
  beforeAll(async () => {
    support = await import('./support/lab.js'); // after VSWITCH_LAB_NS is set: the module reads it once
    support.requireRoot();
    support.labDownSync();
    await support.lab('up', '--hosts', '2', '--vms-per-host', '2', '--proxy', '--guests', 'h1v1,h2v1');
  }, 180_000);
  afterAll(() => support?.labDownSync());

  it("has each guest's TAP as a port of its host's daemon, added by QEMU's ifup hook", async () => {
    for (const h of [1, 2]) {
      const ports = await support.labJson<PortView[]>(`h${h}`, 'port', 'list');
      const guest = ports.find((p) => p.name === `vm-h${h}v1`);
      expect(guest, `h${h}'s ports: ${ports.map((p) => p.name).join(', ')}`).toBeDefined();
      expect(guest!.state).toBe('up');
      expect(ports.some((p) => p.name === `tap-h${h}v2`)).toBe(true);
    }
  });

  it('runs commands in a guest through its serial agent (exit status included)', () => {
    const r = support.labExec('h1v1', ['sh', '-c', 'cat /proc/sys/kernel/hostname; exit 7']);
    expect(r.stdout.trim()).toBe('h1v1');
    expect(r.code).toBe(7);
    const addr = support.labExec('h1v1', ['ip', '-o', 'addr', 'show', 'eth0']);
    expect(addr.stdout).toContain(`${support.vmIp(1, 1)}/16`);
    expect(support.labExec('h1v1', ['cat', '/sys/class/net/eth0/address']).stdout.trim()).toBe(support.vmMac(1, 1));
  });

  it('resolves and pings guest ↔ guest and guest ↔ namespace VM across the overlay', () => {
    const pairs: [string, string][] = [
      ['h1v1', support.vmIp(2, 1)], // guest → guest on the other host
      ['h2v1', support.vmIp(1, 2)], // guest → namespace VM on the other host
      ['h2v2', support.vmIp(1, 1)], // namespace VM → guest on the other host
    ];
    for (const [from, to] of pairs) {
      const r = support.labExec(from, ['ping', '-c', '3', '-W', '2', to], 30_000);
      expect(r.code, `${from} → ${to}: ${r.stdout}${r.stderr}`).toBe(0);
    }
    // ARP, not a static entry: the namespace VM learnt the guest's MAC from its reply.
    const neigh = support.labExec('h2v2', ['ip', 'neigh', 'show', support.vmIp(1, 1)]);
    expect(neigh.stdout).toContain(support.vmMac(1, 1));
    const guestNeigh = support.labExec('h1v1', ['ip', 'neigh', 'show', support.vmIp(2, 1)]);
    expect(guestNeigh.stdout).toContain(support.vmMac(2, 1));
  });

  it('carries a TCP transfer guest → guest and namespace VM → guest (iperf3)', () => {
    expect(support.labExec('h1v1', ['iperf3', '-s', '-D']).code).toBe(0);
    for (const from of ['h2v1', 'h2v2']) {
      const r = support.labExec(from, ['iperf3', '-c', support.vmIp(1, 1), '-t', '2', '-J'], 60_000);
      expect(r.code, `${from}: ${r.stderr}`).toBe(0);
      const report = JSON.parse(r.stdout) as { end: { sum_received: { bytes: number; bits_per_second: number } } };
      expect(report.end.sum_received.bytes).toBeGreaterThan(1_000_000);
      console.log(`iperf3 ${from} → h1v1 (guest): ${(report.end.sum_received.bits_per_second / 1e6).toFixed(0)} Mbit/s`);
    }
  });

  it('runs scripts/patterns across guests and namespace VMs (the worker in a guest: node from the host over 9p)', () => {
    const r = spawnSync(join(support.ROOT, 'scripts/patterns'), ['--pattern', 'ring', '--iterations', '3', '--size', '4096', '--timeout', '90'], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('on 4 ranks (h1v1 h1v2 h2v1 h2v2)');
    expect(Number(r.stdout.trim().split('\n').pop())).toBeGreaterThan(0);
    // The share is mounted only while such a command runs (QEMU refuses to migrate a guest with it mounted).
    expect(support.labExec('h1v1', ['grep', '-c', ' /host ', '/proc/mounts']).stdout.trim()).toBe('0');
  });

  it("detaches a guest's port when QEMU exits (its downscript)", async () => {
    await support.lab('stop-guest', 'h2v1');
    await new Promise((r) => setTimeout(r, 500));
    const ports = await support.labJson<PortView[]>('h2', 'port', 'list');
    expect(ports.map((p) => p.name)).not.toContain('vm-h2v1');
  });
});

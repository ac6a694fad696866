/**
 * Ports at run time on real devices: a lab of a Proxy and two hosts (one VM each), and a "VM" namespace h1v9 behind
 * a veth pair whose host end, qvm1, lives in h1's namespace — as a QEMU TAP does. qvm1 is attached as a capture port
 * at run time, by the CLI on h1 and relayed by the Proxy (`--host h1`): ping between h1v9 and h2's VM starts when the
 * port is added and stops when it is deleted, and the deleted port's MACs are gone from `GET /v1/macs` at once. Bad
 * requests change nothing. Then the QEMU hooks, bin/vswitch-ifup and vswitch-ifdown, on a real TAP made with
 * `ip tuntap add` (what QEMU creates): attached up with the MTU, idempotent both ways.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lab, labDownSync, labExec, labJson, labNs, requireRoot, ROOT, vmIp, vmMac } from './support/lab.js';
import { ip, waitFor } from './support/netns.js';

interface PortRow {
  name: string;
  kind: string;
  state: string;
  owner: string;
  interface?: string;
}
interface MacRow {
  mac: string;
  port: string;
}

const VM = 'h1v9';
const VM_MAC = vmMac(1, 9);
const VM_IP = vmIp(1, 9);
const PEER_IP = vmIp(2, 1);

const pings = (count = 1, timeoutS = 1) => labExec(VM, ['ping', '-c', String(count), '-W', String(timeoutS), PEER_IP]).code === 0;
const ports = (node: string, ...host: string[]) => labJson<PortRow[]>(node, 'port', 'list', ...host);
const macs = () => labJson<MacRow[]>('h1', 'macs');
/** What a refused request must leave as it was: h1's ports and rules. */
const state = async () => ({ ports: (await ports('h1')).map((p) => `${p.name} ${p.kind} ${p.owner} ${p.interface ?? '-'}`), rules: await labJson<unknown[]>('h1', 'rule', 'list') });

describe('ports added and deleted at run time, on real devices', () => {
  beforeAll(async () => {
    requireRoot();
    labDownSync();
    await lab('up', '--hosts', '2', '--vms-per-host', '1', '--proxy');
    // The "VM" behind a veth pair: its eth0 in its own namespace, the host end qvm1 in h1's (down until attached).
    ip('netns', 'add', labNs(VM));
    ip('-n', labNs(VM), 'link', 'set', 'lo', 'up');
    ip('-n', labNs('h1'), 'link', 'add', 'qvm1', 'mtu', '1420', 'type', 'veth', 'peer', 'name', 'eth0', 'mtu', '1420', 'netns', labNs(VM));
    ip('-n', labNs(VM), 'link', 'set', 'eth0', 'address', VM_MAC);
    ip('-n', labNs(VM), 'addr', 'add', `${VM_IP}/16`, 'dev', 'eth0');
    ip('-n', labNs(VM), 'link', 'set', 'eth0', 'up');
    ip('-n', labNs('h1'), 'link', 'set', 'qvm1', 'up');
    await waitFor(async () => (await labJson<{ links: { state: string }[] }>('proxy', 'status')).links.every((l) => l.state === 'up'), 10_000, 'star up');
  }, 120_000);
  afterAll(() => labDownSync()); // the lab's down removes vs-…h1v9 too (it is named as a lab VM)

  it('the VM behind qvm1 reaches nothing before its port exists', () => {
    expect(pings(2)).toBe(false);
  });

  it('added by the CLI on h1: ping starts; deleted: ping stops and its MACs are gone at once', async () => {
    const added = await labJson<PortRow>('h1', 'port', 'add', 'qvm1', '--interface', 'qvm1');
    expect(added).toMatchObject({ name: 'qvm1', kind: 'capture', state: 'up', owner: 'local', interface: 'qvm1' });
    const tookMs = await waitFor(() => pings(1, 1), 10_000, 'h1v9 pings h2v1 once qvm1 is a port');
    expect(tookMs).toBeLessThan(10_000);
    expect((await macs()).find((m) => m.mac === VM_MAC)).toMatchObject({ port: 'qvm1' });

    await lab('vswitch', 'h1', 'port', 'del', 'qvm1');
    expect((await macs()).map((m) => m.mac)).not.toContain(VM_MAC);
    expect((await ports('h1')).map((p) => p.name)).toEqual(['tap-h1v1', 'proxy']);
    expect(pings(3, 1)).toBe(false);
  });

  it('added and deleted relayed by the Proxy (--host h1): the same', async () => {
    const added = await labJson<PortRow>('proxy', 'port', 'add', 'qvm1', '--interface', 'qvm1', '--host', 'h1');
    expect(added).toMatchObject({ name: 'qvm1', kind: 'capture', owner: 'proxy:local', interface: 'qvm1' });
    expect((await ports('proxy', '--host', 'h1')).map((p) => `${p.name} ${p.owner}`)).toContain('qvm1 proxy:local');
    await waitFor(() => pings(1, 1), 10_000, 'h1v9 pings h2v1 once qvm1 is a port again');

    await lab('vswitch', 'proxy', 'port', 'del', 'qvm1', '--host', 'h1');
    expect((await macs()).map((m) => m.mac)).not.toContain(VM_MAC);
    expect(pings(3, 1)).toBe(false);
  });

  it('refuses bad requests, on h1 and relayed, with the field named, and nothing changes', async () => {
    const before = await state();
    const refused = (node: string, ...args: string[]) => labExec(node, ['node', join(ROOT, 'bin/vswitch.js'), ...args]);
    const cases: [string, string[], RegExp][] = [
      ['h1', ['port', 'add', 'qvm2', '--interface', 'qvm9'], /interface: no interface "qvm9"/],
      ['h1', ['port', 'add', 'tap-h1v1', '--tap'], /exists/],
      ['h1', ['port', 'add', 'proxy', '--interface', 'qvm1'], /link/],
      ['h1', ['port', 'add', 'much-too-long-name', '--tap'], /name/],
      ['h1', ['port', 'del', 'proxy'], /link/],
      ['h1', ['port', 'del', 'nope'], /does not exist/],
      ['proxy', ['port', 'add', 'qvm2', '--interface', 'qvm9', '--host', 'h1'], /interface: no interface "qvm9"/],
      ['proxy', ['port', 'del', 'tap-h1v1', '--host', 'h9'], /does not exist/],
    ];
    for (const [node, args, message] of cases) {
      const r = refused(node, ...args);
      expect(r.code, `${node}: vswitch ${args.join(' ')}`).toBe(1);
      expect(r.stderr).toMatch(message);
    }
    // A port a rule leads to: 409 port-in-use, naming the rule.
    const rule = await labJson<{ id: number }>('h1', 'rule', 'add', '--src', 'any', '--dst', vmMac(2, 1), '--target', 'tap-h1v1', '--priority', '5');
    const inUse = refused('h1', 'port', 'del', 'tap-h1v1');
    expect(inUse.stderr).toContain(`rule ${rule.id}`);
    await lab('vswitch', 'h1', 'rule', 'del', String(rule.id));
    expect(await state()).toEqual(before);
  });

  it('the QEMU hooks on a real TAP (ip tuntap add): ifup brings it up with the MTU and attaches it, ifdown detaches; both idempotent', async () => {
    ip('-n', labNs('h1'), 'tuntap', 'add', 'mode', 'tap', 'name', 'qvm2');
    const hook = (script: string, env: string[] = []) => labExec('h1', ['env', ...env, join(ROOT, 'bin', script), 'qvm2']);
    const up = hook('vswitch-ifup', ['VSWITCH_MTU=1400']);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toContain('port qvm2 attached (capture on qvm2');
    expect(ip('-n', labNs('h1'), 'link', 'show', 'qvm2')).toMatch(/<[^>]*\bUP\b[^>]*> mtu 1400/);
    expect((await ports('h1')).find((p) => p.name === 'qvm2')).toMatchObject({ kind: 'capture', interface: 'qvm2', owner: 'local' });

    const again = hook('vswitch-ifup');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('already attached');
    expect((await ports('h1')).filter((p) => p.name === 'qvm2')).toHaveLength(1);

    const down = hook('vswitch-ifdown');
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toContain('port qvm2 detached');
    expect((await ports('h1')).map((p) => p.name)).not.toContain('qvm2');
    const downAgain = hook('vswitch-ifdown');
    expect(downAgain.code, downAgain.stderr).toBe(0);
    expect(downAgain.stdout).toContain('not attached: nothing to do');

    // A wrong call fails loudly: no interface name, or an interface that is not there.
    expect(labExec('h1', [join(ROOT, 'bin/vswitch-ifup')]).code).toBe(2);
    expect(labExec('h1', [join(ROOT, 'bin/vswitch-ifup'), 'qvm8']).code).not.toBe(0);
    ip('-n', labNs('h1'), 'tuntap', 'del', 'mode', 'tap', 'name', 'qvm2');
  });
});

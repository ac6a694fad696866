/**
 * Run-time ports across a restart (the in-memory overlay, each daemon on a MemoryStateStore kept across
 * Daemon.stop/start): a TAP and a capture port added at run time come back with their owners, before the rules
 * toward them (which keep their ids), and frames flow through them; a config port deleted at run time stays
 * deleted; a capture port whose interface is not there at restart comes back down and up once it appears, and the
 * QEMU hook still finds it attached; a port change the state cannot save is not made (503); the config wins over a
 * saved port whose name it now uses.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readPackageFile } from '../../api/package-files.js';
import { parseDaemonConfig } from '../../daemon/config.js';
import { systemClock } from '../../switch/clock.js';
import { createLogger } from '../../switch/log.js';
import { MemoryPort } from '../../switch/port/memory-port.js';
import { TapNameTakenError } from '../../switch/port/port-errors.js';
import { apiRequest } from '../../api/cli/client.js';
import type { CliIo } from '../../api/cli/common.js';
import { createProgram } from '../../api/cli/program.js';
import { Daemon } from '../../daemon/daemon.js';
import { BROADCAST_MAC, parseMac } from '../../switch/frame/mac.js';
import { MemoryStateStore } from '../../switch/state/memory-state-store.js';
import { ethernetFrame } from '../support/frames.js';
import { startMemoryOverlay, vmMac, type MemoryOverlay } from '../support/memory-overlay.js';

let overlay: MemoryOverlay | undefined;
let stores: Map<string, MemoryStateStore>;
afterEach(async () => {
  await overlay?.stop();
  overlay = undefined;
});

async function start(): Promise<MemoryOverlay> {
  stores = new Map();
  overlay = await startMemoryOverlay({
    hosts: ['h1', 'h2'],
    state: (name) => {
      const store = new MemoryStateStore();
      stores.set(name, store);
      return store;
    },
  });
  return overlay;
}

const ops = { name: 'ops' };
const VM2 = '02:00:c6:13:01:02';
const ports = (d: Daemon) => d.primitives.portsNow().filter((p) => p.kind !== 'link').map((p) => ({ name: p.name, owner: p.owner, interface: p.interface, state: p.state }));
const rules = async (d: Daemon) => (await d.primitives.rules()).map(({ hitBytes: _b, hitFrames: _f, ...r }) => r);
const starUp = (o: MemoryOverlay) => o.until(() => o.proxy.linkStatuses().every((l) => l.state === 'up') && [...o.hosts.values()].every((h) => h.linkStatuses()[0]?.state === 'up'), 5000, 'the star up again');

async function vswitch(api: string, ...args: string[]): Promise<{ out: string; error?: unknown }> {
  const out: string[] = [];
  const io: CliIo = { out: (t) => out.push(t), err: () => {}, nowMs: () => 0 };
  try {
    await createProgram(io).parseAsync(['node', 'vswitch', ...args, '--api', api]);
    return { out: out.join('\n') };
  } catch (error) {
    return { out: out.join('\n'), error };
  }
}

describe('run-time ports in the durable state', () => {
  it('come back after a restart with their owners, before the rules toward them; traffic flows; a deleted config port stays deleted', async () => {
    const o = await start();
    const h1 = o.hosts.get('h1')!;
    o.hostInterfaces.get('h1')!.add('vm-h1v3');
    await h1.primitives.addPort({ name: 'vm-h1v2', type: 'tap', mtu: 9000 }, ops);
    await apiRequest(o.api, 'POST', '/v1/hosts/h1/ports', { name: 'vm-h1v3', type: 'capture', interface: 'vm-h1v3' });
    const rule = await h1.primitives.addRule({ src: 'any', dst: VM2, target: 'vm-h1v2', priority: 5 }, ops);
    await h1.primitives.deletePort('tap-h1v1', ops);
    const before = { ports: ports(h1), rules: await rules(h1) };
    expect(before.ports.map((p) => `${p.name} ${p.owner}`)).toEqual(['vm-h1v2 ops', 'vm-h1v3 proxy:local']);
    expect(stores.get('h1')!.saved.kind('port')).toEqual(new Map([
      ['vm-h1v2', { type: 'tap', mtu: 9000, owner: 'ops' }],
      ['vm-h1v3', { type: 'capture', interface: 'vm-h1v3', promiscuous: true, owner: 'proxy:local' }],
    ]));

    // The VM behind the capture port is not running when the daemon comes back: its TAP is not there.
    o.hostInterfaces.get('h1')!.delete('vm-h1v3');
    const again = await o.restart('h1');
    await starUp(o);
    expect(ports(again)).toEqual(before.ports.map((p) => (p.name === 'vm-h1v3' ? { ...p, state: 'down' } : p)));
    expect(again.datapath.get('tap-h1v1')).toBeUndefined();
    const restored = await rules(again);
    expect(restored.find((r) => r.id === rule.id)).toEqual(before.rules.find((r) => r.id === rule.id));
    expect(again.stateView().items).toEqual(expect.arrayContaining([
      expect.objectContaining({ kind: 'port', key: 'vm-h1v2', from: 'state', status: 'active', value: { type: 'tap', mtu: 9000, owner: 'ops' } }),
      expect.objectContaining({ kind: 'port', key: 'vm-h1v3', from: 'state', status: 'active' }),
      expect.objectContaining({ kind: 'config-port-deleted', key: 'tap-h1v1', from: 'state', status: 'active', value: { type: 'tap' } }),
    ]));
    expect(again.stateView().items.filter((i) => i.kind === 'port' && i.from === 'config')).toEqual([]);

    // The QEMU hook, run again for the VM: the restored port is the one it attaches, so it exits 0.
    const hook = await vswitch(`unix:${o.dir}/h1.sock`, 'port', 'hook', 'up', 'vm-h1v3');
    expect(hook.error).toBeUndefined();
    expect(hook.out).toBe('vswitch: port vm-h1v3 already attached (capture on vm-h1v3): nothing to do');
    // The VM starts: its interface appears, the datapath's recovery opens the port.
    o.hostInterfaces.get('h1')!.add('vm-h1v3');
    await o.until(() => ports(again).find((p) => p.name === 'vm-h1v3')?.state === 'up', 3000, 'the capture port up');

    // Frames: h2's VM broadcasts (everyone learns it), the VM on vm-h1v2 answers, h2's VM writes to it by its rule.
    const h2vm = o.ports.get('tap-h2v1')!;
    const vm2 = o.ports.get('vm-h1v2')!;
    h2vm.inject([ethernetFrame({ src: vmMac('h2'), dst: BROADCAST_MAC })]);
    await o.until(() => vm2.sent.length >= 1 && o.ports.get('vm-h1v3')!.sent.length >= 1, 2000, "h2's broadcast reaches both restored ports");
    const h2sent = h2vm.sent.length;
    vm2.inject([ethernetFrame({ src: parseMac(VM2)!, dst: parseMac(vmMac('h2'))! })]);
    await o.until(() => h2vm.sent.length > h2sent, 2000, 'the restored TAP reaches h2');
    const vm2sent = vm2.sent.length;
    h2vm.inject([ethernetFrame({ src: parseMac(vmMac('h2'))!, dst: parseMac(VM2)! })]);
    await o.until(() => vm2.sent.length > vm2sent, 2000, "h2's unicast reaches the restored TAP");
    expect((await again.primitives.rules()).find((r) => r.id === rule.id)!.hitFrames).toBeGreaterThan(0);

    // Deleted at run time after the restart: gone from the state, and from the next start.
    await again.primitives.deleteRule(rule.id, ops);
    await again.primitives.deletePort('vm-h1v2', ops);
    const third = await o.restart('h1');
    expect(ports(third).map((p) => p.name)).toEqual(['vm-h1v3']);
  });

  it('a port change the state cannot save is not made: the added port is closed again, the deleted one stays; 503 state-unavailable', async () => {
    const o = await start();
    const h1 = o.hosts.get('h1')!;
    await h1.primitives.addPort({ name: 'vm-h1v2', type: 'tap' }, ops);
    const before = ports(h1);
    stores.get('h1')!.failWrites(new Error('ENOSPC: no space left on device'));
    const refused = { code: 'state-unavailable', httpStatus: 503 };
    await expect(h1.primitives.addPort({ name: 'vm-h1v4', type: 'tap' }, ops)).rejects.toMatchObject(refused);
    expect(h1.datapath.get('vm-h1v4')).toBeUndefined();
    // The device opened for it was closed again: it takes no frames.
    o.ports.get('vm-h1v4')!.inject([ethernetFrame({ src: parseMac(VM2)!, dst: BROADCAST_MAC })]);
    expect(o.ports.get('vm-h1v4')!.stats().readFrames).toBe(0);
    await expect(h1.primitives.deletePort('vm-h1v2', ops)).rejects.toMatchObject(refused);
    await expect(h1.primitives.deletePort('tap-h1v1', ops)).rejects.toMatchObject(refused);
    expect(ports(h1)).toEqual(before);
    // Relayed: the host's refusal keeps its code.
    await expect(apiRequest(o.api, 'POST', '/v1/hosts/h1/ports', { name: 'vm-h1v5', type: 'tap' })).rejects.toMatchObject({ status: 502, problem: { code: 'state-unavailable' } });
    await expect(apiRequest({ base: `unix:${o.dir}/h1.sock` }, 'DELETE', '/v1/ports/vm-h1v2')).rejects.toMatchObject({ status: 503, problem: { code: 'state-unavailable' } });
    expect(ports(h1)).toEqual(before);
    expect([...stores.get('h1')!.saved.kind('port').keys()]).toEqual(['vm-h1v2']);
  });

  it('a saved port whose name the config now gives a port is skipped and reported: the config wins', async () => {
    const o = await start();
    const h1 = o.hosts.get('h1')!;
    await h1.primitives.addPort({ name: 'vm-h1v2', type: 'tap', mtu: 9000 }, ops);
    const again = await o.restart('h1', (text) => text.replace('ports:\n', 'ports:\n  - { name: vm-h1v2, type: tap, mtu: 1400 }\n'));
    expect(ports(again).map((p) => `${p.name} ${p.owner}`)).toEqual(['vm-h1v2 config', 'tap-h1v1 config']);
    expect(again.stateView().items).toEqual(expect.arrayContaining([
      { kind: 'port', key: 'vm-h1v2', from: 'config', status: 'active' },
      { kind: 'port', key: 'vm-h1v2', from: 'state', status: 'skipped', reason: 'the config now has a port named "vm-h1v2": the config wins' },
    ]));
    expect(stores.get('h1')!.saved.kind('port').size).toBe(0);
  });

  it('a saved TAP whose device does not open at start is skipped with the device\'s error, and the daemon starts without it', async () => {
    const store = new MemoryStateStore();
    await store.write([
      { kind: 'port', key: 'vm-a', value: { type: 'tap', mtu: 1500, owner: 'ops' } },
      { kind: 'port', key: 'vm-b', value: { type: 'tap', mtu: 1500, owner: 'ops' } },
    ]);
    const socket = join(mkdtempSync(join(tmpdir(), 'vswitch-ports-')), 'api.sock');
    const daemon = await Daemon.start(parseDaemonConfig(`name: h1\napi: { listen: "unix:${socket}" }\nports:\n  - { name: p1, type: tap }\n`, 'test.yaml'), {
      clock: { ...systemClock, now: () => 0 },
      log: createLogger({ write: () => {} }),
      specText: readPackageFile('openapi.yaml'),
      version: 'test',
      openPort: (c) => {
        if (c.name === 'vm-a') throw new TapNameTakenError({ device: 'vm-a' });
        return new MemoryPort(c.name);
      },
      state: store,
    });
    try {
      expect(ports(daemon).map((p) => p.name)).toEqual(['p1', 'vm-b']);
      expect(daemon.stateView().items).toContainEqual({ kind: 'port', key: 'vm-a', from: 'state', status: 'skipped', reason: expect.stringMatching(/^its device did not open: cannot create TAP device: .*\(vm-a\)$/) });
      expect([...store.saved.kind('port').keys()]).toEqual(['vm-b']);
    } finally {
      await daemon.stop();
    }
  });
});

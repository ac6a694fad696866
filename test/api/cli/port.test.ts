/**
 * `vswitch port list|add|del` and `vswitch port hook up|down`, the real program against a real daemon (memory twins
 * of the devices, its API on a unix socket): what each prints, its arguments checked before any request, and the
 * hooks idempotent as QEMU's script=/downscript= need.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../api/cli/common.js';
import { createProgram } from '../../../api/cli/program.js';
import { parseDaemonConfig } from '../../../daemon/config.js';
import { Daemon } from '../../../daemon/daemon.js';
import { systemClock } from '../../../switch/clock.js';
import { createLogger } from '../../../switch/log.js';
import { MemoryPort } from '../../../switch/port/memory-port.js';

let daemon: Daemon;
let api: string;
const hostInterfaces = new Set(['qvm1', 'qvm2', 'qvm3']);

beforeAll(async () => {
  const socket = join(mkdtempSync(join(tmpdir(), 'vswitch-cli-port-')), 'api.sock');
  daemon = await Daemon.start(parseDaemonConfig(`name: h1\napi: { listen: "unix:${socket}" }\nports:\n  - { name: p1, type: tap }\n`, 'test.yaml'), {
    clock: { ...systemClock, now: () => 0 },
    log: createLogger({ write: () => {} }),
    specText: readFileSync(new URL('../../../openapi.yaml', import.meta.url), 'utf8'),
    version: '0.0.0-test',
    openPort: (c) => new MemoryPort(c.name),
    interfaceExists: (name) => hostInterfaces.has(name),
  });
  api = `unix:${socket}`;
});
afterAll(async () => daemon.stop());

async function vswitch(...args: string[]): Promise<{ out: string; error?: { code?: string; status?: number; message: string; problem?: unknown } }> {
  const out: string[] = [];
  const io: CliIo = { out: (t) => out.push(t), err: () => {}, nowMs: () => 0 };
  try {
    await createProgram(io).parseAsync(['node', 'vswitch', ...args, '--api', api]);
    return { out: out.join('\n') };
  } catch (e) {
    return { out: out.join('\n'), error: e as { code?: string; message: string } };
  }
}

const names = () => daemon.datapath.ports().map((p) => p.port.name);

describe('vswitch port', () => {
  it('add --tap [--mtu], add --interface, list (table and JSON), del', async () => {
    const tap = await vswitch('port', 'add', 'tap-vm2', '--tap', '--mtu', '1400');
    expect(tap.error).toBeUndefined();
    expect(tap.out.split('\n')[0]).toBe('port tap-vm2 added (memory, up)');
    const cap = await vswitch('port', 'add', 'cap1', '--interface', 'qvm1', '--json');
    expect(JSON.parse(cap.out)).toMatchObject({ name: 'cap1', interface: 'qvm1', owner: 'local' });
    const table = await vswitch('port', 'list');
    expect(table.out.split('\n')[0]).toMatch(/^PORT\s+KIND\s+INTERFACE\s+STATE\s+OWNER\s+RX FRAMES\s+TX FRAMES\s+DROPS$/);
    expect(table.out).toMatch(/cap1\s+memory\s+qvm1\s+up\s+local/);
    expect(JSON.parse((await vswitch('port', 'ls', '--json')).out).map((p: { name: string }) => p.name)).toEqual(['p1', 'tap-vm2', 'cap1']);
    expect((await vswitch('port', 'del', 'tap-vm2')).out).toBe('port tap-vm2 deleted');
    expect((await vswitch('port', 'del', 'cap1')).out).toBe('port cap1 deleted');
    expect(names()).toEqual(['p1']);
  });

  it("prints the daemon's refusal (a missing interface: 400 naming it)", async () => {
    const res = await vswitch('port', 'add', 'x', '--interface', 'qvm9');
    expect(res.error).toMatchObject({ code: 'api-client', status: 400 });
    expect(res.error!.message).toContain('qvm9');
    expect(names()).toEqual(['p1']);
  });

  it.each([
    [['port', 'add', 'x'], 'vswitch.portTypeMissing'],
    [['port', 'add', 'x', '--tap', '--interface', 'qvm1'], 'commander.conflictingOption'],
    [['port', 'add', 'x', '--interface', 'qvm1', '--mtu', '1400'], 'commander.conflictingOption'],
    [['port', 'add', 'x', '--tap', '--mtu', 'big'], 'commander.invalidArgument'],
    [['port', 'add', 'x', '--tap', '--no-promiscuous'], 'vswitch.portOptionConflict'],
    [['port', 'hook', 'up', 'a/b'], 'commander.invalidArgument'],
    [['port', 'hook', 'down', 'much-too-long-name'], 'commander.invalidArgument'],
    [['port', 'hook', 'up', 'qvm1', '--host', 'h2'], 'commander.unknownOption'],
  ])('bad usage %j is caught before any request (%s)', async (args, code) => {
    const res = await vswitch(...args);
    expect(res.error).toMatchObject({ code });
    expect(names()).toEqual(['p1']);
  });

  it('--host sends to /v1/hosts/NAME/ports (404 not the proxy on a host)', async () => {
    const res = await vswitch('port', 'list', '--host', 'h2');
    expect(res.error).toMatchObject({ status: 404 });
    expect((res.error!.problem as { code: string }).code).toBe('not-proxy');
  });
});

describe('vswitch port hook (QEMU script= / downscript=)', () => {
  it('up attaches IFNAME as a capture port named after it; again: already attached, success', async () => {
    expect((await vswitch('port', 'hook', 'up', 'qvm2')).out).toBe('vswitch: port qvm2 attached (capture on qvm2, up)');
    const again = await vswitch('port', 'hook', 'up', 'qvm2');
    expect(again.error).toBeUndefined();
    expect(again.out).toBe('vswitch: port qvm2 already attached (capture on qvm2): nothing to do');
    expect(daemon.primitives.portsNow().find((p) => p.name === 'qvm2')).toMatchObject({ interface: 'qvm2', owner: 'local' });
  });

  it('down detaches it; again: not attached, success', async () => {
    expect((await vswitch('port', 'hook', 'down', 'qvm2')).out).toBe('vswitch: port qvm2 detached');
    const again = await vswitch('port', 'hook', 'down', 'qvm2', '--json');
    expect(again.error).toBeUndefined();
    expect(JSON.parse(again.out)).toEqual({ port: 'qvm2', detached: true, already: true });
    expect(names()).toEqual(['p1']);
  });

  it('up fails when the name is another port, not that capture (a TAP named so): the conflict is shown', async () => {
    await vswitch('port', 'add', 'qvm3', '--tap');
    const res = await vswitch('port', 'hook', 'up', 'qvm3');
    expect(res.error).toMatchObject({ status: 409 });
    await vswitch('port', 'del', 'qvm3');
  });

  it('up fails, not silently, for an interface that is not there', async () => {
    expect((await vswitch('port', 'hook', 'up', 'qvm9')).error).toMatchObject({ status: 400 });
    expect(names()).toEqual(['p1']);
  });
});

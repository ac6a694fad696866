import { mkdtempSync, readFileSync } from 'node:fs';
import { systemClock } from '../../../switch/clock.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../api/cli/common.js';
import { createProgram } from '../../../api/cli/program.js';
import { parseDaemonConfig } from '../../../daemon/config.js';
import { Daemon } from '../../../daemon/daemon.js';
import { createLogger } from '../../../switch/log.js';
import { MemoryPort } from '../../../switch/port/memory-port.js';

const TOKEN = 'cli-test-token-0123456789';
const VIEWER = 'cli-view-token-0123456789';
let daemon: Daemon;
let api: string;

beforeAll(async () => {
  const socket = join(mkdtempSync(join(tmpdir(), 'vswitch-cli-')), 'api.sock');
  const config = parseDaemonConfig(
    [
      'name: h1',
      `api: { listen: "unix:${socket}", tokens: [{ name: ops, token: ${TOKEN} }, { name: view, token: ${VIEWER}, readOnly: true }] }`,
      'ports:',
      '  - { name: p1, type: tap }',
      '  - { name: p2, type: tap }',
      '',
    ].join('\n'),
    'test.yaml',
  );
  daemon = await Daemon.start(config, {
    clock: { ...systemClock, now: () => 0 },
    log: createLogger({ write: () => {} }),
    specText: readFileSync(new URL('../../../openapi.yaml', import.meta.url), 'utf8'),
    version: '0.0.0-test',
    openPort: (c: { name: string }) => new MemoryPort(c.name),
  });
  api = `unix:${socket}`;
});
afterAll(async () => daemon.stop());

/** Runs `vswitch ARGS` in-process against the daemon; returns what it printed and the error it ended with. */
async function vswitch(...args: string[]): Promise<{ out: string; err: string; error?: { code?: string; status?: number; message: string; problem?: unknown } }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t), nowMs: () => 0 };
  try {
    await createProgram(io).parseAsync(['node', 'vswitch', ...args]);
    return { out: out.join('\n'), err: err.join('\n') };
  } catch (e) {
    return { out: out.join('\n'), err: err.join('\n'), error: e as { code?: string; message: string } };
  }
}

describe('vswitch CLI against a running daemon (unix socket, token)', () => {
  it('rule add / list / del, as tables and as JSON', async () => {
    const added = await vswitch('rule', 'add', '--src', '02:00:00:00:00:0a', '--dst', 'any', '--target', 'p2', '--priority', '3', '--api', api, '--token', TOKEN, '--json');
    expect(added.error).toBeUndefined();
    const rule = JSON.parse(added.out) as { id: number; owner: string; priority: number };
    expect(rule).toMatchObject({ owner: 'ops', priority: 3 });

    const table = await vswitch('rule', 'list', '--api', api, '--token', VIEWER);
    expect(table.out.split('\n')[0]).toMatch(/^ID\s+SRC\s+DST\s+TARGET\s+PRIORITY\s+OWNER/);
    expect(table.out).toContain('02:00:00:00:00:0a');

    const json = await vswitch('rule', 'list', '--api', api, '--token', TOKEN, '--json');
    expect(JSON.parse(json.out)).toHaveLength(1);

    const del = await vswitch('rule', 'del', String(rule.id), '--api', api, '--token', TOKEN);
    expect(del.out).toBe(`rule ${rule.id} deleted`);
    expect(daemon.datapath.core.rules.size).toBe(0);
  });

  it('iface list, config-time get|set, status', async () => {
    const ifaces = await vswitch('iface', 'list', '--api', api, '--token', TOKEN);
    expect(ifaces.out).toMatch(/^INTERFACE\s+KIND/);
    expect(ifaces.out).toContain('p1');
    expect((await vswitch('config-time', 'set', '250', '--api', api, '--token', TOKEN)).out).toContain('250 ms');
    expect(JSON.parse((await vswitch('config-time', 'get', '--api', api, '--token', TOKEN, '--json')).out)).toEqual({ upperBoundMs: 250 });
    expect((await vswitch('status', '--api', api, '--token', TOKEN)).out).toMatch(/^h1 \(host\) vswitch 0\.0\.0-test/);
  });

  it("prints the problem's detail when the daemon refuses", async () => {
    const bad = await vswitch('rule', 'add', '--src', 'zz', '--dst', 'any', '--target', 'p2', '--api', api, '--token', TOKEN);
    expect(bad.error).toMatchObject({ code: 'api-client', status: 400 });
    expect(bad.error!.message).toContain('/body/src');
    const ro = await vswitch('config-time', 'set', '9', '--api', api, '--token', VIEWER);
    expect(ro.error).toMatchObject({ status: 403 });
    const none = await vswitch('rule', 'list', '--api', api);
    expect(none.error).toMatchObject({ status: 401 });
    const missing = await vswitch('rule', 'del', '77', '--api', api, '--token', TOKEN);
    expect(missing.error).toMatchObject({ status: 404 });
  });

  it('--host sends to /v1/hosts/NAME/… (404 not the proxy on a host)', async () => {
    const res = await vswitch('rule', 'list', '--host', 'h2', '--api', api, '--token', TOKEN);
    expect(res.error).toMatchObject({ status: 404 });
    expect((res.error!.problem as { code: string }).code).toBe('not-proxy');
  });

  it('bad usage is caught by the CLI before any request', async () => {
    const res = await vswitch('rule', 'add', '--src', 'any', '--api', api);
    expect(res.error).toMatchObject({ code: 'commander.missingMandatoryOptionValue' });
    const prio = await vswitch('rule', 'add', '--src', 'any', '--dst', 'any', '--target', 'x', '--priority', 'high', '--api', api);
    expect(prio.error).toMatchObject({ code: 'commander.invalidArgument' });
  });
});

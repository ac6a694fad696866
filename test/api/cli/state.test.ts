/**
 * `vswitch state show` against a daemon on a real state directory, and `vswitch state reset`: refused while the
 * daemon runs, then the journal set aside (a corrupt one too) so the next start is from the config alone.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../api/cli/common.js';
import { createProgram } from '../../../api/cli/program.js';
import { parseDaemonConfig } from '../../../daemon/config.js';
import { Daemon } from '../../../daemon/daemon.js';
import { ManualClock } from '../../../switch/clock.js';
import { createLogger } from '../../../switch/log.js';
import { MemoryPort } from '../../../switch/port/memory-port.js';
import { JournalStore } from '../../../switch/state/journal-store.js';
import type { StateView } from '../../../api/wire/schemas.js';

const running: { daemon: Daemon; store: JournalStore }[] = [];
afterEach(async () => {
  while (running.length) {
    const { daemon, store } = running.pop()!;
    await daemon.stop();
    await store.close();
  }
});

async function startOn(stateDir: string, socket: string): Promise<{ daemon: Daemon; store: JournalStore; configFile: string }> {
  const configFile = join(stateDir, '..', 'h1.yaml');
  const text = `name: h1\nstateDir: ${stateDir}\napi: { listen: "unix:${socket}" }\nports:\n  - { name: p1, type: tap }\n  - { name: p2, type: tap }\n`;
  writeFileSync(configFile, text);
  const store = await JournalStore.open({ dir: stateDir });
  const daemon = await Daemon.start(parseDaemonConfig(text, configFile), {
    clock: new ManualClock(),
    log: createLogger({ write: () => {} }),
    specText: readFileSync(new URL('../../../openapi.yaml', import.meta.url), 'utf8'),
    version: '0.0.0-test',
    openPort: (c: { name: string }) => new MemoryPort(c.name),
    state: store,
  });
  running.push({ daemon, store });
  return { daemon, store, configFile };
}

async function vswitch(...args: string[]): Promise<{ out: string; error?: { code?: string; message: string } }> {
  const out: string[] = [];
  const io: CliIo = { out: (t) => out.push(t), err: () => {}, nowMs: () => Date.UTC(2030, 0, 2, 3, 4, 5) };
  try {
    await createProgram(io).parseAsync(['node', 'vswitch', ...args]);
    return { out: out.join('\n') };
  } catch (e) {
    return { out: out.join('\n'), error: e as { code?: string; message: string } };
  }
}

describe('vswitch state', () => {
  it('show: what is saved and where each thing comes from, as a table and as JSON', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vswitch-cli-state-'));
    const api = `unix:${join(root, 'api.sock')}`;
    const { daemon } = await startOn(join(root, 'state'), join(root, 'api.sock'));
    await daemon.primitives.addRule({ src: 'any', dst: '02:00:00:00:00:0b', target: 'p2', priority: 3 }, { name: 'ops' });
    await daemon.primitives.setConfigTimeBound(1500, { name: 'ops' });
    await daemon.primitives.addPort({ name: 'vm-a', type: 'tap' }, { name: 'ops' });
    const table = await vswitch('state', 'show', '--api', api);
    expect(table.error).toBeUndefined();
    const lines = table.out.split('\n');
    expect(lines[0]).toBe(`${join(root, 'state', 'state.journal')}: 4 records, ${(JSON.parse((await vswitch('state', 'show', '--api', api, '--json')).out) as StateView).bytes} bytes, 3 entries since the last compaction`);
    expect(lines.slice(2).map((l) => l.split(/\s+/).slice(0, 4).join(' '))).toEqual([
      'KIND KEY FROM STATUS',
      'port p1 config active',
      'port p2 config active',
      'rule 1 state active',
      'rule-ids next state active',
      'config-time bound state active',
      'port vm-a state active',
    ]);
    const json = JSON.parse((await vswitch('state', 'show', '--api', api, '--json')).out) as StateView;
    expect(json).toMatchObject({ persistent: true, dir: join(root, 'state'), records: 4 });
    expect(json.items).toContainEqual({ kind: 'port', key: 'vm-a', from: 'state', status: 'active', value: { type: 'tap', mtu: 1500, owner: 'ops' } });
    expect(json.items[2]).toEqual({ kind: 'rule', key: '1', from: 'state', status: 'active', value: { src: 'any', dst: '02:00:00:00:00:0b', target: 'p2', priority: 3, owner: 'ops' } });
  });

  it('reset: refused while the daemon runs; then the journal is set aside (also a corrupt one) and the next start is from the config', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vswitch-cli-state-'));
    const stateDir = join(root, 'state');
    const { daemon, store, configFile } = await startOn(stateDir, join(root, 'api.sock'));
    await daemon.primitives.addRule({ src: 'any', dst: '02:00:00:00:00:0b', target: 'p2' }, { name: 'ops' });
    const refused = await vswitch('state', 'reset', '--state-dir', stateDir);
    expect(refused.error).toMatchObject({ code: 'state-locked', message: expect.stringContaining(`the daemon (process ${process.pid}) is running on this state: stop it first`) });
    running.pop();
    await daemon.stop();
    await store.close();

    const done = await vswitch('state', 'reset', '-c', configFile);
    expect(done.error).toBeUndefined();
    expect(done.out).toBe(`state reset: ${join(stateDir, 'state.journal')}.reset-2030-01-02T03-04-05-000Z set aside (2 records); the daemon starts from its config alone`);
    const again = await startOn(stateDir, join(root, 'api.sock'));
    expect(await again.daemon.primitives.rules()).toEqual([]);
    running.pop();
    await again.daemon.stop();
    await again.store.close();

    // A journal the daemon will not start on: reset is the way out, and says what was wrong with it.
    writeFileSync(join(stateDir, 'state.journal'), '00000000 {"format":"vswitch-state"}\n');
    await expect(startOn(stateDir, join(root, 'api.sock'))).rejects.toMatchObject({ code: 'state-corrupt' });
    const corrupt = JSON.parse((await vswitch('state', 'reset', '--state-dir', stateDir, '--json')).out) as { unreadable?: string };
    expect(corrupt.unreadable).toMatch(/checksum mismatch/);
    expect(readdirSync(stateDir).filter((f) => f.startsWith('state.journal.reset-')).sort()).toEqual(['state.journal.reset-2030-01-02T03-04-05-000Z', 'state.journal.reset-2030-01-02T03-04-05-000Z-2']);
    expect((await vswitch('state', 'reset', '--state-dir', stateDir)).out).toBe(`${stateDir}: no saved state: nothing to reset`);
  });
});

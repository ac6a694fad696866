/** `vswitch plugins …` against a real Proxy (in-memory overlay): list, show, disable, enable, remove. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRequest } from '../../../api/cli/client.js';
import type { CliIo } from '../../../api/cli/common.js';
import { createProgram } from '../../../api/cli/program.js';
import { startMemoryOverlay, type MemoryOverlay } from '../../support/memory-overlay.js';

let overlay: MemoryOverlay;
beforeAll(async () => {
  overlay = await startMemoryOverlay({ hosts: ['h1', 'h2'], proxyYaml: 'vttif: { updateRateHz: 20 }' });
}, 20_000);
afterAll(async () => overlay.stop());

async function vswitch(...args: string[]): Promise<{ out: string; error?: { message: string } }> {
  const out: string[] = [];
  const io: CliIo = { out: (t) => out.push(t), err: () => {}, nowMs: () => 0 };
  try {
    await createProgram(io).parseAsync(['node', 'vswitch', ...args, '--api', overlay.api.base]);
    return { out: out.join('\n') };
  } catch (e) {
    return { out: out.join('\n'), error: e as { message: string } };
  }
}

describe('vswitch plugins', () => {
  it('lists the built-ins and a registered policy', async () => {
    await apiRequest(overlay.api, 'POST', '/v1/plugins', { name: 'pin', events: ['host'] });
    const { out, error } = await vswitch('plugins');
    expect(error).toBeUndefined();
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^PLUGIN\s+KIND\s+STATE/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 3).join(' '))).toEqual(['vttif builtin running', 'fastpath builtin disabled', 'pin http (sse)']);
    const json = JSON.parse((await vswitch('plugins', 'list', '--json')).out) as { plugins: { name: string }[] };
    expect(json.plugins.map((p) => p.name)).toEqual(['vttif', 'fastpath', 'pin']);
  });

  it('enables and disables a plugin, shows one, removes a policy', async () => {
    const enabled = await vswitch('plugins', 'enable', 'fastpath');
    expect(enabled.error).toBeUndefined();
    expect(enabled.out).toBe('plugin fastpath: running');
    expect(JSON.parse((await vswitch('plugins', 'show', 'fastpath')).out)).toMatchObject({ name: 'fastpath', enabled: true, status: { settings: { enabled: true } } });
    expect((await vswitch('plugins', 'disable', 'fastpath')).out).toBe('plugin fastpath: disabled');
    expect((await vswitch('plugins', 'disable', 'vttif')).out).toBe('plugin vttif: disabled');
    expect((await vswitch('plugins', 'enable', 'vttif')).out).toBe('plugin vttif: running');
    expect((await vswitch('plugins', 'remove', 'pin')).out).toBe('plugin pin: removed');
    expect((await vswitch('plugins', 'show', 'pin')).error?.message).toContain('plugin "pin" does not exist');
    expect((await vswitch('plugins', 'remove', 'vttif')).error?.message).toContain('disable it instead');
  });
});

/**
 * The example in-process module (examples/log-events/plugin.mjs) loaded by a Proxy from its config, on the memory
 * overlay: it runs under its own actor, takes host and link events, and counts them in its status.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { apiRequest } from '../../api/cli/client.js';
import type { components } from '../../api/generated/openapi.js';
import { loadPluginModule } from '../../plugins/host/module-loader.js';
import { startMemoryOverlay, type MemoryOverlay } from '../support/memory-overlay.js';

type Plugin = components['schemas']['Plugin'];
const MODULE = join(import.meta.dirname, '../../examples/log-events/plugin.mjs');

let overlay: MemoryOverlay | undefined;
afterEach(async () => {
  await overlay?.stop();
  overlay = undefined;
});

describe('examples/log-events', () => {
  it('is a valid plugin module: its factory gives a plugin with the events asked for', async () => {
    const plugin = await loadPluginModule({ name: 'log-events', module: MODULE, enabled: true, options: { events: ['host'] } });
    expect(plugin.events).toEqual(['host']);
    await expect(loadPluginModule({ name: 'log-events', module: MODULE, enabled: true, options: { events: ['nope'] } })).rejects.toThrow(/options.events/);
  });

  it('runs on the Proxy from its config and counts the events it takes', async () => {
    overlay = await startMemoryOverlay({ proxyYaml: `plugins:\n  - { name: log-events, module: ${MODULE} }` });
    const status = async (): Promise<Record<string, unknown>> => (await apiRequest<Plugin>(overlay!.api, 'GET', '/v1/plugins/log-events')).status ?? {};
    await overlay!.until(async () => ((await status())['counts'] as Record<string, number>)['host']! >= 2, 4000, 'host events counted');
    const view = await apiRequest<Plugin>(overlay.api, 'GET', '/v1/plugins/log-events');
    expect(view).toMatchObject({ kind: 'module', state: 'running', actor: 'policy:log-events', events: ['host', 'link', 'app-topology'] });
    const s = await status();
    expect(s['total']).toBeGreaterThanOrEqual(2);
    expect(typeof s['lastSeq']).toBe('number');
  }, 15_000);
});

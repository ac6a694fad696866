/**
 * In-process plugin modules named in the Proxy's config: loaded at start (a broken one stops the start with a
 * message naming it), given the events they take, acting under their own actor; one that throws on every event is
 * marked failed after MAX_CONSECUTIVE_ERRORS and the switch is unaffected.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { apiRequest } from '../../../api/cli/client.js';
import type { components } from '../../../api/generated/openapi.js';
import { loadPluginModule } from '../../../plugins/host/module-loader.js';
import { MAX_CONSECUTIVE_ERRORS } from '../../../plugins/host/in-process-entry.js';
import { parseDaemonConfig } from '../../../daemon/config.js';
import { startMemoryOverlay, vmMac, type MemoryOverlay } from '../../support/memory-overlay.js';

type Plugin = components['schemas']['Plugin'];

let overlay: MemoryOverlay | undefined;
afterEach(async () => {
  await overlay?.stop();
  overlay = undefined;
});

const dir = mkdtempSync(join(tmpdir(), 'vswitch-modules-'));
function moduleFile(name: string, source: string): string {
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, source);
  return file;
}

const RECORDER = moduleFile(
  'recorder',
  `export function createPlugin(options) {
    const seen = [];
    let ctx;
    return {
      events: ['host', 'link'],
      description: 'records what it hears',
      start(c) { ctx = c; },
      stop() {},
      async onEvent(e) {
        seen.push(e.type + ':' + (e.host?.name ?? e.link?.name));
        if (e.type === 'host' && e.host.name === 'h1' && options.addRule) {
          await ctx.host('h1').addRule({ src: '${vmMac('h1')}', dst: '${vmMac('h2')}', target: 'proxy', priority: 7 }, { name: 'someone-else' });
        }
      },
      status() { return { seen: seen.length, last: seen.at(-1) ?? null }; },
    };
  }`,
);
const THROWER = moduleFile('thrower', `export default () => ({ events: ['link', 'host'], start() {}, stop() {}, onEvent() { throw new Error('boom'); } });`);

describe('plugin modules', () => {
  it('runs a module from the config, under its own actor, with the events it takes', async () => {
    overlay = await startMemoryOverlay({ proxyYaml: `plugins:\n  - { name: recorder, module: ${RECORDER}, options: { addRule: true } }` });
    await overlay!.until(async () => ((await apiRequest<Plugin>(overlay!.api, 'GET', '/v1/plugins/recorder')).status?.['seen'] as number) >= 3, 4000, 'events seen');
    const view = await apiRequest<Plugin>(overlay.api, 'GET', '/v1/plugins/recorder');
    expect(view).toMatchObject({ kind: 'module', state: 'running', actor: 'policy:recorder', events: ['host', 'link'], description: 'records what it hears' });
    // The rule it added carries its actor, whatever actor it claimed.
    await overlay!.until(async () => (await overlay!.hosts.get('h1')!.primitives.rules()).some((r) => r.owner === 'proxy:policy:recorder'), 3000, 'rule owned');
    expect((await apiRequest<Plugin>(overlay.api, 'GET', '/v1/plugins/recorder')).owns.rules).toBe(1);
    // Disabling removes it; the list shows built-ins too.
    await apiRequest(overlay.api, 'PATCH', '/v1/plugins/recorder', { enabled: false });
    expect((await overlay.hosts.get('h1')!.primitives.rules()).map((r) => r.owner)).toEqual(['star']);
    const names = (await apiRequest<{ plugins: Plugin[] }>(overlay.api, 'GET', '/v1/plugins')).plugins.map((p) => `${p.name}:${p.kind}`);
    expect(names).toEqual(['vttif:builtin', 'fastpath:builtin', 'recorder:module']);
    expect(await apiRequest(overlay.api, 'DELETE', '/v1/plugins/recorder').catch((e: { status: number }) => e.status)).toBe(409);
  }, 15_000);

  it('marks a module that keeps throwing as failed; the overlay goes on', async () => {
    overlay = await startMemoryOverlay({ proxyYaml: `plugins:\n  - { name: thrower, module: ${THROWER} }` });
    // Hosts joining and links coming up are events; an operator adding and deleting links on h1 makes more.
    const h1 = overlay.hosts.get('h1')!;
    for (let i = 0; i < 6 && (await apiRequest<Plugin>(overlay.api, 'GET', '/v1/plugins/thrower')).state !== 'failed'; i++) {
      const errors = (await apiRequest<Plugin>(overlay.api, 'GET', '/v1/plugins/thrower')).counters.errors;
      await h1.primitives.addLink({ name: `x${i}`, publicKey: overlay.pub('h2'), endpoint: '198.18.0.2:51820' }, { name: 'local' });
      await overlay!.until(async () => (await apiRequest<Plugin>(overlay!.api, 'GET', '/v1/plugins/thrower')).counters.errors > errors, 3000, 'an error');
      await h1.primitives.deleteLink(`x${i}`, { name: 'local' });
    }
    await overlay!.until(async () => (await apiRequest<Plugin>(overlay!.api, 'GET', '/v1/plugins/thrower')).state === 'failed', 5000, 'failed');
    const view = await apiRequest<Plugin>(overlay.api, 'GET', '/v1/plugins/thrower');
    expect(view.counters.errors).toBe(MAX_CONSECUTIVE_ERRORS);
    expect(view.lastError).toContain('boom');
    expect(overlay.proxy.linkStatuses().every((l) => l.state === 'up')).toBe(true);
    // Re-enabling gives it another chance.
    const again = await apiRequest<Plugin>(overlay.api, 'PATCH', '/v1/plugins/thrower', { enabled: true });
    expect(again.state).toBe('running');
  }, 15_000);

  it('refuses a module that cannot load, saying which and why', async () => {
    const base = { name: 'p', enabled: true, options: {} };
    await expect(loadPluginModule({ ...base, module: join(dir, 'missing.mjs') })).rejects.toMatchObject({ code: 'plugin-load', message: expect.stringContaining('cannot import it') });
    const noFactory = moduleFile('nofactory', 'export const x = 1;');
    await expect(loadPluginModule({ ...base, module: noFactory })).rejects.toMatchObject({ message: expect.stringContaining('exports no plugin factory') });
    const badEvents = moduleFile('badevents', `export default () => ({ events: ['everything'], start() {}, stop() {} });`);
    await expect(loadPluginModule({ ...base, module: badEvents })).rejects.toMatchObject({ message: expect.stringContaining('unknown event type "everything"') });
    const throws = moduleFile('throws', `export function createPlugin() { throw new Error('no config'); }`);
    await expect(loadPluginModule({ ...base, module: throws })).rejects.toMatchObject({ message: expect.stringContaining('its factory threw: no config') });
  });

  it('reads plugins from the config: paths relative to the file, Proxy only, names checked', () => {
    const config = parseDaemonConfig('name: p\nrole: proxy\nplugins:\n  - { name: rec, module: ./rec.mjs, options: { a: [1, 2] } }\n', '/etc/vswitch/proxy.yaml');
    expect(config.plugins).toEqual([{ name: 'rec', module: '/etc/vswitch/rec.mjs', enabled: true, options: { a: [1, 2] } }]);
    expect(() => parseDaemonConfig('name: h\nplugins:\n  - { name: rec, module: ./rec.mjs }\n', 'h.yaml')).toThrow(/plugins: plugins run on the Proxy/);
    expect(() => parseDaemonConfig('name: p\nrole: proxy\nplugins:\n  - { name: fastpath, module: ./x.mjs }\n', 'p.yaml')).toThrow(/built-in plugin's name/);
    expect(() => parseDaemonConfig('name: p\nrole: proxy\nplugins:\n  - { name: a, module: ./x.mjs, options: 3 }\n', 'p.yaml')).toThrow(/options: must be a mapping/);
    expect(() => parseDaemonConfig('name: p\nrole: proxy\nplugins:\n  - { name: a, modul: ./x.mjs }\n', 'p.yaml')).toThrow(/modul/);
  });
});

/**
 * The daemon restarts on its saved state (a MemoryStateStore kept across Daemon.stop/start, the overlay in memory):
 * every kind of record comes back as it was (links with owners, rules under their ids, the config-time bound, config
 * links deleted at run time, VTTIF's parameters, the fast-path settings, plugins' enabled states, HTTP policies with
 * their token digests); what the built-in fast path owns is not replayed; the config file wins where it changed
 * since, and says so; a change that cannot be saved is not made; a saved record that does not decode stops the start.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { apiRequest } from '../../api/cli/client.js';
import type { StateView } from '../../api/wire/schemas.js';
import { encodeKeyBase64, generatePrivateKey, publicKey } from '../../switch/link/noise/crypto.js';
import { MemoryStateStore } from '../../switch/state/memory-state-store.js';
import type { StateStore } from '../../switch/state/state-store.js';
import type { VttifParts } from '../../plugins/vttif/daemon-plugin.js';
import type { FastPath } from '../../plugins/fastpath/fastpath.js';
import { startMemoryOverlay, vmMac, type MemoryOverlay } from '../support/memory-overlay.js';
import type { Daemon } from '../../daemon/daemon.js';

let overlay: MemoryOverlay | undefined;
let stores: Map<string, MemoryStateStore>;
afterEach(async () => {
  await overlay?.stop();
  overlay = undefined;
});

async function start(options: Parameters<typeof startMemoryOverlay>[0] = {}): Promise<MemoryOverlay> {
  stores = new Map();
  overlay = await startMemoryOverlay({
    hosts: ['h1', 'h2'],
    ...options,
    state: (name): StateStore => {
      const store = new MemoryStateStore();
      stores.set(name, store);
      return store;
    },
  });
  return overlay;
}

let seed = 7;
const someKey = (): string => encodeKeyBase64(publicKey(generatePrivateKey((n) => Uint8Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) >>> 0) & 0xff))));
const ops = { name: 'ops' };
const links = (d: Daemon) => d.primitives.linksNow().map((l) => ({ name: l.name, owner: l.owner, publicKey: l.publicKey, mode: l.mode })).sort((a, b) => a.name.localeCompare(b.name));
const rules = async (d: Daemon) => (await d.primitives.rules()).map(({ hitBytes: _b, hitFrames: _f, ...r }) => r).sort((a, b) => a.id - b.id);

describe('a daemon restarted on its saved state', () => {
  it('a host: links and rules come back as they were (owners, ids, keys), the config-time bound too; the fast path\'s do not', async () => {
    const { hosts } = await start();
    const h1 = hosts.get('h1')!;
    const x1 = someKey();
    await h1.primitives.addLink({ name: 'x1', publicKey: x1, endpoint: '198.18.0.77:51820', transport: 'udp', persistentKeepaliveS: 5 }, ops);
    await h1.primitives.addLink({ name: 'x2', publicKey: someKey(), tcpEndpoint: '198.18.0.78:443', transport: 'tcp' }, { name: 'proxy:policy:pin' });
    const r1 = await h1.primitives.addRule({ src: 'any', dst: vmMac('h2'), target: 'x1', priority: 5 }, ops);
    const r2 = await h1.primitives.addRule({ src: vmMac('h1'), dst: 'any', target: 'tap-h1v1' }, ops);
    await h1.primitives.addRule({ src: vmMac('h1'), dst: vmMac('h2'), target: 'x2' }, { name: 'proxy:policy:pin' });
    const fast = await h1.primitives.addRule({ src: vmMac('h2'), dst: vmMac('h1'), target: 'x1' }, { name: 'proxy:fastpath' });
    await h1.primitives.addLink({ name: 'fp-h2', publicKey: someKey(), endpoint: '198.18.0.2:51820' }, { name: 'proxy:fastpath' });
    await h1.primitives.deleteRule(r2.id, ops);
    await h1.primitives.setConfigTimeBound(700, ops);
    const before = { links: links(h1).filter((l) => l.name !== 'fp-h2'), rules: (await rules(h1)).filter((r) => r.id !== fast.id) };

    const again = await overlay!.restart('h1');
    expect(links(again)).toEqual(before.links);
    expect(again.primitives.linksNow().find((l) => l.name === 'x1')).toMatchObject({ endpoint: 'udp:198.18.0.77:51820', mode: 'udp' });
    const restored = await rules(again);
    // The star's default rule is the config's (a new id each start); the saved rules keep theirs.
    expect(restored.filter((r) => r.owner !== 'star')).toEqual(before.rules.filter((r) => r.owner !== 'star'));
    expect(restored.find((r) => r.owner === 'star')).toMatchObject({ src: 'any', dst: 'none', target: 'proxy' });
    expect(restored.find((r) => r.owner === 'star')!.id).toBeGreaterThan(fast.id);
    expect(await again.primitives.configTimeBound()).toEqual({ upperBoundMs: 700 });
    // No id is given twice, not even a deleted rule's.
    const next = await again.primitives.addRule({ src: 'any', dst: vmMac('h1'), target: 'tap-h1v1' }, ops);
    expect(next.id).toBeGreaterThan(Math.max(r1.id, r2.id, fast.id));
    // Nothing was written for what the fast path owns (only the id mark moved on for its rule).
    expect(stores.get('h1')!.saved.kind('link').has('fp-h2')).toBe(false);
    expect(stores.get('h1')!.saved.kind('rule').has(String(fast.id))).toBe(false);
  });

  it('a config link deleted at run time stays deleted; the config wins once its peer changes; a saved link whose name the config now uses is skipped and reported', async () => {
    const { hosts } = await start({ hostPeersYaml: (h, pub) => (h === 'h1' ? `  - { name: direct, publicKey: "${pub('h2')}", endpoint: "198.18.0.2:51820" }\n` : '') });
    const h1 = hosts.get('h1')!;
    await h1.primitives.deleteLink('direct', ops);
    await h1.primitives.addLink({ name: 'x1', publicKey: someKey(), endpoint: '198.18.0.77:51820' }, ops);
    let again = await overlay!.restart('h1');
    expect(links(again).map((l) => l.name)).toEqual(['proxy', 'x1']);
    expect(again.stateView().items).toEqual(expect.arrayContaining([
      { kind: 'link', key: 'proxy', from: 'config', status: 'active' },
      expect.objectContaining({ kind: 'config-link-deleted', key: 'direct', from: 'state', status: 'active' }),
      expect.objectContaining({ kind: 'link', key: 'x1', from: 'state', status: 'active', value: expect.objectContaining({ owner: 'ops' }) }),
    ]));

    // The config now gives "direct" another key and names a new peer "x1": the config wins, twice, and says so.
    const otherKey = someKey();
    again = await overlay!.restart('h1', (text) => text.replace(/name: direct, publicKey: "[^"]+"/, `name: direct, publicKey: "${otherKey}"`) + `  - { name: x1, publicKey: "${someKey()}", endpoint: "198.18.0.79:51820" }\n`);
    expect(links(again).map((l) => l.name)).toEqual(['direct', 'proxy', 'x1']);
    expect(links(again).find((l) => l.name === 'x1')!.owner).toBe('config');
    const skipped = again.stateView().items.filter((i) => i.status === 'skipped');
    expect(skipped).toEqual([
      { kind: 'config-link-deleted', key: 'direct', from: 'state', status: 'skipped', reason: expect.stringContaining('another key now') },
      { kind: 'link', key: 'x1', from: 'state', status: 'skipped', reason: expect.stringContaining('the config now has a peer named "x1"') },
    ]);
    // Skipped changes left the state: a third start says nothing more about them.
    expect([...stores.get('h1')!.saved.kind('link').keys()]).toEqual([]);
    again = await overlay!.restart('h1');
    expect(again.stateView().items.filter((i) => i.status === 'skipped')).toEqual([]);
  });

  it('the Proxy: VTTIF parameters, fast-path settings, enabled states and an HTTP policy (token digest only) come back; the config wins for a field it changed', async () => {
    const { api } = await start({ proxyYaml: 'vttif: { updateRateHz: 20, threshold: 0.1 }\nfastpath: { enabled: false, maxLinksPerHost: 7 }' });
    const vttif = () => overlay!.proxy.pluginExports('vttif') as VttifParts;
    const fastpath = () => overlay!.proxy.pluginExports('fastpath') as FastPath;
    await apiRequest(api, 'PUT', '/v1/vttif/parameters', { updateRateHz: 10, threshold: 0.3 });
    await apiRequest(api, 'PUT', '/v1/plugins/fastpath/settings', { maxLinksPerHost: 3, removeAfterMs: 5000, enabled: true });
    await apiRequest(api, 'PATCH', '/v1/plugins/vttif', { enabled: false });
    const { token } = await apiRequest<{ token: string }>(api, 'POST', '/v1/plugins', { name: 'pin', events: ['host'], leaseSeconds: 600 });
    await apiRequest({ ...api, token }, 'POST', '/v1/hosts/h1/rules', { src: vmMac('h1'), dst: vmMac('h2'), target: 'proxy' });
    const saved = JSON.stringify(stores.get('proxy')!.saved.records());
    expect(saved).not.toContain(token);

    await overlay!.restart('proxy');
    expect(vttif().service!.settings()).toMatchObject({ updateRateHz: 10, threshold: 0.3 });
    expect(fastpath().settings()).toMatchObject({ enabled: true, maxLinksPerHost: 3, removeAfterMs: 5000, maxLinks: 1000 });
    const plugins = await apiRequest<{ plugins: { name: string; enabled: boolean; kind: string; state: string }[] }>(api, 'GET', '/v1/plugins');
    expect(plugins.plugins.map((p) => [p.name, p.enabled])).toEqual([['vttif', false], ['fastpath', true], ['pin', true]]);
    // The policy's token still works (its digest was saved), and what it owns on h1 is still its own.
    const owned = await apiRequest<{ rules: { owner: string }[] }>({ ...api, token }, 'GET', '/v1/hosts/h1/rules');
    expect(owned.rules.map((r) => r.owner)).toContain('proxy:policy:pin');
    await apiRequest({ ...api, token }, 'DELETE', '/v1/plugins/pin');
    expect(stores.get('proxy')!.saved.kind('policy').size).toBe(0);

    // The config file now says threshold 0.2 and maxLinksPerHost 5: its word wins for those fields (reported, and
    // dropped from the state), the other saved fields stay.
    const again = await overlay!.restart('proxy', (text) => text.replace('threshold: 0.1', 'threshold: 0.2').replace('maxLinksPerHost: 7', 'maxLinksPerHost: 5'));
    expect(vttif().service!.settings()).toMatchObject({ updateRateHz: 10, threshold: 0.2 });
    expect(fastpath().settings()).toMatchObject({ enabled: true, maxLinksPerHost: 5, removeAfterMs: 5000 });
    expect(stores.get('proxy')!.saved.get('fastpath', 'settings')).toEqual({ removeAfterMs: { value: 5000, base: 10_000 } });
    expect(stores.get('proxy')!.saved.get('vttif', 'parameters')).toEqual({ updateRateHz: { value: 10, base: 20 } });
    const view = await apiRequest<StateView>(api, 'GET', '/v1/state');
    expect(view.items).toContainEqual({ kind: 'vttif', key: 'parameters.threshold', from: 'state', status: 'skipped', reason: expect.stringContaining('the config wins') });
    expect(view.items).toContainEqual({ kind: 'fastpath', key: 'settings.maxLinksPerHost', from: 'state', status: 'skipped', reason: expect.stringContaining("the config's maxLinksPerHost is now 5") });
    expect(again.stateView().items).toContainEqual(expect.objectContaining({ kind: 'vttif', key: 'parameters', status: 'active', value: { updateRateHz: { value: 10, base: 20 } } }));
  });

  it('a change the state cannot save is not made, and the API says 503 state-unavailable', async () => {
    const { hosts, api } = await start({ proxyYaml: 'vttif: { threshold: 0.1 }' });
    const h1 = hosts.get('h1')!;
    const rule = await h1.primitives.addRule({ src: 'any', dst: vmMac('h2'), target: 'tap-h1v1' }, ops);
    const before = { links: links(h1), rules: await rules(h1) };
    stores.get('h1')!.failWrites(new Error('ENOSPC: no space left on device'));
    stores.get('proxy')!.failWrites(new Error('EIO: i/o error'));
    const refused = { code: 'state-unavailable', httpStatus: 503 };
    await expect(h1.primitives.addLink({ name: 'x1', publicKey: someKey(), endpoint: '198.18.0.77:51820' }, ops)).rejects.toMatchObject(refused);
    await expect(h1.primitives.addRule({ src: 'any', dst: vmMac('h1'), target: 'tap-h1v1' }, ops)).rejects.toMatchObject(refused);
    await expect(h1.primitives.deleteRule(rule.id, ops)).rejects.toMatchObject(refused);
    await expect(h1.primitives.setConfigTimeBound(900, ops)).rejects.toMatchObject(refused);
    expect({ links: links(h1), rules: await rules(h1) }).toEqual(before);
    expect(await h1.primitives.configTimeBound()).toEqual({ upperBoundMs: 2000 });
    // Relayed: the host's refusal keeps its code.
    await expect(apiRequest(api, 'POST', '/v1/hosts/h1/rules', { src: 'any', dst: vmMac('h1'), target: 'tap-h1v1' })).rejects.toMatchObject({ status: 502, problem: { code: 'state-unavailable' } });
    // On the Proxy: VTTIF, the fast path, the registry.
    await expect(apiRequest(api, 'PUT', '/v1/vttif/parameters', { threshold: 0.5 })).rejects.toMatchObject({ status: 503, problem: { code: 'state-unavailable' } });
    expect((overlay!.proxy.pluginExports('vttif') as VttifParts).service!.settings().threshold).toBe(0.1);
    await expect(apiRequest(api, 'PUT', '/v1/plugins/fastpath/settings', { maxLinksPerHost: 2 })).rejects.toMatchObject({ status: 503 });
    expect((overlay!.proxy.pluginExports('fastpath') as FastPath).settings().maxLinksPerHost).toBe(7);
    await expect(apiRequest(api, 'POST', '/v1/plugins', { name: 'pin', events: ['host'] })).rejects.toMatchObject({ status: 503 });
    await expect(apiRequest(api, 'PATCH', '/v1/plugins/vttif', { enabled: false })).rejects.toMatchObject({ status: 503 });
    const plugins = await apiRequest<{ plugins: { name: string; enabled: boolean }[] }>(api, 'GET', '/v1/plugins');
    expect(plugins.plugins.map((p) => [p.name, p.enabled])).toEqual([['vttif', true], ['fastpath', false]]);
  });

  it('refuses to start on a saved record that does not decode, naming the record and the field', async () => {
    await start();
    await stores.get('h1')!.write([{ kind: 'link', key: 'x9', value: { publicKey: 'not-a-key', transport: 'udp', owner: 'ops' } }]);
    await expect(overlay!.restart('h1')).rejects.toMatchObject({ code: 'state-corrupt', where: 'link "x9"', problem: expect.stringMatching(/^publicKey: /) });
    // The failed start left nothing running: remove the bad record and it starts.
    await stores.get('h1')!.write([{ kind: 'link', key: 'x9', value: null }]);
  });
});

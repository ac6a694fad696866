/**
 * Third-party policies over HTTP against real Daemons (a Proxy and three hosts over in-memory transports): a policy
 * registers, reads its events over SSE, acts through the relayed primitives with its own token, owns what it adds
 * (409 for the rest, 403 outside the primitives), is rate-limited, disabled (its belongings go), unregistered, and
 * expired when its lease runs out. Webhook delivery is signed; a webhook that never answers stalls nothing.
 */
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { apiRequest, type ApiClientOptions } from '../../../api/cli/client.js';
import { readEventStream } from '../../../api/wire/sse.js';
import type { components } from '../../../api/generated/openapi.js';
import { ethernetFrame } from '../../support/frames.js';
import { startMemoryOverlay, vmMac, type MemoryOverlay } from '../../support/memory-overlay.js';
import { moveVm } from '../../support/move-vm.js';

type Plugin = components['schemas']['Plugin'];
type PluginEvent = components['schemas']['PluginEvent'];

let overlay: MemoryOverlay | undefined;
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
  await overlay?.stop();
  overlay = undefined;
});

async function register(body: Record<string, unknown>): Promise<{ token: string; as: ApiClientOptions; view: Plugin }> {
  const view = await apiRequest<Plugin & { token: string }>(overlay!.api, 'POST', '/v1/plugins', body);
  return { token: view.token, as: { ...overlay!.api, token: view.token }, view };
}

/** Reads the policy's SSE stream in the background; events land in the returned array. */
function stream(as: ApiClientOptions, name: string): { events: { name: string; data: unknown }[] } {
  const events: { name: string; data: unknown }[] = [];
  const abort = new AbortController();
  void readEventStream(as, `/v1/plugins/${name}/events`, (n, data) => void events.push({ name: n, data: JSON.parse(data) }), abort.signal);
  cleanups.push(() => abort.abort());
  return { events };
}

const status = (p: Promise<unknown>) => p.then(() => 200, (e: { status?: number }) => e.status);

describe('an HTTP policy', () => {
  it('registers, gets its events, acts as itself through the primitives, and owns only what it adds', async () => {
    overlay = await startMemoryOverlay();
    const { proxy, hosts, pub, address } = overlay;
    const { as, view } = await register({ name: 'pin', events: ['host', 'link'], description: 'test policy' });
    expect(view).toMatchObject({ name: 'pin', kind: 'http', state: 'waiting', actor: 'policy:pin', enabled: true });

    const { events } = stream(as, 'pin');
    await overlay!.until(() => events.filter((e) => e.name === 'host').length === 3, 2000, 'three host joined events');
    expect(events[0]).toMatchObject({ name: 'hello', data: { name: 'pin', state: 'running' } });
    expect(events.filter((e) => e.name === 'host').map((e) => (e.data as PluginEvent).host)).toEqual(
      expect.arrayContaining([{ name: 'h1', change: 'joined' }, { name: 'h2', change: 'joined' }, { name: 'h3', change: 'joined' }]),
    );

    // A direct link h1 ↔ h2 and a rule on h1, made with the policy's token: owned by the policy on the hosts.
    await apiRequest(as, 'POST', '/v1/hosts/h1/links', { name: 'pin-h2', publicKey: pub('h2'), endpoint: `${address('h2')}:51820`, persistentKeepaliveS: 1 });
    await apiRequest(as, 'POST', '/v1/hosts/h2/links', { name: 'pin-h1', publicKey: pub('h1'), endpoint: `${address('h1')}:51820`, persistentKeepaliveS: 1 });
    const rule = await apiRequest<{ id: number; owner: string }>(as, 'POST', '/v1/hosts/h1/rules', { src: vmMac('h1'), dst: vmMac('h2'), target: 'pin-h2' });
    expect(rule.owner).toBe('proxy:policy:pin');
    const h1 = hosts.get('h1')!;
    expect((await h1.primitives.links()).find((l) => l.name === 'pin-h2')).toMatchObject({ owner: 'proxy:policy:pin' });

    // The hosts report the new link, and its coming up, as link events.
    await overlay!.until(
      () => events.some((e) => e.name === 'link' && (e.data as PluginEvent).link?.host === 'h1' && (e.data as PluginEvent).link?.name === 'pin-h2' && (e.data as PluginEvent).link?.state === 'up'),
      4000,
      'link event for pin-h2 up',
    );
    const listed = await apiRequest<Plugin>(overlay.api, 'GET', '/v1/plugins/pin');
    expect(listed.owns).toEqual({ links: 2, rules: 1 });

    // Not its own: 409 naming the owner. Not a primitive: 403.
    const star = (await h1.primitives.rules()).find((r) => r.owner === 'star')!;
    const refused = await apiRequest(as, 'DELETE', `/v1/hosts/h1/rules/${star.id}`).catch((e: { status: number; message: string }) => e);
    expect(refused).toMatchObject({ status: 409 });
    expect((refused as { message: string }).message).toContain('"star"');
    expect(await status(apiRequest(as, 'DELETE', '/v1/hosts/h1/links/proxy'))).toBe(409);
    expect(await status(apiRequest(as, 'PUT', '/v1/config-time', { upperBoundMs: 5000 }))).toBe(403);
    expect(await status(apiRequest(as, 'PATCH', '/v1/plugins/pin', { enabled: false }))).toBe(403);
    expect(await status(apiRequest(as, 'POST', '/v1/plugins', { name: 'other', events: [] }))).toBe(403);
    // Its own: fine.
    await apiRequest(as, 'DELETE', `/v1/hosts/h1/rules/${rule.id}`);
    expect((await h1.primitives.rules()).some((r) => r.id === rule.id)).toBe(false);

    // Disabled by an operator: its links go, its token is refused; enabled again it hears the current state.
    await apiRequest(as, 'POST', '/v1/hosts/h1/rules', { src: vmMac('h1'), dst: vmMac('h2'), target: 'pin-h2' });
    const disabled = await apiRequest<Plugin>(overlay.api, 'PATCH', '/v1/plugins/pin', { enabled: false });
    expect(disabled).toMatchObject({ enabled: false, state: 'disabled', owns: { links: 0, rules: 0 } });
    expect((await h1.primitives.links()).map((l) => l.name)).toEqual(['proxy']);
    expect((await hosts.get('h2')!.primitives.links()).map((l) => l.name)).toEqual(['proxy']);
    expect((await h1.primitives.rules()).map((r) => r.owner)).toEqual(['star']);
    expect(await status(apiRequest(as, 'GET', '/v1/status'))).toBe(403);
    await apiRequest(overlay.api, 'PATCH', '/v1/plugins/pin', { enabled: true });
    expect(await status(apiRequest(as, 'GET', '/v1/status'))).toBe(200);

    // Unregistering itself removes what it owns; the token no longer works.
    await apiRequest(as, 'POST', '/v1/hosts/h3/rules', { src: vmMac('h3'), dst: vmMac('h1'), target: 'proxy', priority: 5 });
    await apiRequest(as, 'DELETE', '/v1/plugins/pin');
    expect((await hosts.get('h3')!.primitives.rules()).map((r) => r.owner)).toEqual(['star']);
    expect(await status(apiRequest(as, 'GET', '/v1/status'))).toBe(401);
    expect((await apiRequest<{ plugins: Plugin[] }>(overlay.api, 'GET', '/v1/plugins')).plugins.map((p) => p.name)).not.toContain('pin');
    expect(proxy.linkStatuses().every((l) => l.state === 'up')).toBe(true);
  }, 20_000);

  it('is refused with 429 and Retry-After when it floods the API, and the switch keeps switching', async () => {
    overlay = await startMemoryOverlay({ hosts: ['h1', 'h2'] });
    const { as } = await register({ name: 'flood', events: [] });
    const results = await Promise.all(Array.from({ length: 300 }, () => status(apiRequest(as, 'GET', '/v1/status'))));
    expect(results.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(results.filter((s) => s === 200).length).toBeGreaterThan(0);
    const view = await apiRequest<Plugin>(overlay.api, 'GET', '/v1/plugins/flood');
    expect(view.counters.rateLimited).toBe(results.filter((s) => s === 429).length);
    // Operators are not limited, and frames still cross the overlay.
    expect(await status(apiRequest(overlay.api, 'GET', '/v1/status'))).toBe(200);
    const before = overlay.ports.get('tap-h2v1')!.sent.length;
    overlay.ports.get('tap-h1v1')!.inject([ethernetFrame({ src: vmMac('h1'), dst: 'ff:ff:ff:ff:ff:ff', payloadBytes: 100 })]);
    await overlay!.until(() => overlay!.ports.get('tap-h2v1')!.sent.length > before, 2000, 'broadcast reaches h2');
  }, 20_000);

  it('expires when nothing is heard within its lease, and what it added goes', async () => {
    overlay = await startMemoryOverlay({ hosts: ['h1', 'h2'] });
    const { as } = await register({ name: 'brief', events: ['host'], leaseSeconds: 5 });
    await apiRequest(as, 'POST', '/v1/hosts/h1/rules', { src: vmMac('h1'), dst: vmMac('h2'), target: 'proxy', priority: 3 });
    const h1 = overlay.hosts.get('h1')!;
    expect((await h1.primitives.rules()).some((r) => r.owner === 'proxy:policy:brief')).toBe(true);
    await overlay!.until(async () => (await apiRequest<Plugin>(overlay!.api, 'GET', '/v1/plugins/brief')).state === 'expired', 9000, 'expired');
    await overlay!.until(async () => !(await h1.primitives.rules()).some((r) => r.owner === 'proxy:policy:brief'), 3000, 'rule removed');
    expect(await status(apiRequest(as, 'GET', '/v1/status'))).toBe(401);
    // Registering again (same caller) brings it back with a new token.
    const again = await register({ name: 'brief', events: ['host'] });
    expect(again.view.state).toBe('waiting');
  }, 20_000);

  it('re-registering the same name keeps what it owns; another caller, or a built-in name, gets 409', async () => {
    overlay = await startMemoryOverlay({ hosts: ['h1', 'h2'], proxyTokens: [{ name: 'ops', token: 'ops-token-0123456789' }, { name: 'dev', token: 'dev-token-0123456789' }] });
    const ops = { ...overlay.api, token: 'ops-token-0123456789' };
    const dev = { ...overlay.api, token: 'dev-token-0123456789' };
    const first = await apiRequest<{ token: string }>(ops, 'POST', '/v1/plugins', { name: 'keep', events: [] });
    await apiRequest({ ...overlay.api, token: first.token }, 'POST', '/v1/hosts/h1/rules', { src: vmMac('h1'), dst: vmMac('h2'), target: 'proxy', priority: 3 });
    const second = await apiRequest<{ token: string }>(ops, 'POST', '/v1/plugins', { name: 'keep', events: [] });
    expect(await status(apiRequest({ ...overlay.api, token: first.token }, 'GET', '/v1/status'))).toBe(401);
    const kept = await apiRequest<Plugin>(ops, 'GET', '/v1/plugins/keep');
    expect(kept.owns.rules).toBe(1);
    const rule = (await overlay.hosts.get('h1')!.primitives.rules()).find((r) => r.owner === 'proxy:policy:keep')!;
    await apiRequest({ ...overlay.api, token: second.token }, 'DELETE', `/v1/hosts/h1/rules/${rule.id}`);
    expect(await status(apiRequest(dev, 'POST', '/v1/plugins', { name: 'keep', events: [] }))).toBe(409);
    expect(await status(apiRequest(ops, 'POST', '/v1/plugins', { name: 'vttif', events: [] }))).toBe(409);
    expect(await status(apiRequest(ops, 'POST', '/v1/plugins', { name: 'Bad Name', events: [] }))).toBe(400);
    expect(await status(apiRequest(ops, 'POST', '/v1/plugins', { name: 'x', events: ['nope'] }))).toBe(400);
    expect(await status(apiRequest(ops, 'POST', '/v1/plugins', { name: 'x', events: [], delivery: { type: 'webhook', url: 'ftp://x' } }))).toBe(400);
  }, 20_000);

  it('gets signed webhook deliveries; a webhook that never answers stalls neither the API nor the switch', async () => {
    overlay = await startMemoryOverlay({ hosts: ['h1', 'h2'] });
    const received: { body: string; signature: string | undefined }[] = [];
    const hanging: Server = createServer(() => {}); // never answers
    const answering: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ body, signature: req.headers['x-vswitch-signature'] as string | undefined });
        res.writeHead(204).end();
      });
    });
    const listen = (s: Server) => new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as { port: number }).port)));
    const [hangPort, answerPort] = [await listen(hanging), await listen(answering)];
    cleanups.push(() => void hanging.closeAllConnections(), () => void hanging.close(), () => void answering.close());

    const hook = await register({ name: 'hook', events: ['host'], delivery: { type: 'webhook', url: `http://127.0.0.1:${answerPort}/events` } });
    await register({ name: 'stuck', events: ['host', 'link'], delivery: { type: 'webhook', url: `http://127.0.0.1:${hangPort}/events` } });
    await overlay!.until(() => received.length > 0, 3000, 'a webhook delivery');
    const first = received[0]!;
    expect(first.signature).toBe(`sha256=${createHmac('sha256', hook.token).update(first.body).digest('hex')}`);
    const events = (JSON.parse(first.body) as { events: PluginEvent[] }).events;
    expect(events.map((e) => e.host?.name).sort()).toEqual(['h1', 'h2']);
    await overlay!.until(async () => (await apiRequest<Plugin>(overlay!.api, 'GET', '/v1/plugins/hook')).state === 'running', 2000, 'hook running');

    // The stuck webhook: its delivery times out and is counted; meanwhile frames and API calls go on.
    const before = overlay.ports.get('tap-h2v1')!.sent.length;
    overlay.ports.get('tap-h1v1')!.inject([ethernetFrame({ src: vmMac('h1'), dst: 'ff:ff:ff:ff:ff:ff', payloadBytes: 100 })]);
    await overlay!.until(() => overlay!.ports.get('tap-h2v1')!.sent.length > before, 1000, 'switching during a hung webhook');
    expect(await status(apiRequest(overlay.api, 'GET', '/v1/status'))).toBe(200);
    await overlay!.until(async () => (await apiRequest<Plugin>(overlay!.api, 'GET', '/v1/plugins/stuck')).counters.errors >= 1, 5000, 'timeout counted');
    const stuck = await apiRequest<Plugin>(overlay.api, 'GET', '/v1/plugins/stuck');
    expect(stuck).toMatchObject({ state: 'waiting', lastError: expect.stringContaining('no answer within 2000 ms') });
  }, 20_000);

  it('applies a described topology as itself: adds what it describes, removes only what it owns', async () => {
    overlay = await startMemoryOverlay();
    const { as } = await register({ name: 'shaper', events: [] });
    const h1 = overlay.hosts.get('h1')!;
    // An operator's link h2 ↔ h3 exists; the policy's description does not mention it.
    await apiRequest(overlay.api, 'POST', '/v1/hosts/h2/links', { name: 'h3', publicKey: overlay.pub('h3'), endpoint: '198.18.0.3:51820' });
    const current = await apiRequest<string>(overlay.api, 'GET', '/v1/topology');
    const base = current.split('\n').filter((l) => !/^link h2 h3|^link h3 h2/.test(l) && !l.startsWith('rule ')).join('\n');
    const withShortcut = `${base}\nlink h1 h2 transport udp\nrule h1 src any dst ${vmMac('h2')} via h2 priority 10\n`;
    await apiRequest(as, 'POST', '/v1/topology/apply', { text: withShortcut });
    expect((await h1.primitives.links()).find((l) => l.name === 'h2')).toMatchObject({ owner: 'proxy:policy:shaper' });
    expect((await h1.primitives.rules()).find((r) => r.dst === vmMac('h2'))).toMatchObject({ owner: 'proxy:policy:shaper', priority: 10 });
    // The operator's link, undescribed, is left alone.
    expect((await overlay.hosts.get('h2')!.primitives.links()).find((l) => l.name === 'h3')).toMatchObject({ owner: 'proxy:local' });
    // Described away again: only its own go.
    await apiRequest(as, 'POST', '/v1/topology/apply', { text: base });
    expect((await h1.primitives.links()).map((l) => l.name)).toEqual(['proxy']);
    expect((await h1.primitives.rules()).map((r) => r.owner)).toEqual(['star']);
    expect((await overlay.hosts.get('h2')!.primitives.links()).map((l) => l.name).sort()).toEqual(['h3', 'proxy']);
    // Replacing the operator's link end (another transport) is refused whole, naming the owner.
    const replacing = `${base}\nlink h2 h3 transport tcp\n`;
    const refused = await apiRequest(as, 'POST', '/v1/topology/apply', { text: replacing }).catch((e: { status: number; problem: unknown }) => e);
    expect(refused).toMatchObject({ status: 409 });
    expect(JSON.stringify((refused as { problem: unknown }).problem)).toContain('owner proxy:local');
  }, 20_000);

  it('hears of a VM that moves, at detection and when every host has followed', async () => {
    overlay = await startMemoryOverlay();
    const { hosts, ports, clock, until } = overlay;
    const { as } = await register({ name: 'mover', events: ['vm-moved', 'host', 'link', 'matrix', 'app-topology'] });
    const { events } = stream(as, 'mover');
    await until(() => events.some((e) => e.name === 'hello'), 2000);
    const M = vmMac('h1');
    ports.get('tap-h1v1')!.inject([ethernetFrame({ src: M, dst: 'ff:ff:ff:ff:ff:ff' })]);
    await clock.advance(20);
    moveVm(overlay, { mac: M, ip: '198.19.1.1', port: 'tap-h1v1' }, hosts.get('h1')!, hosts.get('h2')!, 'tap-h2m').announce();
    await until(() => events.filter((e) => e.name === 'vm-moved').length === 2, 3000, 'both phases');
    const moves = events.filter((e) => e.name === 'vm-moved').map((e) => (e.data as PluginEvent).move);
    expect(moves[0]).toEqual({ phase: 'detected', mac: M, from: 'h1', to: 'h2' });
    expect(moves[1]).toMatchObject({ phase: 'converged', mac: M, from: 'h1', to: 'h2', complete: true, unacked: [] });
    expect(moves[1]!.convergeMs).toBeGreaterThanOrEqual(0);
  });
});

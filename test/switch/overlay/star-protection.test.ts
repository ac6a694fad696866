/**
 * The star is the control path: a host's link to its Proxy (both ends) and its default rule (owner "star") cannot
 * be removed through the primitives — not locally, not relayed by the Proxy, not over HTTP — only by changing the
 * daemons' configs. And a rule must name a port or link that exists: a rule toward nowhere is refused, not kept
 * and silently skipped.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { apiRequest } from '../../../api/cli/client.js';
import { startMemoryOverlay, vmMac, type MemoryOverlay } from '../../support/memory-overlay.js';

let overlay: MemoryOverlay | undefined;
afterEach(async () => {
  await overlay?.stop();
  overlay = undefined;
});

const refusal = (p: Promise<unknown>) => p.then(() => 'accepted', (e: { status?: number; httpStatus?: number; problem?: { code?: string; errors?: { field: string }[] }; code?: string; field?: string }) => e);

describe('the star is protected', () => {
  it("refuses deleting a host's link to its Proxy, locally, relayed and over HTTP (409 star-protected); the star stays up", async () => {
    overlay = await startMemoryOverlay({ hosts: ['h1'] });
    const { proxy } = overlay;
    const h1 = overlay.hosts.get('h1')!;
    await expect(h1.primitives.deleteLink('proxy', { name: 'local' })).rejects.toMatchObject({ code: 'star-protected', httpStatus: 409 });
    await expect(proxy.overlay!.host('h1')!.deleteLink('proxy', { name: 'ops' })).rejects.toMatchObject({ code: 'star-protected', httpStatus: 409 });
    const relayed = await refusal(apiRequest(overlay.api, 'DELETE', '/v1/hosts/h1/links/proxy'));
    expect(relayed).toMatchObject({ status: 409, problem: { code: 'star-protected' } });
    expect((relayed as Error).message).toContain('config');
    // The Proxy's end of the same link.
    await expect(proxy.primitives.deleteLink('h1', { name: 'local' })).rejects.toMatchObject({ code: 'star-protected' });
    expect(await refusal(apiRequest(overlay.api, 'DELETE', '/v1/links/h1'))).toMatchObject({ status: 409, problem: { code: 'star-protected' } });
    expect(h1.linkStatuses().map((l) => `${l.name} ${l.state}`)).toEqual(['proxy up']);
    expect(proxy.linkStatuses().map((l) => `${l.name} ${l.state}`)).toEqual(['h1 up']);
  });

  it("refuses deleting a host's default rule (owner star), locally and relayed", async () => {
    overlay = await startMemoryOverlay({ hosts: ['h1'] });
    const h1 = overlay.hosts.get('h1')!;
    const star = (await h1.primitives.rules()).find((r) => r.owner === 'star')!;
    await expect(h1.primitives.deleteRule(star.id, { name: 'local' })).rejects.toMatchObject({ code: 'star-protected', httpStatus: 409 });
    expect(await refusal(apiRequest(overlay.api, 'DELETE', `/v1/hosts/h1/rules/${star.id}`))).toMatchObject({ status: 409, problem: { code: 'star-protected' } });
    expect((await h1.primitives.rules()).map((r) => `${r.id} ${r.owner}`)).toEqual([`${star.id} star`]);
    // Other rules and links are the operator's to delete as before.
    const other = await h1.primitives.addRule({ src: vmMac('h1'), dst: 'any', target: 'proxy', priority: 2 }, { name: 'local' });
    await h1.primitives.deleteRule(other.id, { name: 'local' });
  });

  it('refuses a rule whose target names no port or link (400 invalid-input naming target), locally, relayed and over HTTP', async () => {
    overlay = await startMemoryOverlay({ hosts: ['h1'] });
    const h1 = overlay.hosts.get('h1')!;
    const rule = { src: 'any', dst: vmMac('h2'), target: 'nowhere' };
    await expect(h1.primitives.addRule(rule, { name: 'local' })).rejects.toMatchObject({ code: 'invalid-input', field: 'target', httpStatus: 400 });
    await expect(overlay.proxy.overlay!.host('h1')!.addRule(rule, { name: 'ops' })).rejects.toMatchObject({ code: 'invalid-input', field: 'target' });
    const http = await refusal(apiRequest(overlay.api, 'POST', '/v1/hosts/h1/rules', rule));
    expect(http).toMatchObject({ status: 400, problem: { code: 'invalid-input', errors: [{ field: '/body/target' }] } });
    expect(await refusal(apiRequest(overlay.api, 'POST', '/v1/rules', rule))).toMatchObject({ status: 400, problem: { code: 'invalid-input' } });
    expect((await h1.primitives.rules()).map((r) => r.owner)).toEqual(['star']);
    // A port and a link are fine targets.
    await h1.primitives.addRule({ ...rule, target: 'tap-h1v1' }, { name: 'local' });
    await h1.primitives.addRule({ ...rule, target: 'proxy', priority: 1 }, { name: 'local' });
  });
});

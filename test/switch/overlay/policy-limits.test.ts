/**
 * What a policy may do is less than what an operator may: its rules' priorities lie in a band below the operators'
 * (POLICY_PRIORITY_BAND), a policy's rule never outranks an operator's rule of the same match, and a policy links
 * only to peers of the overlay (a host the Proxy knows, or the Proxy). Real daemons (a Proxy and two hosts over
 * memory transports); the policy acts as the Proxy's plugins do (relayed, "proxy:policy:…" on the host), on the
 * Proxy itself, and with a registered policy's token over HTTP.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { apiRequest } from '../../../api/cli/client.js';
import { encodeKeyBase64 } from '../../../switch/link/noise/crypto.js';
import { POLICY_PRIORITY_BAND } from '../../../switch/overlay/local-primitives.js';
import { startMemoryOverlay, vmMac, type MemoryOverlay } from '../../support/memory-overlay.js';

let overlay: MemoryOverlay | undefined;
afterEach(async () => {
  await overlay?.stop();
  overlay = undefined;
});

const POLICY = { name: 'policy:p' };
const OPERATOR = { name: 'ops' };
const STRANGER = encodeKeyBase64(new Uint8Array(32).fill(7));

describe('a policy acts within limits', () => {
  it('adds rules only with a priority inside the policy band; an operator may use any', async () => {
    overlay = await startMemoryOverlay({ hosts: ['h1', 'h2'] });
    const h1 = overlay.proxy.overlay!.host('h1')!;
    const rule = (priority: number) => ({ src: vmMac('h1'), dst: vmMac('h2'), target: 'proxy', priority });
    expect(POLICY_PRIORITY_BAND).toEqual({ min: 0, max: 9999 });
    await expect(h1.addRule(rule(10_000), POLICY)).rejects.toMatchObject({ code: 'policy-forbidden', field: 'priority', httpStatus: 403 });
    await expect(h1.addRule(rule(1_000_000), POLICY)).rejects.toMatchObject({ code: 'policy-forbidden', field: 'priority' });
    await expect(h1.addRule(rule(-5), POLICY)).rejects.toMatchObject({ code: 'policy-forbidden', field: 'priority' });
    await expect(overlay.proxy.primitives.addRule({ ...rule(10_000), target: 'h1' }, POLICY)).rejects.toMatchObject({ code: 'policy-forbidden' });
    expect(await h1.addRule(rule(9999), POLICY)).toMatchObject({ owner: 'proxy:policy:p', priority: 9999 });
    expect(await h1.addRule({ src: vmMac('h1'), dst: vmMac('h2'), target: 'proxy' }, POLICY)).toMatchObject({ priority: 0 });
    expect(await h1.addRule(rule(1_000_000), OPERATOR)).toMatchObject({ owner: 'proxy:ops', priority: 1_000_000 });
  });

  it("never outranks an operator's rule of the same match (nor the star's default rule)", async () => {
    overlay = await startMemoryOverlay({ hosts: ['h1', 'h2'] });
    const h1 = overlay.proxy.overlay!.host('h1')!;
    const match = { src: 'any', dst: vmMac('h2'), target: 'proxy' };
    const operators = await h1.addRule({ ...match, priority: 5 }, OPERATOR);
    const refused = await h1.addRule({ ...match, priority: 6 }, POLICY).catch((e: Error) => e);
    expect(refused).toMatchObject({ code: 'policy-forbidden', field: 'priority' });
    expect((refused as Error).message).toContain(`rule ${operators.id}`);
    expect(await h1.addRule({ ...match, priority: 4 }, POLICY)).toMatchObject({ priority: 4 }); // below it: fine
    // Another match is not the operator's: a policy may rank it as it likes within its band.
    expect(await h1.addRule({ ...match, dst: 'any', priority: 6 }, POLICY)).toMatchObject({ priority: 6 });
    // The default rule (src any dst none, owner star) is an operator's too.
    await expect(h1.addRule({ src: 'any', dst: 'none', target: 'tap-h1v1', priority: 1 }, POLICY)).rejects.toMatchObject({ code: 'policy-forbidden', field: 'priority' });
  });

  it('links only to peers of the overlay: a host the Proxy knows (or the Proxy), else 403 naming publicKey', async () => {
    overlay = await startMemoryOverlay({ hosts: ['h1', 'h2'] });
    const { pub, address } = overlay;
    const h1 = overlay.proxy.overlay!.host('h1')!;
    const link = (publicKey: string, name = 'p-x') => ({ name, publicKey, endpoint: `${address('h2')}:51820` });
    await expect(h1.addLink(link(STRANGER), POLICY)).rejects.toMatchObject({ code: 'policy-forbidden', field: 'publicKey', httpStatus: 403 });
    await expect(overlay.proxy.primitives.addLink(link(STRANGER), POLICY)).rejects.toMatchObject({ code: 'policy-forbidden', field: 'publicKey' });
    expect((await overlay.hosts.get('h1')!.primitives.links()).map((l) => l.name)).toEqual(['proxy']);
    expect(await h1.addLink(link(pub('h2'), 'p-h2'), POLICY)).toMatchObject({ name: 'p-h2', publicKey: pub('h2') });
    // An operator may link anywhere.
    expect(await h1.addLink(link(STRANGER), OPERATOR)).toMatchObject({ name: 'p-x' });
  });

  it("with a registered policy's token over HTTP: 403 policy-forbidden naming the field", async () => {
    overlay = await startMemoryOverlay({ hosts: ['h1', 'h2'] });
    const view = await apiRequest<{ token: string }>(overlay.api, 'POST', '/v1/plugins', { name: 'bold', events: [] });
    const as = { ...overlay.api, token: view.token };
    const problem = (p: Promise<unknown>) => p.then(() => 'accepted', (e: { status: number; problem: unknown }) => ({ status: e.status, problem: e.problem }));
    expect(await problem(apiRequest(as, 'POST', '/v1/hosts/h1/rules', { src: vmMac('h1'), dst: vmMac('h2'), target: 'proxy', priority: 1_000_000 }))).toMatchObject({
      status: 403,
      problem: { code: 'policy-forbidden', errors: [{ field: '/body/priority' }] },
    });
    expect(await problem(apiRequest(as, 'POST', '/v1/hosts/h1/links', { name: 'evil', publicKey: STRANGER, endpoint: '192.0.2.1:51820' }))).toMatchObject({
      status: 403,
      problem: { code: 'policy-forbidden', errors: [{ field: '/body/publicKey' }] },
    });
    expect((await overlay.hosts.get('h1')!.primitives.rules()).map((r) => r.owner)).toEqual(['star']);
  });
});

/**
 * /v1/ports over HTTP: a real API over real LocalPrimitives and a real switch core, with memory twins of the
 * devices (api-fixture.ts). Adding and deleting; bodies checked against openapi.yaml before a handler runs; the
 * primitives' own refusals as problem+json naming the field; tokens and policies.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PolicySession } from '../../../api/http/auth.js';
import { TapNameTakenError } from '../../../switch/port/port-errors.js';
import { call, daemons, type TestDaemon } from './api-fixture.js';

let stop: () => Promise<void> = async () => {};
afterEach(async () => stop());

async function one(options: Parameters<typeof daemons>[1] = {}): Promise<TestDaemon> {
  const d = await daemons(1, options);
  stop = d.stop;
  return d.all[0]!;
}

/** What a refused request must leave as it was. */
async function state(h: TestDaemon) {
  return { ports: (await h.primitives.ports()).map((p) => `${p.name} ${p.owner}`), rules: await h.primitives.rules(), opened: [...h.opened.keys()] };
}

describe('/v1/ports', () => {
  it('adds a capture port (201 with the port), lists it with owner and interface, deletes it (204)', async () => {
    const h = await one();
    h.hostInterfaces.add('qvm1');
    const added = await call(h.app, 'POST', '/v1/ports', { name: 'qvm1', type: 'capture', interface: 'qvm1' });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ name: 'qvm1', kind: 'memory', state: 'up', owner: 'local', interface: 'qvm1', rxFrames: 0 });
    const listed = await call(h.app, 'GET', '/v1/ports');
    expect(listed.body.ports.map((p: { name: string; owner: string }) => `${p.name} ${p.owner}`)).toEqual(['vm1 config', 'vm2 config', 'qvm1 local']);
    expect((await call(h.app, 'DELETE', '/v1/ports/qvm1')).status).toBe(204);
    expect(h.datapath.get('qvm1')).toBeUndefined();
    expect((await call(h.app, 'DELETE', '/v1/ports/qvm1')).body).toMatchObject({ status: 404, code: 'not-found' });
  });

  it('adds a TAP port with its MTU', async () => {
    const h = await one();
    const added = await call(h.app, 'POST', '/v1/ports', { name: 'tap-vm3', type: 'tap', mtu: 1420 });
    expect(added).toMatchObject({ status: 201, body: { name: 'tap-vm3', owner: 'local' } });
    expect(added.body.interface).toBeUndefined();
  });

  it.each([
    ['a name over 15 characters', { name: 'a234567890123456', type: 'tap' }, '/body/name'],
    ['a name with ":"', { name: 'eth0:1', type: 'tap' }, '/body/name'],
    ['no type', { name: 'x' }, '/body/type'],
    ['an unknown type', { name: 'x', type: 'tun' }, '/body/type'],
    ['an unknown field', { name: 'x', type: 'tap', bridge: 'br0' }, '/body/bridge'],
    ['an MTU below 68', { name: 'x', type: 'tap', mtu: 67 }, '/body/mtu'],
    ['promiscuous not a boolean', { name: 'x', type: 'capture', interface: 'qvm1', promiscuous: 'yes' }, '/body/promiscuous'],
  ])('refuses %s before any handler runs (400 naming the field), and nothing changes', async (_what, body, field) => {
    const h = await one();
    h.hostInterfaces.add('qvm1');
    const before = await state(h);
    const res = await call(h.app, 'POST', '/v1/ports', body);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(await state(h)).toEqual(before);
  });

  it("the primitives' own refusals: a missing interface (400 naming interface), a taken name (409), a device that will not open (its code)", async () => {
    const h = await one();
    const before = await state(h);
    const missing = await call(h.app, 'POST', '/v1/ports', { name: 'qvm9', type: 'capture', interface: 'qvm9' });
    expect(missing.body).toMatchObject({ status: 400, code: 'interface-not-found', errors: [{ field: '/body/interface' }] });
    const noInterface = await call(h.app, 'POST', '/v1/ports', { name: 'qvm9', type: 'capture' });
    expect(noInterface.body).toMatchObject({ status: 400, code: 'invalid-input', errors: [{ field: '/body/interface' }] });
    expect((await call(h.app, 'POST', '/v1/ports', { name: 'vm1', type: 'tap' })).body).toMatchObject({ status: 409, code: 'conflict' });
    h.openFailure.error = new TapNameTakenError({ device: 'x', errno: 16, syscall: 'ioctl(TUNSETIFF)' });
    const taken = await call(h.app, 'POST', '/v1/ports', { name: 'x', type: 'tap' });
    expect(taken.body).toMatchObject({ status: 409, code: 'tap-name-taken' });
    expect(taken.body.detail).toContain('(x)');
    expect(await state(h)).toEqual(before);
  });

  it('refuses deleting a bad name (400 naming the path) and a port a rule leads to (409 port-in-use)', async () => {
    const h = await one();
    expect((await call(h.app, 'DELETE', '/v1/ports/a%3Ab')).body).toMatchObject({ status: 400, errors: [{ field: '/path/name' }] });
    const rule = await call(h.app, 'POST', '/v1/rules', { src: 'any', dst: '02:00:00:00:00:0b', target: 'vm2' });
    const inUse = await call(h.app, 'DELETE', '/v1/ports/vm2');
    expect(inUse.body).toMatchObject({ status: 409, code: 'port-in-use' });
    expect(inUse.body.detail).toContain(String(rule.body.id));
    expect(h.datapath.get('vm2')).toBeDefined();
  });

  it("a read-only token may list but not add or delete (403); a policy's token may not either (403 policy-forbidden)", async () => {
    const policy: PolicySession = { name: 'pin', actor: 'policy:pin', enabled: true, admit: () => ({ ok: true }), requestDone: () => {} };
    const h = await one({
      tokens: [{ name: 'viewer', token: 'v'.repeat(32), readOnly: true }],
    });
    h.deps.auth.policies = { byToken: (token) => (token === 'p'.repeat(32) ? policy : undefined) };
    const { createApp } = await import('../../../api/http/app.js');
    const app = createApp(h.deps);
    const before = await state(h);
    expect((await call(app, 'GET', '/v1/ports', undefined, 'v'.repeat(32))).status).toBe(200);
    expect((await call(app, 'POST', '/v1/ports', { name: 'x', type: 'tap' }, 'v'.repeat(32))).status).toBe(403);
    const byPolicy = await call(app, 'POST', '/v1/ports', { name: 'x', type: 'tap' }, 'p'.repeat(32));
    expect(byPolicy.body).toMatchObject({ status: 403, code: 'policy-forbidden' });
    expect((await call(app, 'DELETE', '/v1/ports/vm1', undefined, 'p'.repeat(32))).body).toMatchObject({ status: 403, code: 'policy-forbidden' });
    expect(await state(h)).toEqual(before);
  });
});

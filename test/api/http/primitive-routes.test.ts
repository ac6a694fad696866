import { afterEach, describe, expect, it } from 'vitest';
import { call, daemons, type TestDaemon } from './api-fixture.js';

const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';

let stop: () => Promise<void> = async () => {};
afterEach(async () => stop());

async function one(): Promise<TestDaemon> {
  const d = await daemons(1);
  stop = d.stop;
  return d.all[0]!;
}

describe('the VNET primitives over HTTP (real LocalPrimitives, real switch core)', () => {
  it('adds, lists and deletes a forwarding rule, and the switch core has it', async () => {
    const h = await one();
    const added = await call(h.app, 'POST', '/v1/rules', { src: A, dst: B, target: 'vm2', priority: 5 });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ src: A, dst: B, target: 'vm2', priority: 5, owner: 'local', hitFrames: 0 });
    expect(h.datapath.core.rules.size).toBe(1);

    const listed = await call(h.app, 'GET', '/v1/rules');
    expect(listed.status).toBe(200);
    expect(listed.body.rules).toEqual([added.body]);

    const deleted = await call(h.app, 'DELETE', `/v1/rules/${added.body.id}`);
    expect(deleted.status).toBe(204);
    expect(h.datapath.core.rules.size).toBe(0);
  });

  it('accepts any / none and upper-case MACs, and returns them in canonical form', async () => {
    const h = await one();
    const res = await call(h.app, 'POST', '/v1/rules', { src: '02:00:00:00:00:0A', dst: 'none', target: 'vm1' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ src: A, dst: 'none', priority: 0 });
    expect((await call(h.app, 'POST', '/v1/rules', { src: 'any', dst: 'any', target: 'vm1' })).status).toBe(201);
  });

  it('lists interfaces with counters (and /v1/ports is the same view, with owners)', async () => {
    const h = await one();
    const res = await call(h.app, 'GET', '/v1/interfaces');
    expect(res.status).toBe(200);
    expect(res.body.interfaces.map((i: { name: string; kind: string }) => [i.name, i.kind])).toEqual([
      ['vm1', 'memory'],
      ['vm2', 'memory'],
    ]);
    expect((await call(h.app, 'GET', '/v1/ports')).body.ports).toEqual(res.body.interfaces.map((i: object) => ({ ...i, owner: 'config' })));
  });

  it('adds a link that really handshakes with the peer, lists it, and deletes it', async () => {
    const d = await daemons(2);
    stop = d.stop;
    const [h1, h2] = d.all as [TestDaemon, TestDaemon];
    // h2 only answers (no endpoint), so the two ends do not initiate at once (crossed initiations wait for a retry).
    const r2 = await call(h2.app, 'POST', '/v1/links', { name: 'h1', publicKey: h1.publicKeyBase64, transport: 'udp' });
    expect(r2.status).toBe(201);
    const r1 = await call(h1.app, 'POST', '/v1/links', { name: 'h2', publicKey: h2.publicKeyBase64, endpoint: `${h2.address}:51820`, transport: 'udp' });
    expect(r1.status).toBe(201);
    expect(r1.body).toMatchObject({ name: 'h2', publicKey: h2.publicKeyBase64, mode: 'udp' });
    await d.until(() => h1.links.status()[0]?.state === 'up');

    const listed = await call(h1.app, 'GET', '/v1/links');
    expect(listed.body.links).toMatchObject([{ name: 'h2', state: 'up', transport: 'udp' }]);
    const ifaces = await call(h1.app, 'GET', '/v1/interfaces');
    expect(ifaces.body.interfaces.map((i: { name: string }) => i.name)).toContain('h2');

    expect((await call(h1.app, 'DELETE', '/v1/links/h2')).status).toBe(204);
    expect(h1.links.status()).toEqual([]);
    expect(h1.datapath.get('h2')).toBeUndefined();
  });

  it('gets and sets the upper bound on configuration time', async () => {
    const h = await one();
    expect((await call(h.app, 'GET', '/v1/config-time')).body).toEqual({ upperBoundMs: 2000 });
    const set = await call(h.app, 'PUT', '/v1/config-time', { upperBoundMs: 500 });
    expect(set).toMatchObject({ status: 200, body: { upperBoundMs: 500 } });
    expect(await h.primitives.configTimeBound()).toEqual({ upperBoundMs: 500 });
  });

  it('logs every change with the actor that made it', async () => {
    const h = await one();
    await call(h.app, 'POST', '/v1/rules', { src: A, dst: B, target: 'vm2' });
    expect(h.logs).toContainEqual(expect.objectContaining({ msg: 'rule added', actor: 'local' }));
    expect(h.logs).toContainEqual(expect.objectContaining({ msg: 'api change', method: 'POST', path: '/v1/rules', actor: 'local', status: 201 }));
  });
});

describe('requests that do not match openapi.yaml: 400 naming the field, nothing changes', () => {
  const badRules: [string, unknown, string][] = [
    ['a MAC that is not one', { src: 'not-a-mac', dst: B, target: 'vm2' }, '/body/src'],
    ['dst "none" is fine but "nobody" is not', { src: A, dst: 'nobody', target: 'vm2' }, '/body/dst'],
    ['a missing target', { src: A, dst: B }, '/body/target'],
    ['an empty target', { src: A, dst: B, target: '' }, '/body/target'],
    ['a priority that is a string', { src: A, dst: B, target: 'vm2', priority: '5' }, '/body/priority'],
    ['a fractional priority', { src: A, dst: B, target: 'vm2', priority: 1.5 }, '/body/priority'],
    ['an unknown field', { src: A, dst: B, target: 'vm2', tos: 3 }, '/body/tos'],
    ['an array instead of an object', [A, B, 'vm2'], '/body'],
  ];
  it.each(badRules)('rule with %s', async (_what, body, field) => {
    const h = await one();
    await call(h.app, 'POST', '/v1/rules', { src: A, dst: 'any', target: 'vm1' });
    const before = await call(h.app, 'GET', '/v1/rules');
    const res = await call(h.app, 'POST', '/v1/rules', body);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.body).toMatchObject({ status: 400, code: 'request-invalid', type: 'urn:vswitch:problem:request-invalid' });
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(res.body.detail).toContain(field);
    expect((await call(h.app, 'GET', '/v1/rules')).body).toEqual(before.body);
  });

  it('rejects a body that is not JSON, and a missing body', async () => {
    const h = await one();
    const bad = await call(h.app, 'POST', '/v1/rules', '{"src":');
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([{ field: '/body', message: expect.any(String) }]);
    const missing = await call(h.app, 'POST', '/v1/rules');
    expect(missing.status).toBe(400);
    expect(missing.body.errors[0].field).toBe('/body');
    expect(h.datapath.core.rules.size).toBe(0);
  });

  it('rejects a bad link body field by field, and adds no link', async () => {
    const h = await one();
    const res = await call(h.app, 'POST', '/v1/links', { name: 'Bad Name', publicKey: 'abc', endpoint: 'somewhere', transport: 'carrier-pigeon', colour: 'blue' });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['/body/colour', '/body/endpoint', '/body/name', '/body/publicKey', '/body/transport']);
    expect(h.links.status()).toEqual([]);
    expect(h.datapath.ports().map((p) => p.port.name)).toEqual(['vm1', 'vm2']);
  });

  it('rejects path parameters that do not match: a rule id that is not a positive integer', async () => {
    const h = await one();
    for (const id of ['abc', '0', '1.5']) {
      const res = await call(h.app, 'DELETE', `/v1/rules/${id}`);
      expect(res.status).toBe(400);
      expect(res.body.errors[0].field).toBe('/path/id');
    }
  });

  it('rejects a configuration time bound out of range or of the wrong type, and keeps the old one', async () => {
    const h = await one();
    for (const body of [{ upperBoundMs: 0 }, { upperBoundMs: 3_600_001 }, { upperBoundMs: '100' }, {}, { upperBoundMs: 10, extra: 1 }]) {
      const res = await call(h.app, 'PUT', '/v1/config-time', body);
      expect(res.status).toBe(400);
      expect(res.body.errors[0].field).toMatch(/^\/body\/(upperBoundMs|extra)$/);
    }
    expect(await h.primitives.configTimeBound()).toEqual({ upperBoundMs: 2000 });
  });

  it('maps what the spec allows but the primitive refuses: a duplicate peer key → 409, an impossible IP → 400 naming the field', async () => {
    const h = await one();
    const key = 'A'.repeat(43) + '=';
    expect((await call(h.app, 'POST', '/v1/links', { name: 'p1', publicKey: key })).status).toBe(201);
    const dup = await call(h.app, 'POST', '/v1/links', { name: 'p2', publicKey: key });
    expect(dup).toMatchObject({ status: 409, body: { code: 'conflict' } });
    const endpoint = await call(h.app, 'POST', '/v1/links', { name: 'p3', publicKey: 'B'.repeat(42) + 'A=', endpoint: '999.1.1.1:51820' });
    expect(endpoint).toMatchObject({ status: 400, body: { code: 'invalid-input', errors: [{ field: '/body/endpoint' }] } });
    expect(endpoint.body.detail).toContain('endpoint');
    expect(h.links.status().map((l) => l.name)).toEqual(['p1']);
  });
});

describe('error mapping', () => {
  it('404 for a rule or link that does not exist', async () => {
    const h = await one();
    const rule = await call(h.app, 'DELETE', '/v1/rules/99');
    expect(rule).toMatchObject({ status: 404, body: { code: 'not-found', status: 404, title: 'Not Found' } });
    const link = await call(h.app, 'DELETE', '/v1/links/nope');
    expect(link).toMatchObject({ status: 404, body: { code: 'not-found' } });
  });

  it('409 for an equal rule, and for a link whose name is taken by a port', async () => {
    const h = await one();
    await call(h.app, 'POST', '/v1/rules', { src: A, dst: B, target: 'vm2' });
    const dup = await call(h.app, 'POST', '/v1/rules', { src: A, dst: B, target: 'vm1' });
    expect(dup).toMatchObject({ status: 409, body: { code: 'conflict' } });
    const taken = await call(h.app, 'POST', '/v1/links', { name: 'vm1', publicKey: 'A'.repeat(43) + '=' });
    expect(taken).toMatchObject({ status: 409, body: { code: 'conflict' } });
    expect(h.datapath.core.rules.size).toBe(1);
  });

  it('404 problem for a route that does not exist', async () => {
    const h = await one();
    expect(await call(h.app, 'GET', '/v1/nothing')).toMatchObject({ status: 404, body: { code: 'no-route' } });
  });

  it('500 without internals for an error the daemon did not mean to throw, and logs it', async () => {
    const d = await daemons(1, {
      overrides: {
        status: () => {
          throw new TypeError('secret internals');
        },
      },
    });
    stop = d.stop;
    const h = d.all[0]!;
    const res = await call(h.app, 'GET', '/v1/status');
    expect(res).toMatchObject({ status: 500, body: { code: 'internal' } });
    expect(res.body.detail).not.toContain('secret');
    expect(h.logs).toContainEqual(expect.objectContaining({ level: 'error', msg: 'api: request failed' }));
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { call, daemons, type TestDaemon } from './api-fixture.js';

const ADMIN = 'admin-token-0123456789';
const VIEWER = 'viewer-token-0123456789';
const RULE = { src: '02:00:00:00:00:0a', dst: 'any', target: 'vm2' };

let stop: () => Promise<void> = async () => {};
afterEach(async () => stop());

async function secured(): Promise<TestDaemon> {
  const d = await daemons(1, {
    tokens: [
      { name: 'admin', token: ADMIN, readOnly: false },
      { name: 'viewer', token: VIEWER, readOnly: true },
    ],
  });
  stop = d.stop;
  return d.all[0]!;
}

describe('API tokens', () => {
  it('401 without a token when tokens are configured, with a Bearer challenge', async () => {
    const h = await secured();
    const res = await call(h.app, 'GET', '/v1/rules');
    expect(res).toMatchObject({ status: 401, body: { code: 'unauthorized', status: 401 } });
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('401 for a wrong token or a malformed header, and nothing changes', async () => {
    const h = await secured();
    expect((await call(h.app, 'POST', '/v1/rules', RULE, 'wrong-token-0123456789')).body).toMatchObject({ code: 'unauthorized' });
    expect((await call(h.app, 'POST', '/v1/rules', RULE, ADMIN.slice(0, -1))).status).toBe(401);
    const basic = await h.app.request('http://localhost/v1/rules', { headers: { authorization: `Basic ${ADMIN}` } });
    expect(basic.status).toBe(401);
    expect(h.datapath.core.rules.size).toBe(0);
  });

  it('403 for a read-only token on a mutation, before validation, and nothing changes', async () => {
    const h = await secured();
    const res = await call(h.app, 'POST', '/v1/rules', RULE, VIEWER);
    expect(res).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    expect((await call(h.app, 'POST', '/v1/rules', { bad: 1 }, VIEWER)).status).toBe(403);
    expect((await call(h.app, 'PUT', '/v1/config-time', { upperBoundMs: 5 }, VIEWER)).status).toBe(403);
    expect((await call(h.app, 'DELETE', '/v1/links/x', undefined, VIEWER)).status).toBe(403);
    expect(h.datapath.core.rules.size).toBe(0);
    expect(h.logs).toContainEqual(expect.objectContaining({ level: 'warn', msg: 'api request denied', code: 'forbidden', actor: 'viewer' }));
  });

  it('a read-only token may read', async () => {
    const h = await secured();
    expect((await call(h.app, 'GET', '/v1/rules', undefined, VIEWER)).status).toBe(200);
    expect((await call(h.app, 'GET', '/v1/status', undefined, VIEWER)).status).toBe(200);
  });

  it("a read-write token may change things, and the change is logged and owned under the token's name", async () => {
    const h = await secured();
    const res = await call(h.app, 'POST', '/v1/rules', RULE, ADMIN);
    expect(res).toMatchObject({ status: 201, body: { owner: 'admin' } });
    expect(h.logs).toContainEqual(expect.objectContaining({ msg: 'api change', actor: 'admin', status: 201 }));
    expect(h.logs).toContainEqual(expect.objectContaining({ msg: 'rule added', actor: 'admin' }));
  });

  it('serves /openapi.yaml and /docs without a token', async () => {
    const h = await secured();
    expect((await h.app.request('http://localhost/openapi.yaml')).status).toBe(200);
    expect((await h.app.request('http://localhost/docs')).status).toBe(200);
  });

  it('without tokens (loopback or unix), requests are allowed and the actor is "local"', async () => {
    const d = await daemons(1);
    stop = d.stop;
    const h = d.all[0]!;
    expect((await call(h.app, 'POST', '/v1/rules', RULE)).body).toMatchObject({ owner: 'local' });
  });
});

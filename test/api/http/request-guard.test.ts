import { afterEach, describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { errorToResponse } from '../../../api/http/errors.js';
import { CrossOriginError, HostNotAllowedError, requestGuard, UnsupportedMediaTypeError, type RequestGuardOptions } from '../../../api/http/request-guard.js';
import { createLogger } from '../../../switch/log.js';
import { VswitchError } from '../../../switch/errors.js';
import { daemons, type TestDaemon } from './api-fixture.js';
import { guarded, wiringDeps } from './guarded-app.js';

const RULE = JSON.stringify({ src: '02:00:00:00:00:0a', dst: 'any', target: 'vm2' });
const LOCAL = 'localhost:7000';
/** Just what the tests call: a createApp app (Hono<ApiEnv>) or a plain Hono app. */
type App = { request(input: string, init?: RequestInit): Response | Promise<Response> };
const log = createLogger({ level: 'error', write: () => {}, pretty: false });

let stop: () => Promise<void> = async () => {};
afterEach(async () => stop());

/** A createApp daemon (api-fixture) behind the guard, listening (as far as the guard knows) on 127.0.0.1:7000. */
async function daemon(options: { tokens?: boolean } = {}): Promise<{ h: TestDaemon; app: App }> {
  const overrides = wiringDeps({ listen: '127.0.0.1:7000' });
  const d = await daemons(1, options.tokens ? { tokens: [{ name: 'admin', token: 'admin-token-0123456789', readOnly: false }], overrides } : { overrides });
  stop = d.stop;
  const h = d.all[0]!;
  return { h, app: guarded(h.app, h.deps, { listen: '127.0.0.1:7000' }) };
}

/** The guard alone in front of one route that answers whatever comes, as a plain Hono app. */
function dummy(options: RequestGuardOptions): App {
  const app = new Hono();
  app.use('*', requestGuard(options));
  app.all('*', async (c) => c.json({ ok: true, body: c.req.raw.body ? await c.req.text() : null }));
  app.onError((err, c) => errorToResponse(err, c, log));
  return app;
}

async function send(app: App, method: string, path: string, headers: Record<string, string> = {}, body?: string) {
  const res = await app.request(`http://localhost${path}`, { method, headers: { host: LOCAL, ...headers }, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (res.headers.get('content-type') ?? '').includes('json') && text ? JSON.parse(text) : text };
}

describe('request guard: Content-Type (CSRF with a "simple" request)', () => {
  it('createApp refuses a text/plain POST to /v1/rules with 415 naming the type, and adds no rule', async () => {
    const { h, app } = await daemon();
    const res = await send(app, 'POST', '/v1/rules', { 'content-type': 'text/plain;charset=UTF-8' }, RULE);
    expect(res.status).toBe(415);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('accept-post')).toBe('application/json');
    expect(res.body).toMatchObject({ status: 415, code: 'unsupported-media-type', title: 'Unsupported Media Type', type: 'urn:vswitch:problem:unsupported-media-type' });
    expect(res.body.detail).toContain('"text/plain;charset=UTF-8"');
    expect(h.datapath.core.rules.size).toBe(0);
  });

  it('refuses a body with no Content-Type, a form, and JSON in another charset; takes application/json with charset=utf-8', async () => {
    const { h, app } = await daemon();
    const noType = await app.request('http://localhost/v1/rules', { method: 'POST', headers: { host: LOCAL }, body: new Blob([RULE]) });
    expect(noType.status).toBe(415);
    expect(((await noType.json()) as { detail: string }).detail).toContain('no Content-Type');
    expect((await send(app, 'POST', '/v1/links', { 'content-type': 'application/x-www-form-urlencoded' }, 'name=x')).status).toBe(415);
    expect((await send(app, 'POST', '/v1/rules', { 'content-type': 'multipart/form-data; boundary=x' }, RULE)).status).toBe(415);
    expect((await send(app, 'POST', '/v1/rules', { 'content-type': 'application/json; charset=utf-16' }, RULE)).status).toBe(415);
    expect(h.datapath.core.rules.size).toBe(0);
    expect((await send(app, 'POST', '/v1/rules', { 'content-type': 'Application/JSON; charset=UTF-8' }, RULE)).status).toBe(201);
    expect(h.datapath.core.rules.size).toBe(1);
  });

  it('asks nothing of requests without a body: a DELETE, or a POST with Content-Length: 0', async () => {
    const app = dummy({ listen: '127.0.0.1:7000' });
    expect((await send(app, 'DELETE', '/v1/rules/1')).status).toBe(200);
    expect((await send(app, 'POST', '/v1/plugins/x/enable', { 'content-length': '0' })).status).toBe(200);
    expect((await send(app, 'PATCH', '/v1/plugins/x', { 'content-type': 'text/plain' }, 'x')).headers.get('accept-patch')).toBe('application/json');
  });
});

describe('request guard: Host (DNS rebinding)', () => {
  it('createApp answers a request whose Host is another name with 421, before anything is read or changed', async () => {
    const { h, app } = await daemon();
    const read = await send(app, 'GET', '/v1/status', { host: 'evil.example:7000' });
    expect(read.status).toBe(421);
    expect(read.body).toMatchObject({ status: 421, code: 'host-not-allowed', title: 'Misdirected Request' });
    expect(read.body.detail).toContain('"evil.example:7000"');
    const write = await send(app, 'POST', '/v1/rules', { host: 'evil.example:7000', 'content-type': 'application/json' }, RULE);
    expect(write.status).toBe(421);
    expect(h.datapath.core.rules.size).toBe(0);
  });

  it('takes every loopback name with the listen port, and nothing on another port', async () => {
    const app = dummy({ listen: '127.0.0.1:7000' });
    for (const host of ['localhost:7000', '127.0.0.1:7000', '127.1.2.3:7000', '[::1]:7000', 'LOCALHOST:7000', '[0:0:0:0:0:0:0:1]:7000']) {
      expect((await send(app, 'GET', '/v1/status', { host })).status, host).toBe(200);
    }
    for (const host of ['localhost:7001', 'localhost', '127.0.0.1:80', 'evil.example', 'localhost.evil.example:7000', '127.0.0.1.nip.io:7000', 'a@localhost:7000', '128.0.0.1:7000', 'localhost:7000/x']) {
      expect((await send(app, 'GET', '/v1/status', { host })).status, host).toBe(421);
    }
  });

  it('takes the configured listen address, and names in allowedHosts (with the listen port unless they carry one)', async () => {
    const byAddress = dummy({ listen: '10.1.2.3:7000' });
    expect((await send(byAddress, 'GET', '/', { host: '10.1.2.3:7000' })).status).toBe(200);
    expect((await send(byAddress, 'GET', '/', { host: '10.1.2.4:7000' })).status).toBe(421);
    const wildcard = dummy({ listen: '0.0.0.0:7000', allowedHosts: ['proxy.lab', 'tunnel.local:8000'] });
    expect((await send(wildcard, 'GET', '/', { host: 'proxy.lab:7000' })).status).toBe(200);
    expect((await send(wildcard, 'GET', '/', { host: 'tunnel.local:8000' })).status).toBe(200);
    expect((await send(wildcard, 'GET', '/', { host: 'tunnel.local:7000' })).status).toBe(421);
    expect((await send(wildcard, 'GET', '/', { host: '0.0.0.0:7000' })).status).toBe(421);
    expect((await send(wildcard, 'GET', '/', { host: 'evil.example:7000' })).status).toBe(421);
    expect(() => dummy({ listen: '0.0.0.0:7000', allowedHosts: ['http://x/'] })).toThrow(/allowedHosts/);
  });

  it('does not check Host on a unix socket (curl --unix-socket sends "localhost"; a browser cannot connect)', async () => {
    const app = dummy({ listen: 'unix:/run/vswitch/api.sock' });
    expect((await send(app, 'GET', '/v1/status', { host: 'evil.example' })).status).toBe(200);
  });
});

describe('request guard: Origin and Fetch Metadata (CSRF)', () => {
  it('createApp refuses a POST from another origin with 403 cross-origin and adds no rule; its own origin may', async () => {
    const { h, app } = await daemon();
    const json = { 'content-type': 'application/json' };
    const res = await send(app, 'POST', '/v1/rules', { ...json, origin: 'http://evil.example' }, RULE);
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ status: 403, code: 'cross-origin' });
    expect(res.body.detail).toContain('"http://evil.example"');
    for (const origin of ['null', 'http://localhost:8080', 'https://localhost:7000', 'http://127.0.0.1:7000']) {
      expect((await send(app, 'POST', '/v1/rules', { ...json, origin }, RULE)).status, origin).toBe(403);
    }
    expect((await send(app, 'DELETE', '/v1/rules/1', { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect(h.datapath.core.rules.size).toBe(0);
    expect((await send(app, 'POST', '/v1/rules', { ...json, origin: 'http://localhost:7000', 'sec-fetch-site': 'same-origin' }, RULE)).status).toBe(201);
  });

  it('refuses a cross-origin change before authentication: 403 cross-origin, not 401, when tokens are required', async () => {
    const { app } = await daemon({ tokens: true });
    const res = await send(app, 'POST', '/v1/rules', { 'content-type': 'application/json', origin: 'http://evil.example' }, RULE);
    expect(res.body).toMatchObject({ status: 403, code: 'cross-origin' });
    expect((await send(app, 'POST', '/v1/rules', { 'content-type': 'text/plain' }, RULE)).status).toBe(415);
  });

  it('lets a link from another site open a page, but not another page script or subresource read', async () => {
    const app = dummy({ listen: '127.0.0.1:7000' });
    const navigate = { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
    expect((await send(app, 'GET', '/docs', navigate)).status).toBe(200);
    expect((await send(app, 'GET', '/v1/events', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' })).status).toBe(403);
    expect((await send(app, 'GET', '/v1/events', { ...navigate, 'sec-fetch-dest': 'embed' })).status).toBe(403);
    expect((await send(app, 'GET', '/v1/events', { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'cors' })).status).toBe(403);
    expect((await send(app, 'GET', '/v1/events', { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors' })).status).toBe(200);
    expect((await send(app, 'GET', '/v1/status', { 'sec-fetch-site': 'none' })).status).toBe(200);
  });

  it('never sends CORS headers, not even to a preflight', async () => {
    const { app } = await daemon();
    const answers = [
      await send(app, 'OPTIONS', '/v1/rules', { origin: 'http://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' }),
      await send(app, 'OPTIONS', '/v1/rules', { origin: 'http://localhost:7000', 'access-control-request-method': 'POST' }),
      await send(app, 'GET', '/v1/status', { origin: 'http://localhost:7000' }),
      await send(app, 'POST', '/v1/rules', { 'content-type': 'text/plain' }, RULE),
    ];
    expect(answers[2]!.status).toBe(200);
    for (const res of answers) expect([...res.headers.keys()].filter((k) => k.startsWith('access-control-'))).toEqual([]);
  });
});

describe('request guard errors', () => {
  it('are VswitchErrors carrying their HTTP status', () => {
    const errors = [new HostNotAllowedError('evil', 'localhost'), new CrossOriginError('x'), new UnsupportedMediaTypeError('text/plain', 'POST')];
    expect(errors.map((e) => [e instanceof VswitchError, e.httpStatus, e.code])).toEqual([
      [true, 421, 'host-not-allowed'],
      [true, 403, 'cross-origin'],
      [true, 415, 'unsupported-media-type'],
    ]);
  });
});

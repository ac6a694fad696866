import { afterEach, describe, expect, it } from 'vitest';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { mkdtempSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_BODY_BYTES } from '../../../api/http/body-limit.js';
import { groupId, serveApi, type ApiServer } from '../../../api/http/server.js';
import { EventLog } from '../../../switch/event-log.js';
import { daemons, type TestDaemon } from './api-fixture.js';
import { guarded, wiringDeps, type GuardWiring } from './guarded-app.js';

const MiB = 1024 * 1024;
const RULE = JSON.stringify({ src: '02:00:00:00:00:0a', dst: 'any', target: 'vm2' });
const JSON_TYPE = { 'content-type': 'application/json' };

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

interface Served {
  h: TestDaemon;
  events: EventLog;
  server: ApiServer;
  /** How to reach it: a TCP port or a socket path. */
  target: { port: number } | { socketPath: string };
}

async function served(listen: string, wiring: GuardWiring = {}, socketGroup?: number): Promise<Served> {
  const events = new EventLog({ wallClock: () => 0 });
  const d = await daemons(1, { overrides: { ...wiringDeps({ listen, ...wiring }), events, dashboard: { clientJs: '', snapshotIntervalMs: 600_000 } } });
  cleanups.push(d.stop);
  const h = d.all[0]!;
  const server = await serveApi(guarded(h.app, h.deps, { listen, ...wiring }), listen, socketGroup === undefined ? {} : { socketGroup });
  cleanups.push(() => server.close());
  const target = listen.startsWith('unix:') ? { socketPath: listen.slice(5) } : { port: Number(server.address.split(':').pop()) };
  return { h, events, server, target };
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vswitch-guard-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: any;
}

/** One request over a real connection, Host and all set by hand. */
function send(s: Served, method: string, path: string, headers: Record<string, string>, body?: string | Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ ...s.target, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: (res.headers['content-type'] ?? '').includes('json') && text ? JSON.parse(text) : text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the guarded API on a real loopback socket (serveApi on 127.0.0.1, port 0)', () => {
  it('reports the port it bound, and answers its own loopback names', async () => {
    const s = await served('127.0.0.1:0');
    expect(s.server.address).toMatch(/^127\.0\.0\.1:\d+$/);
    const port = (s.target as { port: number }).port;
    expect(port).toBeGreaterThan(0);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) expect((await send(s, 'GET', '/v1/status', { host })).status, host).toBe(200);
  });

  it('refuses Host: evil.example (421), a POST with Origin: http://evil.example (403), text/plain (415) — and changes nothing', async () => {
    const s = await served('127.0.0.1:0');
    const own = `127.0.0.1:${(s.target as { port: number }).port}`;
    const rebinding = await send(s, 'GET', '/v1/rules', { host: 'evil.example' });
    expect([rebinding.status, rebinding.body.code]).toEqual([421, 'host-not-allowed']);
    expect((await send(s, 'GET', '/v1/rules', { host: `evil.example:${(s.target as { port: number }).port}` })).status).toBe(421);
    const csrf = await send(s, 'POST', '/v1/rules', { host: own, origin: 'http://evil.example', ...JSON_TYPE }, RULE);
    expect([csrf.status, csrf.body.code]).toEqual([403, 'cross-origin']);
    const simple = await send(s, 'POST', '/v1/rules', { host: own, 'content-type': 'text/plain' }, RULE);
    expect([simple.status, simple.body.code]).toEqual([415, 'unsupported-media-type']);
    expect(s.h.datapath.core.rules.size).toBe(0);
    expect((await send(s, 'POST', '/v1/rules', { host: own, origin: `http://${own}`, ...JSON_TYPE }, RULE)).status).toBe(201);
    expect(s.h.datapath.core.rules.size).toBe(1);
  });

  it('refuses a 2 MiB body with 413 and closes the connection', async () => {
    const s = await served('127.0.0.1:0');
    const res = await send(s, 'POST', '/v1/rules', { host: `localhost:${(s.target as { port: number }).port}`, ...JSON_TYPE }, Buffer.alloc(2 * MiB, 0x20));
    expect([res.status, res.body.code, res.headers.connection]).toEqual([413, 'body-too-large', 'close']);
  });

  it('answers a chunked body that never ends with 413 once the bound is passed, while the client is still sending', async () => {
    const s = await served('127.0.0.1:0');
    const limit = 64 * MiB;
    let sent = 0;
    let answer: { status: number; sentWhenAnswered: number } | undefined;
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(
        { ...s.target, method: 'POST', path: '/v1/rules', agent: false, headers: { host: `localhost:${(s.target as { port: number }).port}`, ...JSON_TYPE } },
        (res) => {
          answer = { status: res.statusCode ?? 0, sentWhenAnswered: sent };
          res.resume();
          req.destroy();
          resolve();
        },
      );
      req.on('error', (err) => (answer ? resolve() : reject(err)));
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = (): void => {
        while (answer === undefined && sent < limit) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        if (answer === undefined) req.end();
      };
      pump();
    });
    expect(answer?.status).toBe(413);
    expect(answer!.sentWhenAnswered).toBeGreaterThan(MAX_BODY_BYTES);
    expect(answer!.sentWhenAnswered).toBeLessThan(limit);
  });

  it('drops an event-stream client that stops reading: its subscription ends and the daemon closes the connection', async () => {
    const s = await served('127.0.0.1:0', { sseBounds: { maxQueuedBytes: 64 * 1024 } });
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest({ ...s.target, path: '/v1/events', agent: false, headers: { host: `localhost:${(s.target as { port: number }).port}`, connection: 'keep-alive' } }, resolve);
      req.on('error', reject);
      req.end();
    });
    expect(res.statusCode).toBe(200);
    res.pause(); // reads nothing more: the kernel's buffers fill, then the daemon's queue
    const note = 'x'.repeat(199);
    let recorded = 0;
    for (; recorded < 40_000 && s.events.subscribers > 0; recorded++) {
      s.events.record('info', 'rule-added', 'rule added', { id: recorded, a: note, b: note, c: note, d: note });
      if (recorded % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(s.events.subscribers).toBe(0);
    expect(recorded).toBeLessThan(40_000);
    // Reading again, the client gets what the kernel held, then the connection goes: the daemon closed it (the
    // stream did not just end, which on a keep-alive connection would leave it open).
    const socket = res.socket;
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    let isEndOfStream = false;
    res.on('end', () => (isEndOfStream = true));
    res.on('error', () => {});
    res.resume();
    await closed;
    expect(isEndOfStream).toBe(false);
  }, 20_000); // ~4 MB of events through the kernel's buffers first: seconds on a loaded 2-core machine
});

describe('the API on a unix socket', () => {
  it('creates the socket mode 0600, does not check Host, and still refuses text/plain and cross-origin changes', async () => {
    const path = join(tempDir(), 'api.sock');
    const s = await served(`unix:${path}`);
    expect(statSync(path).isSocket()).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect((await send(s, 'GET', '/v1/status', { host: 'evil.example' })).status).toBe(200);
    expect((await send(s, 'POST', '/v1/rules', { host: 'localhost', 'content-type': 'text/plain' }, RULE)).status).toBe(415);
    expect((await send(s, 'POST', '/v1/rules', { host: 'localhost', origin: 'http://evil.example', ...JSON_TYPE }, RULE)).status).toBe(403);
    expect((await send(s, 'POST', '/v1/rules', { host: 'localhost', ...JSON_TYPE }, RULE)).status).toBe(201);
  });

  it('with a socket group: owned by that group, mode 0660', async () => {
    const path = join(tempDir(), 'api.sock');
    const gid = process.getgid!();
    await served(`unix:${path}`, {}, gid);
    expect(statSync(path).mode & 0o777).toBe(0o660);
    expect(statSync(path).gid).toBe(gid);
  });

  it('replaces a stale socket but never deletes another kind of file at the path', async () => {
    const dir = tempDir();
    const path = join(dir, 'api.sock');
    const first = await served(`unix:${path}`);
    // A daemon killed hard leaves its socket behind: simulate it by starting again without closing.
    const second = await serveApi(guarded(first.h.app, first.h.deps, { listen: `unix:${path}` }), `unix:${path}`);
    cleanups.push(() => second.close());
    expect(statSync(path).mode & 0o777).toBe(0o600);

    const file = join(dir, 'not-a-socket');
    writeFileSync(file, 'keep me');
    await expect(serveApi(first.h.app, `unix:${file}`)).rejects.toMatchObject({ code: 'api-listen' });
    expect(existsSync(file)).toBe(true);
  });

  it('looks a group name up in /etc/group', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'group'), 'root:x:0:\nvswitch:x:4242:alice,bob\n');
    expect(groupId('vswitch', join(dir, 'group'))).toBe(4242);
    expect(groupId('17')).toBe(17);
    expect(() => groupId('nobody-here', join(dir, 'group'))).toThrow(/no group/);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { BodyTooLargeError, bodyLimit, MAX_BODY_BYTES } from '../../../api/http/body-limit.js';
import { errorToResponse } from '../../../api/http/errors.js';
import { createLogger } from '../../../switch/log.js';
import { VswitchError } from '../../../switch/errors.js';
import { daemons, SPEC_TEXT, type TestDaemon } from './api-fixture.js';
import { guarded } from './guarded-app.js';
import { parse as parseYaml } from 'yaml';

const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;
const log = createLogger({ level: 'error', write: () => {}, pretty: false });

let stop: () => Promise<void> = async () => {};
afterEach(async () => stop());

async function daemon(): Promise<{ h: TestDaemon; app: { request: Hono['request'] } }> {
  const d = await daemons(1);
  stop = d.stop;
  const h = d.all[0]!;
  return { h, app: guarded(h.app, h.deps) };
}

/** `total` bytes of "[" + spaces (never valid JSON), made only as they are read, counting what was taken. */
function streamedBody(total: number): { body: ReadableStream<Uint8Array>; pulled: () => number } {
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (pulled >= total) return controller.close();
        const chunk = new Uint8Array(Math.min(CHUNK, total - pulled)).fill(0x20);
        if (pulled === 0) chunk[0] = 0x5b;
        pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
    },
    { highWaterMark: 0 },
  );
  return { body, pulled: () => pulled };
}

function post(path: string, body: ReadableStream<Uint8Array> | string, headers: Record<string, string> = {}): Request {
  return new Request(`http://localhost${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    duplex: 'half',
  } as RequestInit);
}

describe('request body limit', () => {
  it('createApp refuses a 2 MiB body with 413 from its Content-Length alone, reading none of it', async () => {
    const { h, app } = await daemon();
    const { body, pulled } = streamedBody(2 * MiB);
    const res = await app.request(post('/v1/rules', body, { 'content-length': String(2 * MiB) }));
    expect(res.status).toBe(413);
    expect(res.headers.get('connection')).toBe('close');
    expect(await res.json()).toMatchObject({ status: 413, code: 'body-too-large', title: 'Content Too Large' });
    expect(pulled()).toBe(0);
    expect(h.datapath.core.rules.size).toBe(0);
  });

  it('createApp refuses a streamed (chunked) 8 MiB body with 413 once the limit is passed, not after buffering it all', async () => {
    const { app } = await daemon();
    const { body, pulled } = streamedBody(8 * MiB);
    const res = await app.request(post('/v1/rules', body, { 'transfer-encoding': 'chunked' }));
    // Today the validator reads all 8 MiB into one string (and then finds it is not JSON: 400).
    expect(pulled()).toBeLessThanOrEqual(MAX_BODY_BYTES + 2 * CHUNK);
    expect(pulled()).toBeGreaterThan(MAX_BODY_BYTES);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { detail: string }).detail).toContain(`over ${MAX_BODY_BYTES} bytes`);
  });

  it('counts a body sent with no length at all (app.request) the same way', async () => {
    const { app } = await daemon();
    const res = await app.request(post('/v1/links', ' '.repeat(2 * MiB)));
    expect(res.status).toBe(413);
  });

  it('takes a topology text at the schema maximum written as descriptions are (a line per 32 characters), and the bound is under 2 MiB', async () => {
    const spec = parseYaml(SPEC_TEXT) as { components: { schemas: { TopologyText: { properties: { text: { maxLength: number } } } } } };
    const maxLength = spec.components.schemas.TopologyText.properties.text.maxLength;
    const text = `${'host h1 at 10.0.0.1 key abc;'.padEnd(31, ' ')}\n`.repeat(maxLength / 32);
    expect(text.length).toBe(maxLength);
    const app = new Hono();
    app.use('*', bodyLimit());
    app.post('/v1/topology/apply', async (c) => c.json({ chars: ((await c.req.json()) as { text: string }).text.length }));
    app.onError((err, c) => errorToResponse(err, c, log));
    const res = await app.request(post('/v1/topology/apply', JSON.stringify({ text, file: 'x'.repeat(256) })));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ chars: maxLength });
    expect(MAX_BODY_BYTES).toBeGreaterThanOrEqual(1.5 * maxLength);
    expect(MAX_BODY_BYTES).toBeLessThan(2 * MiB);
  });

  it('lets bodies at the bound through, whether their length is declared or counted', async () => {
    const app = new Hono();
    app.use('*', bodyLimit({ maxBytes: 100 }));
    app.post('*', async (c) => c.text(String((await c.req.text()).length)));
    app.onError((err, c) => errorToResponse(err, c, log));
    expect(await (await app.request(post('/', 'x'.repeat(100), { 'content-length': '100' }))).text()).toBe('100');
    expect(await (await app.request(post('/', 'x'.repeat(100)))).text()).toBe('100');
    expect((await app.request(post('/', 'x'.repeat(101)))).status).toBe(413);
    expect((await app.request(post('/', 'x', { 'content-length': 'lots' }))).status).toBe(413);
  });

  it('BodyTooLargeError is a VswitchError carrying 413', () => {
    const err = new BodyTooLargeError(10, 11);
    expect([err instanceof VswitchError, err.httpStatus, err.code, err.responseHeaders()]).toEqual([true, 413, 'body-too-large', { connection: 'close' }]);
  });
});

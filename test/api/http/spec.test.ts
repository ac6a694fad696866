import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createRequestValidator } from '../../../api/http/request-validator.js';
import { compareRoutesWithSpec } from '../../../api/http/spec-routes.js';
import { call, daemons, SPEC_TEXT } from './api-fixture.js';

let stop: () => Promise<void> = async () => {};
afterEach(async () => stop());

describe('openapi.yaml is the one source of the API', () => {
  it('every route the app serves is in the spec, and every operation in the spec is served', async () => {
    const d = await daemons(1);
    stop = d.stop;
    const differences = compareRoutesWithSpec(d.all[0]!.app, createRequestValidator(SPEC_TEXT));
    expect(differences).toEqual({ notInSpec: [], notServed: [] });
  });

  it('the check does see a difference', async () => {
    const d = await daemons(1);
    stop = d.stop;
    const app = d.all[0]!.app;
    app.get('/v1/undocumented', (c) => c.text('x'));
    const trimmed = parse(SPEC_TEXT) as { paths: Record<string, unknown> };
    delete trimmed.paths['/v1/macs'];
    const differences = compareRoutesWithSpec(app, createRequestValidator(JSON.stringify(trimmed)));
    expect(differences).toEqual({ notInSpec: ['GET /v1/macs', 'GET /v1/undocumented'], notServed: [] });
  });

  it('every operation\'s schemas compile (the daemon compiles each on first use), and one that cannot fails compileAll', () => {
    expect(() => createRequestValidator(SPEC_TEXT).compileAll()).not.toThrow();
    const broken = parse(SPEC_TEXT) as { paths: Record<string, Record<string, { parameters?: unknown[] }>> };
    broken.paths['/v1/macs']!['get']!.parameters = [{ name: 'x', in: 'query', schema: { type: 'no-such-type' } }];
    const validator = createRequestValidator(JSON.stringify(broken)); // starts: nothing compiled yet
    expect(() => validator.compileAll()).toThrow();
  });

  it('every operation has a unique operationId, and every input object refuses unknown fields', () => {
    const spec = parse(SPEC_TEXT) as { paths: Record<string, Record<string, { operationId?: string }>>; components: { schemas: Record<string, { additionalProperties?: unknown }> } };
    const ids = Object.values(spec.paths).flatMap((item) => Object.values(item).flatMap((op) => (op && typeof op === 'object' && 'operationId' in op ? [op.operationId] : [])));
    const operations = Object.values(spec.paths).flatMap((item) => Object.keys(item).filter((k) => ['get', 'put', 'post', 'delete', 'patch'].includes(k)));
    expect(ids).toHaveLength(operations.length);
    expect(new Set(ids).size).toBe(ids.length);
    for (const name of ['LinkInput', 'RuleInput', 'ConfigTime']) expect(spec.components.schemas[name]!.additionalProperties).toBe(false);
  });

  it('serves the spec at /openapi.yaml and a self-contained docs page at /docs', async () => {
    const d = await daemons(1);
    stop = d.stop;
    const app = d.all[0]!.app;
    const spec = await app.request('http://localhost/openapi.yaml');
    expect(spec.headers.get('content-type')).toContain('application/yaml');
    expect(await spec.text()).toBe(SPEC_TEXT);

    const docs = await app.request('http://localhost/docs');
    expect(docs.headers.get('content-type')).toContain('text/html');
    const html = await docs.text();
    for (const id of ['addLink', 'deleteRule', 'setConfigTime', 'listHostRules']) expect(html).toContain(`id="op-${id}"`);
    expect(html).toContain('id="schema-RuleInput"');
    expect(html).not.toMatch(/<script|https?:\/\/(?!127\.0\.0\.1)/); // nothing fetched from elsewhere
  });

  it('problem bodies match the Problem schema (RFC 9457 fields)', async () => {
    const d = await daemons(1);
    stop = d.stop;
    const res = await call(d.all[0]!.app, 'DELETE', '/v1/rules/5');
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(Object.keys(res.body).sort()).toEqual(['code', 'detail', 'instance', 'status', 'title', 'type']);
  });
});

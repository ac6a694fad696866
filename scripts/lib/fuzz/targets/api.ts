/**
 * The API request validator → createRequestValidator(openapi.yaml's text) and its middleware
 * (api/http/request-validator.ts validateRequests: match, then validate path, query and body), in a Hono app
 * as api/http/app.ts mounts it, on arbitrary method / path / query / body.
 *
 * Requests are made from the spec: an operation's path with its parameters filled (valid, boundary, encoded,
 * broken %-escapes), its query parameters and others, and a body generated from the operation's JSON Schema
 * (then broken here and there), or mutated, or garbage.
 *
 * Oracle: the request passes (the route answers) or the validator throws RequestValidationError (a 400 with
 * its field list); anything else reaching the app's error handler is a crash.
 */
import { Hono } from 'hono';
import { parse as parseYaml } from 'yaml';
import { readPackageFile } from '../../../../api/package-files.js';
import { createRequestValidator, RequestValidationError, validateRequests, type MatchedRequest } from '../../../../api/http/request-validator.js';
import { jsonText, randomJson, type Json } from '../json-gen.js';
import { mutateText } from '../mutate.js';
import type { Rng } from '../rng.js';
import { check, jsonCodec, type FuzzTarget } from '../target.js';

export interface ApiInput {
  method: string;
  /** Path and query, as on the request line. */
  url: string;
  /** Request body text, or null for none. */
  body: string | null;
  contentType?: string;
}

type Schema = Record<string, unknown>;
const KEY = 'm27sy1It46pvVHoaX1hlMHuX+8oGyVVdoo8y03MUTwg=';
/** Values for the spec's patterns (a random string almost never matches one). */
const PATTERN_VALUES: Record<string, string[]> = {
  '^[a-z0-9][a-z0-9-]{0,31}$': ['h1', 'proxy', 'a-b', 'H1', 'a'.repeat(33), ''],
  '^[0-9a-f]{2}(:[0-9a-f]{2}){5}$': ['02:00:c6:13:01:01', '02:00:C6:13:01:01', '02:00:c6:13:01'],
  '^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$': [KEY, KEY.replace('w=', 'x='), KEY.slice(1)],
  '^((udp|tcp):)?([0-9]{1,3}(\\.[0-9]{1,3}){3}|\\[[0-9a-fA-F:.]+\\]):[0-9]{1,5}$': ['198.18.0.2:51820', 'tcp:[::1]:443', 'udp:1.2.3.4:99999', '[]:1'],
  '^([0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}|any)$': ['any', '02:00:00:00:00:01', 'none'],
  '^([0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}|any|none)$': ['any', 'none', '02:00:00:00:00:02', 'ANY'],
  '^https?://': ['http://127.0.0.1:9/x', 'https://', 'ftp://x'],
};
const METHODS_ODD = ['HEAD', 'OPTIONS', 'PATCH', 'TRACE', 'PROPFIND', 'get', 'Post', 'M-SEARCH'];
const PARAM_VALUES = ['h1', 'proxy', '7', '0', '-1', '1.5', '1e3', '99999999999999999999', 'a'.repeat(40), '%41', '%2F', '%zz', '%', '..', '%00', '%E2%82%AC', '%F0%9F%98', 'any', '02:00:c6:13:01:01', 'fastpath', 'vttif', ''];
const QUERY_VALUES = ['json', 'dot', 'text', 'xml', '', '02:00:c6:13:01:01', 'any', 'h1', '%zz', '%', '1', '-1', 'true', 'a'.repeat(300)];

function resolveRef(spec: Schema, ref: string): Schema | undefined {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = spec;
  for (const part of ref.slice(2).split('/')) node = (node as Schema | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  return node as Schema | undefined;
}

/** A value for a JSON Schema (as OpenAPI 3.1 writes them), broken with probability `breakP` at each node. */
export function fromSchema(rng: Rng, spec: Schema, schema: Schema | undefined, breakP: number, depth = 0): Json {
  if (schema === undefined || depth > 8) return randomJson(rng, {}, 1);
  if (typeof schema.$ref === 'string') return fromSchema(rng, spec, resolveRef(spec, schema.$ref), breakP, depth + 1);
  if (rng.bool(breakP)) return randomJson(rng, {}, 2);
  const alternatives = (schema.oneOf ?? schema.anyOf) as Schema[] | undefined;
  if (Array.isArray(alternatives) && alternatives.length > 0) return fromSchema(rng, spec, rng.pick(alternatives), breakP, depth + 1);
  if (Array.isArray(schema.enum)) return rng.pick(schema.enum as Json[]);
  if (schema.const !== undefined) return schema.const as Json;
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : typeof schema.type === 'string' ? [schema.type] : schema.properties ? ['object'] : ['string'];
  const type = rng.pick(types);
  const min = typeof schema.minimum === 'number' ? schema.minimum : -1000;
  const max = typeof schema.maximum === 'number' ? schema.maximum : 1000;
  switch (type) {
    case 'null':
      return null;
    case 'boolean':
      return rng.bool();
    case 'integer':
      return rng.pick([min, max, min - 1, max + 1, 0, Math.round((min + max) / 2), rng.range(Math.max(min, -1e9), Math.min(max, 1e9))]);
    case 'number':
      return rng.pick([min, max, min - 0.5, max + 0.5, (min + max) / 2, min + rng.float() * (max - min)]);
    case 'array': {
      const n = rng.size(typeof schema.maxItems === 'number' ? schema.maxItems + 1 : 5);
      return Array.from({ length: n }, () => fromSchema(rng, spec, schema.items as Schema | undefined, breakP, depth + 1));
    }
    case 'object': {
      const out: { [key: string]: Json } = {};
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      const required = (schema.required ?? []) as string[];
      for (const [key, sub] of Object.entries(properties)) {
        if (!required.includes(key) && rng.bool(0.4)) continue;
        if (rng.bool(breakP / 2)) continue;
        out[key] = fromSchema(rng, spec, sub, breakP, depth + 1);
      }
      if (rng.bool(breakP)) out[rng.pick(['extra', '__proto__', 'constructor', ''])] = randomJson(rng, {}, 1);
      return out;
    }
    default: {
      const pattern = typeof schema.pattern === 'string' ? PATTERN_VALUES[schema.pattern] : undefined;
      if (pattern) return rng.pick(pattern);
      const examples = schema.examples as Json[] | undefined;
      if (Array.isArray(examples) && examples.length > 0 && rng.bool(0.5)) return rng.pick(examples);
      const maxLength = typeof schema.maxLength === 'number' ? schema.maxLength : 40;
      return rng.pick(['', 'x', 'tap0', 'h1', 'x'.repeat(maxLength), 'x'.repeat(maxLength + 1), `host p key "${KEY}" proxy\n`, 'link a b\n']);
    }
  }
}

interface Operation {
  method: string;
  path: string;
  pathParams: string[];
  query: string[];
  bodySchema: Schema | undefined;
}

function operationsOf(spec: Schema): Operation[] {
  const ops: Operation[] = [];
  for (const [path, rawItem] of Object.entries((spec.paths ?? {}) as Record<string, Schema>)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch']) {
      const op = rawItem[method] as Schema | undefined;
      if (!op) continue;
      const params = [...((rawItem.parameters as Schema[]) ?? []), ...((op.parameters as Schema[]) ?? [])].map((p) => (typeof p.$ref === 'string' ? (resolveRef(spec, p.$ref) ?? p) : p));
      let body = op.requestBody as Schema | undefined;
      if (body && typeof body.$ref === 'string') body = resolveRef(spec, body.$ref);
      const bodySchema = ((body?.content as Schema | undefined)?.['application/json'] as Schema | undefined)?.schema as Schema | undefined;
      ops.push({
        method: method.toUpperCase(),
        path,
        pathParams: params.filter((p) => p.in === 'path').map((p) => String(p.name)),
        query: params.filter((p) => p.in === 'query').map((p) => String(p.name)),
        bodySchema,
      });
    }
  }
  return ops;
}

/** encodeURIComponent that takes lone surrogates too (as U+FFFD). */
function encode(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      out += text.slice(i, i + 2);
      i++;
    } else out += c >= 0xd800 && c <= 0xdfff ? '\ufffd' : text[i]!;
  }
  return encodeURIComponent(out);
}

function generateInput(rng: Rng, spec: Schema, ops: Operation[]): ApiInput {
  const op = rng.pick(ops);
  const method = rng.bool(0.9) ? op.method : rng.pick([...METHODS_ODD, ...ops.map((o) => o.method)]);
  let path = op.path.replace(/\{([^}]+)\}/g, () => (rng.bool(0.7) ? rng.pick(PARAM_VALUES) : encode(String(randomJson(rng, {}, 0)))) || 'x');
  if (rng.bool(0.1)) path = mutateText(rng, path, { dictionary: ['/', '//', '%2F', '%', '..', '?', '#', '{id}', ';', 'v1', 'v2'], maxMutations: 2 });
  if (!path.startsWith('/')) path = `/${path}`;
  const names = [...op.query, ...(rng.bool(0.3) ? ['format', 'src', 'dst', 'from', 'x', ''] : [])];
  const query: string[] = [];
  for (const name of names) {
    if (rng.bool(0.3)) continue;
    const times = rng.bool(0.1) ? 2 : 1;
    for (let i = 0; i < times; i++) query.push(`${name}=${rng.bool(0.8) ? rng.pick(QUERY_VALUES) : encode(String(randomJson(rng, {}, 0)))}`);
  }
  const url = path.replace(/[#?]/g, (c) => encode(c)) + (query.length > 0 ? `?${query.join('&')}` : '');
  let body: string | null = null;
  if (method !== 'GET' && method !== 'HEAD' && method !== 'get') {
    const r = rng.float();
    if (r < 0.6 && op.bodySchema) body = jsonText(rng, fromSchema(rng, spec, op.bodySchema, rng.pick([0, 0.05, 0.15])));
    else if (r < 0.75 && op.bodySchema) body = mutateText(rng, JSON.stringify(fromSchema(rng, spec, op.bodySchema, 0)), { dictionary: ['{', '}', '"', ',', ':', 'null', '1e999', '-0', '\\u0000', '[', ']'] });
    else if (r < 0.85) body = jsonText(rng, randomJson(rng, {}, 4));
    else if (r < 0.93) body = rng.pick(['', ' ', 'null', '0', '"x"', '[]', '{}', '{"text":', '\ufeff{}']);
    // else: no body at all
  }
  return { method, url, body, ...(rng.bool(0.1) ? { contentType: rng.pick(['text/plain', 'application/json; charset=latin1', '']) } : {}) };
}

export function apiTarget(): FuzzTarget<ApiInput> {
  let app: Hono | undefined;
  let spec: Schema;
  let ops: Operation[];
  /** What the app's handlers saw of the last request. */
  const seen: { failure?: { error: unknown }; matched?: MatchedRequest } = {};

  const setup = (): Hono => {
    const text = readPackageFile('openapi.yaml');
    spec = parseYaml(text) as Schema;
    ops = operationsOf(spec);
    const validator = createRequestValidator(text);
    const hono = new Hono<{ Variables: { request: MatchedRequest } }>();
    hono.onError((error, c) => {
      seen.failure = { error };
      return c.text('error', error instanceof RequestValidationError ? 400 : 500);
    });
    hono.use('*', validateRequests(validator));
    hono.all('*', (c) => {
      seen.matched = c.get('request');
      return c.text('ok');
    });
    return hono as unknown as Hono;
  };

  return {
    name: 'api-validator',
    summary: 'createRequestValidator(openapi.yaml) middleware on any method/path/query/body: passes, or RequestValidationError',
    generate(rng) {
      app ??= setup();
      return generateInput(rng, spec, ops);
    },
    async execute(input) {
      app ??= setup();
      Object.assign(seen, { failure: undefined, matched: undefined });
      const headers: Record<string, string> = input.contentType !== undefined ? { 'content-type': input.contentType } : input.body !== null ? { 'content-type': 'application/json' } : {};
      const init: RequestInit = { method: input.method, headers, ...(input.body !== null ? { body: input.body } : {}) };
      let request: Request;
      try {
        request = new Request(`http://fuzz.local${input.url.startsWith('/') ? '' : '/'}${input.url}`, init);
      } catch {
        return 'no-request'; // not a request an HTTP server would hand over (a GET with a body, a bad method)
      }
      const response = await app.fetch(request);
      await response.arrayBuffer();
      if (seen.failure) throw seen.failure.error;
      check(response.status === 200, `status ${response.status} without an error`);
      const matched = seen.matched;
      if (matched) check(typeof matched.operation.operationId === 'string' && typeof matched.params === 'object', 'matched request of the wrong shape');
      return matched ? `pass:${matched.operation.operationId}`.slice(0, 40) : 'unmatched';
    },
    classify(error) {
      if (error instanceof RequestValidationError) {
        return error.problems.length > 0 && error.problems.every((p) => typeof p.field === 'string' && p.field.startsWith('/') && typeof p.message === 'string') ? 'RequestValidationError' : undefined;
      }
      return undefined;
    },
    ...jsonCodec<ApiInput>((input) => input.url.length + (input.body?.length ?? 0)),
    worstCases: [
      { name: 'long path parameter', make: (n) => ({ method: 'GET', url: `/v1/hosts/${'a'.repeat(n)}/links`, body: null }) },
      { name: 'long query value', make: (n) => ({ method: 'GET', url: `/v1/topology/route?src=${'0'.repeat(n)}&dst=any`, body: null }) },
      { name: 'deep body nesting', make: (n) => ({ method: 'POST', url: '/v1/rules', body: '['.repeat(Math.floor(n / 2)) + ']'.repeat(Math.floor(n / 2)) }) },
      { name: 'big topology text', make: (n) => ({ method: 'POST', url: '/v1/topology/diff', body: JSON.stringify({ text: 'link a b\n'.repeat(Math.floor(n / 9)) }) }) },
      { name: 'many unknown body keys', make: (n) => ({ method: 'POST', url: '/v1/rules', body: JSON.stringify(Object.fromEntries(Array.from({ length: Math.floor(n / 12) }, (_, i) => [`k${i}`, 1]))) }) },
    ],
  };
}

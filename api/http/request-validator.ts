/**
 * Every request is checked against openapi.yaml before a handler runs, so the
 * spec is the contract and not just documentation.
 *
 * The spec is parsed once, at start-up (0.3 s; left there so a restarted
 * daemon's first request is not slowed by it); each operation's path, query and
 * body schemas are compiled with Ajv (JSON Schema 2020-12, which is what OpenAPI
 * 3.1 schemas are) on that operation's first request. Compiling all 57 at start
 * took 0.66 s of CPU and ~15 MB of a daemon's memory (docs/scale.md), and a host
 * daemon's API may never see most of them. `compileAll()` compiles everything
 * (the unit tests call it, so a spec a schema cannot compile still fails CI).
 * The whole spec is registered as one schema document, so the operations'
 * `$ref: '#/components/...'` resolve inside it exactly as the spec means them;
 * nothing is copied or rewritten.
 *
 * Per request: find the operation (path template + method), then check path
 * parameters (strings coerced to the declared type: "/rules/7" → 7), query
 * parameters, and the JSON body (no coercion: "5" is not an integer).
 * Failures throw RequestValidationError, which `api/http/errors.ts` maps to a 400
 * whose `errors` list names each field ("/body/src", "/path/id") — before
 * any handler, so a bad request changes nothing.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { Context, MiddlewareHandler } from 'hono';
import { parse as parseYaml } from 'yaml';
import { VswitchError } from '../../switch/errors.js';
import type { ProblemFieldError } from '../wire/schemas.js';

const SPEC_ID = 'urn:vswitch:openapi';
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;
/** Top-level and Path Item words of OpenAPI that are not JSON Schema keywords. */
const OPENAPI_WORDS = ['openapi', 'info', 'servers', 'paths', 'components', 'security', 'tags', 'webhooks', 'externalDocs', 'jsonSchemaDialect'];

/** A request that does not match openapi.yaml. HTTP 400 listing each bad field. */
export class RequestValidationError extends VswitchError {
  constructor(readonly problems: readonly ProblemFieldError[]) {
    const first = problems[0];
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    super('request-invalid', first ? `${first.field} ${first.message}${more}` : 'the request does not match the API', { httpStatus: 400 });
  }

  override fieldErrors(): readonly ProblemFieldError[] {
    return this.problems;
  }
}

export interface SpecOperation {
  readonly operationId: string;
  /** Upper-case HTTP method. */
  readonly method: string;
  /** The spec's template: "/v1/rules/{id}". */
  readonly path: string;
  /** True when the spec says `security: []` (no token needed). */
  readonly isPublic: boolean;
  readonly isMutation: boolean;
}

interface CompiledOperation extends SpecOperation {
  readonly pattern: RegExp;
  readonly pathParamNames: readonly string[];
  /** Each compiles its schema on its first call (and keeps it); undefined: nothing to check there. */
  readonly validatePath: (() => ValidateFunction) | undefined;
  readonly validateQuery: (() => ValidateFunction) | undefined;
  readonly queryParamNames: readonly string[];
  readonly validateBody: (() => ValidateFunction) | undefined;
  readonly isBodyRequired: boolean;
}

export interface MatchedRequest {
  readonly operation: SpecOperation;
  /** Path parameters after validation and coercion. */
  readonly params: Record<string, unknown>;
  /** The parsed JSON body, validated (undefined when the operation has none). */
  readonly body: unknown;
}

export interface RequestValidator {
  readonly operations: readonly SpecOperation[];
  /** The parsed spec (parsed once). */
  spec(): Readonly<Record<string, unknown>>;
  /** Finds the operation; undefined when the spec has no such path + method. */
  match(method: string, path: string): SpecOperation | undefined;
  /** Validates the request against its operation; throws RequestValidationError. */
  validate(c: Context, operation: SpecOperation): Promise<MatchedRequest>;
  /** Compiles every operation's schemas now (they compile on first use otherwise); throws what Ajv throws. */
  compileAll(): void;
}

type Json = Record<string, unknown>;

export function createRequestValidator(specText: string): RequestValidator {
  const parsed = once(() => {
    const spec = parseYaml(specText) as Json;
    // Two instances: parameters arrive as strings and are coerced; bodies are JSON and are not.
    const strictAjv = once(() => newAjv(false, spec));
    const coercingAjv = once(() => newAjv(true, spec));
    const compiled: CompiledOperation[] = [];
    for (const [path, item] of Object.entries((spec.paths ?? {}) as Record<string, Json>)) {
      for (const method of HTTP_METHODS) {
        const op = item[method] as Json | undefined;
        if (op) compiled.push(compileOperation(spec, path, item, method, op, strictAjv, coercingAjv));
      }
    }
    const byMethod = new Map<string, CompiledOperation[]>();
    for (const op of compiled) byMethod.set(op.method, [...(byMethod.get(op.method) ?? []), op]);
    return { spec, compiled, byMethod };
  });
  parsed();

  return {
    get operations() {
      return parsed().compiled;
    },
    spec: () => parsed().spec,
    // HEAD is served by the GET route (Hono), so it is checked as that GET.
    match: (method, path) => parsed().byMethod.get(method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase())?.find((op) => op.pattern.test(path)),
    validate: (c, operation) => validateRequest(c, operation as CompiledOperation),
    compileAll: () => {
      for (const op of parsed().compiled) for (const compile of [op.validatePath, op.validateQuery, op.validateBody]) compile?.();
    },
  };
}

/** `make()` on the first call, the same value after. */
function once<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

/** Hono middleware: matches, then validates; the result is in `c.get('request')`. */
export function validateRequests(validator: RequestValidator): MiddlewareHandler<{ Variables: { request: MatchedRequest } }> {
  return async (c, next) => {
    const operation = validator.match(c.req.method, c.req.path);
    if (operation) c.set('request', await validator.validate(c, operation));
    await next();
  };
}

function newAjv(coerce: boolean, spec: Json): Ajv2020 {
  const ajv = new Ajv2020({
    allErrors: true,
    coerceTypes: coerce,
    strict: true,
    // Response-only formats; inputs use patterns. An unknown format in an input schema still fails at start-up.
    formats: { 'date-time': true },
  });
  ajv.addVocabulary(OPENAPI_WORDS);
  ajv.addSchema(spec, SPEC_ID);
  return ajv;
}

function compileOperation(spec: Json, path: string, item: Json, method: string, op: Json, strictAjv: () => Ajv2020, coercingAjv: () => Ajv2020): CompiledOperation {
  const operationId = String(op.operationId ?? `${method} ${path}`);
  const pathPointer = `/paths/${escapePointer(path)}`;
  // Path-item parameters first, then the operation's (which override by name + in).
  const params = new Map<string, { name: string; in: string; required: boolean; schemaPointer: string }>();
  const collect = (list: unknown, at: string): void => {
    if (!Array.isArray(list)) return;
    list.forEach((raw: Json, i) => {
      const { value, pointer } = resolve(spec, raw, `${at}/parameters/${i}`);
      params.set(`${String(value.in)}:${String(value.name)}`, {
        name: String(value.name),
        in: String(value.in),
        required: value.required === true,
        schemaPointer: `${pointer}/schema`,
      });
    });
  };
  collect(item.parameters, pathPointer);
  collect(op.parameters, `${pathPointer}/${method}`);

  const paramsIn = (where: string) => [...params.values()].filter((p) => p.in === where);
  const paramSchema = (list: { name: string; required: boolean; schemaPointer: string }[]) =>
    list.length === 0
      ? undefined
      : once(() =>
          coercingAjv().compile({
            type: 'object',
            properties: Object.fromEntries(list.map((p) => [p.name, { $ref: `${SPEC_ID}#${p.schemaPointer}` }])),
            required: list.filter((p) => p.required).map((p) => p.name),
          }),
        );

  let validateBody: (() => ValidateFunction) | undefined;
  let isBodyRequired = false;
  if (op.requestBody) {
    const { value, pointer } = resolve(spec, op.requestBody as Json, `${pathPointer}/${method}/requestBody`);
    const content = (value.content ?? {}) as Json;
    if (!content['application/json']) throw new Error(`openapi: ${operationId} has a request body that is not application/json`);
    validateBody = once(() => strictAjv().compile({ $ref: `${SPEC_ID}#${pointer}/content/application~1json/schema` }));
    isBodyRequired = value.required === true;
  }

  const pathParamNames = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
  const source = path
    .split(/\{[^}]+\}/)
    .map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))
    .join('([^/]+)');
  const upper = method.toUpperCase();
  return {
    operationId,
    method: upper,
    path,
    isPublic: Array.isArray(op.security) && op.security.length === 0,
    isMutation: !['GET', 'HEAD', 'OPTIONS'].includes(upper),
    pattern: new RegExp(`^${source}$`),
    pathParamNames,
    validatePath: paramSchema(paramsIn('path')),
    validateQuery: paramSchema(paramsIn('query')),
    queryParamNames: paramsIn('query').map((p) => p.name),
    validateBody,
    isBodyRequired,
  };
}

async function validateRequest(c: Context, op: CompiledOperation): Promise<MatchedRequest> {
  const errors: ProblemFieldError[] = [];
  const values = op.pattern.exec(c.req.path)?.slice(1) ?? [];
  const params: Record<string, unknown> = {};
  op.pathParamNames.forEach((name, i) => (params[name] = safeDecode(values[i] ?? '')));
  const validatePath = op.validatePath?.();
  if (validatePath && !validatePath(params)) errors.push(...fieldErrors('/path', validatePath.errors));

  const validateQuery = op.validateQuery?.();
  if (validateQuery) {
    const query: Record<string, unknown> = {};
    for (const name of op.queryParamNames) {
      const value = c.req.query(name);
      if (value !== undefined) query[name] = value;
    }
    if (!validateQuery(query)) errors.push(...fieldErrors('/query', validateQuery.errors));
  }

  let body: unknown;
  const validateBody = op.validateBody?.();
  if (validateBody) {
    const text = await c.req.text();
    if (text.trim() === '') {
      if (op.isBodyRequired) errors.push({ field: '/body', message: 'is required (a JSON object)' });
    } else {
      try {
        body = JSON.parse(text);
      } catch {
        errors.push({ field: '/body', message: 'is not valid JSON' });
      }
      if (body !== undefined && !validateBody(body)) errors.push(...fieldErrors('/body', validateBody.errors));
    }
  }
  if (errors.length > 0) throw new RequestValidationError(errors);
  return { operation: op, params, body };
}

function fieldErrors(base: string, errors: ErrorObject[] | null | undefined): ProblemFieldError[] {
  return (errors ?? []).map((e) => {
    const params = e.params as { missingProperty?: string; additionalProperty?: string; allowedValues?: unknown[] };
    if (e.keyword === 'required') return { field: `${base}${e.instancePath}/${params.missingProperty}`, message: 'is required' };
    if (e.keyword === 'additionalProperties') return { field: `${base}${e.instancePath}/${params.additionalProperty}`, message: 'is not a known field' };
    if (e.keyword === 'enum') return { field: `${base}${e.instancePath}`, message: `must be one of ${(params.allowedValues ?? []).join(', ')}` };
    return { field: `${base}${e.instancePath}` || base, message: e.message ?? `fails ${e.keyword}` };
  });
}

function resolve(spec: Json, value: Json, pointer: string): { value: Json; pointer: string } {
  const ref = value.$ref;
  if (typeof ref !== 'string') return { value, pointer };
  if (!ref.startsWith('#/')) throw new Error(`openapi: only local $refs are supported (found ${ref})`);
  const target = ref
    .slice(2)
    .split('/')
    .reduce<unknown>((node, key) => (node as Json | undefined)?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], spec);
  if (target === undefined) throw new Error(`openapi: $ref ${ref} points at nothing`);
  return resolve(spec, target as Json, ref.slice(1));
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

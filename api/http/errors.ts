/**
 * The one place where errors become HTTP responses (Hono `app.onError`).
 * Every response is RFC 9457 problem+json; the status comes from the error's
 * stable `code` (VswitchError), never from its message. Errors we did not
 * mean to throw are a 500 whose detail says nothing about internals; the
 * error itself goes to the log.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { VswitchError } from '../../switch/errors.js';
import type { Logger } from '../../switch/log.js';
import { InvalidInputError } from '../../switch/overlay/primitives.js';
import { VttifParameterError } from '../../plugins/vttif/errors.js';
import type { Problem, ProblemFieldError } from '../wire/schemas.js';

const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  'request-invalid': 400,
  'invalid-input': 400,
  unauthorized: 401,
  forbidden: 403,
  'plugin-disabled': 403,
  'policy-forbidden': 403,
  'rate-limited': 429,
  'not-found': 404,
  'not-proxy': 404,
  conflict: 409,
  'vttif-disabled': 409,
  VTTIF_INVALID_PARAMETER: 400,
  'host-unreachable': 502,
  'host-timeout': 504,
};

const TITLE_BY_STATUS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  504: 'Gateway Timeout',
};

/** Carries the per-field errors of a 400 (RequestValidationError has them). */
interface HasFieldErrors {
  readonly fieldErrors: readonly ProblemFieldError[];
}

export function problemResponse(body: Omit<Problem, 'title'> & { title?: string }, extraHeaders: Record<string, string> = {}): Response {
  const full: Problem = { ...body, title: body.title ?? TITLE_BY_STATUS[body.status] ?? 'Error' };
  const headers: Record<string, string> = { 'content-type': 'application/problem+json', ...extraHeaders };
  if (full.status === 401) headers['www-authenticate'] = 'Bearer realm="vswitch"';
  return new Response(JSON.stringify(full), { status: full.status, headers });
}

export function errorToResponse(err: Error, c: Context, log: Logger): Response {
  const instance = c.req.path;
  if (err instanceof VswitchError) {
    const status = STATUS_BY_CODE[err.code];
    if (status !== undefined) {
      const errors = fieldErrorsOf(err);
      return problemResponse({
        type: `urn:vswitch:problem:${err.code}`,
        status,
        detail: err.message,
        instance,
        code: err.code,
        ...(errors ? { errors } : {}),
      }, retryAfterOf(err));
    }
  }
  if (err instanceof HTTPException) {
    return problemResponse({ type: 'about:blank', status: err.status, detail: err.message, instance });
  }
  log.error('api: request failed', { method: c.req.method, path: instance, err });
  return problemResponse({
    type: 'urn:vswitch:problem:internal',
    status: 500,
    detail: `${c.req.method} ${instance} failed inside the daemon (see its log)`,
    instance,
    code: err instanceof VswitchError ? err.code : 'internal',
  });
}

export function notFoundResponse(c: Context): Response {
  return problemResponse({
    type: 'urn:vswitch:problem:no-route',
    status: 404,
    detail: `no route for ${c.req.method} ${c.req.path}`,
    instance: c.req.path,
    code: 'no-route',
  });
}

/** A 429 says when to come back (RateLimitedError.retryAfterS). */
function retryAfterOf(err: VswitchError): Record<string, string> {
  const s = (err as { retryAfterS?: unknown }).retryAfterS;
  return typeof s === 'number' ? { 'retry-after': String(s) } : {};
}

function fieldErrorsOf(err: VswitchError): ProblemFieldError[] | undefined {
  if (err instanceof InvalidInputError) return [{ field: `/body/${err.field}`, message: err.message }];
  if (err instanceof VttifParameterError) return [{ field: `/body/${err.parameter}`, message: err.message }];
  if ('fieldErrors' in err) return [...(err as VswitchError & HasFieldErrors).fieldErrors];
  return undefined;
}

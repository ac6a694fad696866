/**
 * The one place where errors become HTTP responses (Hono `app.onError`).
 * Every response is RFC 9457 problem+json; the status is the error's own
 * (VswitchError.httpStatus: each class says which it is), never read from its message. Errors we did not
 * mean to throw are a 500 whose detail says nothing about internals; the
 * error itself goes to the log.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { VswitchError } from '../../switch/errors.js';
import type { Logger } from '../../switch/log.js';
import type { Problem } from '../wire/schemas.js';

const TITLE_BY_STATUS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  421: 'Misdirected Request',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  504: 'Gateway Timeout',
};

export function problemResponse(body: Omit<Problem, 'title'> & { title?: string }, extraHeaders: Record<string, string> = {}): Response {
  const full: Problem = { ...body, title: body.title ?? TITLE_BY_STATUS[body.status] ?? 'Error' };
  const headers: Record<string, string> = { 'content-type': 'application/problem+json', ...extraHeaders };
  return new Response(JSON.stringify(full), { status: full.status, headers });
}

export function errorToResponse(err: Error, c: Context, log: Logger): Response {
  const instance = c.req.path;
  if (err instanceof VswitchError && err.httpStatus < 500) {
    const errors = err.fieldErrors();
    return problemResponse(
      {
        type: `urn:vswitch:problem:${err.code}`,
        status: err.httpStatus,
        detail: err.message,
        instance,
        code: err.code,
        ...(errors ? { errors: [...errors] } : {}),
      },
      err.responseHeaders(),
    );
  }
  if (err instanceof VswitchError && err.httpStatus !== 500) {
    // A gateway error (a relayed host did not answer): its message names the host, nothing internal.
    return problemResponse({ type: `urn:vswitch:problem:${err.code}`, status: err.httpStatus, detail: err.message, instance, code: err.code });
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

/**
 * API security: bearer tokens from the daemon config.
 *
 * - When `requireToken` is set (the config lists tokens), every request needs
 *   `Authorization: Bearer TOKEN`, except operations the spec marks
 *   `security: []` (GET /openapi.yaml, GET /docs): 401 without a known token.
 * - A read-only token may only read: a mutation (POST, PUT, DELETE, PATCH)
 *   gets 403 before the request is even validated.
 * - Without `requireToken` (loopback or unix socket, no tokens) the caller is
 *   "local"; a token that is sent is still checked.
 * - Tokens are compared in constant time: both sides are hashed to 32 bytes
 *   and compared with timingSafeEqual, and every configured token is
 *   compared, so neither the position nor the length of a match leaks.
 * Every mutation is logged with the actor that made it and the status.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { VswitchError } from '../switch/errors.js';
import type { Logger } from '../switch/log.js';
import type { Actor } from '../switch/overlay/primitives.js';
import type { RequestValidator } from './request-validator.js';

export interface ApiToken {
  name: string;
  token: string;
  readOnly: boolean;
}

export interface ApiAuth {
  tokens: readonly ApiToken[];
  requireToken: boolean;
}

/** The actor name of an unauthenticated request on loopback or a unix socket. */
export const LOCAL_ACTOR = 'local';

/** No token, or a wrong one. HTTP 401. */
export class UnauthorizedError extends VswitchError {
  constructor(reason: string) {
    super('unauthorized', `a valid bearer token is required: ${reason}`);
  }
}

/** A read-only token asked for a change. HTTP 403. */
export class ForbiddenError extends VswitchError {
  constructor(tokenName: string) {
    super('forbidden', `token "${tokenName}" is read-only and cannot change anything`);
  }
}

export function authenticate(auth: ApiAuth, validator: RequestValidator, log: Logger): MiddlewareHandler<{ Variables: { actor: Actor } }> {
  const hashed = auth.tokens.map((t) => ({ ...t, digest: digest(t.token) }));
  return async (c, next) => {
    const operation = validator.match(c.req.method, c.req.path);
    const isMutation = operation?.isMutation ?? !['GET', 'HEAD', 'OPTIONS'].includes(c.req.method);
    const header = c.req.header('authorization');
    let actor: Actor = { name: LOCAL_ACTOR };
    if (operation?.isPublic !== true) {
      if (header === undefined) {
        if (auth.requireToken) throw denied(log, c.req.method, c.req.path, new UnauthorizedError('none was given'));
      } else {
        const token = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
        if (token === undefined) throw denied(log, c.req.method, c.req.path, new UnauthorizedError('the Authorization header is not "Bearer TOKEN"'));
        const found = findToken(hashed, token);
        if (!found) throw denied(log, c.req.method, c.req.path, new UnauthorizedError('the token is not known'));
        if (found.readOnly && isMutation) throw denied(log, c.req.method, c.req.path, new ForbiddenError(found.name), found.name);
        actor = { name: found.name };
      }
    }
    c.set('actor', actor);
    await next();
    if (isMutation) log.info('api change', { method: c.req.method, path: c.req.path, actor: actor.name, status: c.res.status });
  };
}

function findToken<T extends { digest: Buffer }>(tokens: readonly T[], presented: string): T | undefined {
  const candidate = digest(presented);
  let found: T | undefined;
  for (const t of tokens) {
    if (timingSafeEqual(t.digest, candidate) && found === undefined) found = t;
  }
  return found;
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

function denied(log: Logger, method: string, path: string, err: VswitchError, actor?: string): VswitchError {
  log.warn('api request denied', { method, path, code: err.code, ...(actor ? { actor } : {}) });
  return err;
}

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
 * - A registered policy's token (plugins/host) makes the caller that policy,
 *   actor "policy:NAME". A policy may read anything but change only through
 *   POLICY_MUTATIONS (the primitives, applying a description, unregistering
 *   itself); a disabled policy gets 403, one over its rate 429 + Retry-After.
 * Every mutation is logged with the actor that made it and the status.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { VswitchError } from '../../switch/errors.js';
import type { Logger } from '../../switch/log.js';
import type { Actor } from '../../switch/overlay/primitives.js';
import type { RequestValidator } from './request-validator.js';

export interface ApiToken {
  name: string;
  token: string;
  readOnly: boolean;
}

export interface ApiAuth {
  tokens: readonly ApiToken[];
  requireToken: boolean;
  /** The registered policies' tokens (Proxy). */
  policies?: {
    byToken(token: string): PolicySession | undefined;
    /** What to answer for a token not known here instead of 401 (a standby Proxy: the policy's is on the active one). */
    unknownToken?(): VswitchError | undefined;
  };
}

/** A policy as the API sees it (plugins/host/http-policy.ts HttpPolicyEntry). */
export interface PolicySession {
  readonly name: string;
  readonly actor: string;
  readonly enabled: boolean;
  admit(): { ok: true } | { ok: false; retryAfterS: number; reason: string };
  requestDone(): void;
}

/** The changes a policy's token may make; everything else it may only read. */
export const POLICY_MUTATIONS: ReadonlySet<string> = new Set([
  'addLink',
  'deleteLink',
  'addRule',
  'deleteRule',
  'addHostLink',
  'deleteHostLink',
  'addHostRule',
  'deleteHostRule',
  'applyTopology',
  'diffTopology',
  'traceTopologyRoute',
  'unregisterPolicy',
]);

/** A policy over its rate or with too many requests in flight. HTTP 429 with Retry-After. */
export class RateLimitedError extends VswitchError {
  constructor(
    policy: string,
    reason: string,
    readonly retryAfterS: number,
  ) {
    super('rate-limited', `policy "${policy}" is over its request limit (${reason}): retry after ${retryAfterS} s`, { httpStatus: 429 });
  }

  override responseHeaders(): Record<string, string> {
    return { 'retry-after': String(this.retryAfterS) };
  }
}

/** A policy's token on a disabled policy, or asking for a change only operators make. HTTP 403. */
export class PolicyForbiddenError extends VswitchError {
  constructor(code: 'plugin-disabled' | 'policy-forbidden', message: string) {
    super(code, message, { httpStatus: 403 });
  }
}

/** The actor name of an unauthenticated request on loopback or a unix socket. */
export const LOCAL_ACTOR = 'local';

/** No token, or a wrong one. HTTP 401. */
export class UnauthorizedError extends VswitchError {
  constructor(reason: string) {
    super('unauthorized', `a valid bearer token is required: ${reason}`, { httpStatus: 401 });
  }

  override responseHeaders(): Record<string, string> {
    return { 'www-authenticate': 'Bearer realm="vswitch"' };
  }
}

/** A read-only token asked for a change. HTTP 403. */
export class ForbiddenError extends VswitchError {
  constructor(tokenName: string) {
    super('forbidden', `token "${tokenName}" is read-only and cannot change anything`, { httpStatus: 403 });
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
        const policy = found ? undefined : auth.policies?.byToken(token);
        if (policy) {
          policyAdmitted(policy, operation?.operationId, isMutation, (err) => denied(log, c.req.method, c.req.path, err, policy.actor));
          c.set('actor', { name: policy.actor });
          try {
            await next();
          } finally {
            policy.requestDone();
          }
          if (isMutation) log.info('api change', { method: c.req.method, path: c.req.path, actor: policy.actor, status: c.res.status });
          return;
        }
        if (!found) throw denied(log, c.req.method, c.req.path, auth.policies?.unknownToken?.() ?? new UnauthorizedError('the token is not known'));
        if (found.readOnly && isMutation) throw denied(log, c.req.method, c.req.path, new ForbiddenError(found.name), found.name);
        actor = { name: found.name };
      }
    }
    c.set('actor', actor);
    await next();
    if (isMutation) log.info('api change', { method: c.req.method, path: c.req.path, actor: actor.name, status: c.res.status });
  };
}

/** Throws unless the policy may make this request now (and then it holds one in-flight slot). */
function policyAdmitted(policy: PolicySession, operationId: string | undefined, isMutation: boolean, deny: (err: VswitchError) => VswitchError): void {
  if (!policy.enabled) throw deny(new PolicyForbiddenError('plugin-disabled', `policy "${policy.name}" is disabled: an operator must enable it`));
  if (isMutation && (operationId === undefined || !POLICY_MUTATIONS.has(operationId))) {
    throw deny(new PolicyForbiddenError('policy-forbidden', `a policy's token may change the overlay only through the primitives or a topology apply, not ${operationId ?? 'this'}`));
  }
  const admission = policy.admit();
  if (!admission.ok) throw deny(new RateLimitedError(policy.name, admission.reason, admission.retryAfterS));
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

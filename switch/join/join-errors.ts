/**
 * Every way a join can fail, one class per failure (switch/errors.ts): on the Proxy they become the join listener's
 * problem+json answers (HTTP status their own), on the joining host `vswitch join` prints the message and exits with
 * the code of JOIN_EXIT_CODES, so a script can tell "the token was used already" from "the Proxy is not the one in
 * the token" without reading text.
 *
 * A token is checked secret first: a token whose id exists but whose secret does not match is "unknown", exactly as
 * one that never existed, so the answer tells nothing about tokens to someone who does not hold one.
 */
import { VswitchError, type FieldProblem } from '../errors.js';

/** The token text is not a join token (prefix, base64url, length, address). HTTP 400; on the CLI exit 2. */
export class JoinTokenMalformedError extends VswitchError {
  constructor(problem: string) {
    super('join-token-malformed', `not a join token: ${problem} (a join token is "vsj1." and base64url, as \`vswitch join-token create\` prints)`, { httpStatus: 400 });
  }
}

/** No live or remembered token has this id and secret. HTTP 401. */
export class JoinTokenUnknownError extends VswitchError {
  constructor() {
    super('join-token-unknown', 'the Proxy knows no such join token (a typo, a token of another Proxy, or one removed long ago): ask its operator for a new one (`vswitch join-token create`)', { httpStatus: 401 });
  }

  override responseHeaders(): Record<string, string> {
    return { 'www-authenticate': 'VswitchJoin realm="vswitch"' };
  }
}

/** The token's time ran out before it was used. HTTP 410. */
export class JoinTokenExpiredError extends VswitchError {
  constructor(id: string, expiredAt: string) {
    super('join-token-expired', `join token ${id} expired at ${expiredAt}: ask the Proxy's operator for a new one (\`vswitch join-token create --expires 1h\`)`, { httpStatus: 410 });
  }
}

/** The token was used already (tokens are single-use). HTTP 409. */
export class JoinTokenUsedError extends VswitchError {
  constructor(id: string, usedBy: string, usedAt: string) {
    super('join-token-used', `join token ${id} was already used, by host "${usedBy}" at ${usedAt}: a token lets one host join once; ask for a new one`, { httpStatus: 409 });
  }
}

/** An operator revoked the token. HTTP 403. */
export class JoinTokenRevokedError extends VswitchError {
  constructor(id: string, revokedAt: string) {
    super('join-token-revoked', `join token ${id} was revoked at ${revokedAt} by the Proxy's operator: ask for a new one`, { httpStatus: 403 });
  }
}

/** The token was made for another host name than the one asked for. HTTP 403. */
export class JoinNameMismatchError extends VswitchError {
  constructor(tokenName: string, asked: string) {
    super('join-name-mismatch', `this join token is for host "${tokenName}", not "${asked}": join as ${tokenName} (leave out --name) or ask for a token for ${asked}`, { httpStatus: 403 });
  }
}

/** A host, link or port of the Proxy already has the name. HTTP 409. */
export class JoinNameTakenError extends VswitchError {
  constructor(name: string, why: string) {
    super('join-name-taken', `the name "${name}" is taken in this overlay (${why}): join with another --name`, { httpStatus: 409 });
  }
}

/** A host of the overlay (or the Proxy) already has the public key. HTTP 409. */
export class JoinKeyTakenError extends VswitchError {
  constructor(why: string) {
    super('join-key-taken', `this host's public key is already in the overlay (${why}): every host needs its own key (leave out --key to generate one)`, { httpStatus: 409 });
  }
}

/** Too many join attempts from this address. HTTP 429 with Retry-After. */
export class JoinRateLimitedError extends VswitchError {
  constructor(
    address: string,
    readonly retryAfterS: number,
  ) {
    super('join-rate-limited', `too many join attempts from ${address}: retry after ${retryAfterS} s`, { httpStatus: 429 });
  }

  override responseHeaders(): Record<string, string> {
    return { 'retry-after': String(this.retryAfterS) };
  }
}

/** The join request does not match the exchange's schema. HTTP 400 naming the field. */
export class JoinRequestInvalidError extends VswitchError {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super('join-invalid', `join request: ${field}: ${problem}`, { httpStatus: 400 });
  }

  override fieldErrors(): FieldProblem[] {
    return [{ field: `/body/${this.field}`, message: this.message }];
  }
}

/** A bound of the join state was reached (live tokens, joined hosts). HTTP 409. */
export class JoinLimitError extends VswitchError {
  constructor(message: string) {
    super('join-limit', message, { httpStatus: 409 });
  }
}

/** The joining host: the Proxy answered with a certificate other than the token's. Nothing was sent. */
export class JoinPinMismatchError extends VswitchError {
  constructor(address: string, expected: string, found: string) {
    super(
      'join-pin-mismatch',
      `the Proxy's certificate is not the one in the token: ${address} presented SHA-256 ${found}, the token pins ${expected}; nothing was sent (someone may be in the way, or the token is for another Proxy)`,
    );
  }
}

/** The joining host could not reach the join listener, or it did not answer in time. */
export class JoinUnreachableError extends VswitchError {
  constructor(address: string, why: string, options?: { cause?: unknown }) {
    super('join-unreachable', `cannot reach the Proxy's join listener at ${address}: ${why}`, options);
  }
}

/** The joining host: the Proxy's answer is not the exchange's (a bug or a different version). */
export class JoinAnswerInvalidError extends VswitchError {
  constructor(problem: string) {
    super('join-answer-invalid', `the Proxy's join answer is not valid: ${problem}`);
  }
}

/** The joining host: the Proxy refused with a code this version does not know; its status and message are kept. */
export class JoinRefusedError extends VswitchError {
  constructor(code: string, message: string, httpStatus: number) {
    super(code, message, { httpStatus });
  }
}

/**
 * The exit status of `vswitch join` per failure (0 is joined). 2 is bad usage (the CLI's usual), also a token that
 * is not one; anything not listed is 1.
 */
export const JOIN_EXIT_CODES: Readonly<Record<string, number>> = {
  'join-token-malformed': 2,
  'join-pin-mismatch': 3,
  'join-token-unknown': 4,
  'join-token-expired': 5,
  'join-token-used': 6,
  'join-token-revoked': 7,
  'join-name-taken': 8,
  'join-name-mismatch': 8,
  'join-key-taken': 9,
  'join-rate-limited': 10,
  'join-unreachable': 11,
};

/** The codes a Proxy may answer with; any other becomes `join-refused` on the joining host. */
export const JOIN_ANSWER_CODES: ReadonlySet<string> = new Set([
  'join-token-malformed',
  'join-token-unknown',
  'join-token-expired',
  'join-token-used',
  'join-token-revoked',
  'join-name-mismatch',
  'join-name-taken',
  'join-key-taken',
  'join-rate-limited',
  'join-invalid',
  'join-limit',
  'join-too-large',
  'join-not-found',
  'join-unsupported-media-type',
]);

/**
 * The Proxy's join tokens: created by an operator, each good for one host, once, until it expires.
 *
 * Only the SHA-256 of a token's secret is kept (in memory and in the file), so neither a leaked file nor a
 * `join-token list` gives anyone a usable token; a presented secret is hashed and compared with timingSafeEqual.
 * A token moves one way: live → used | revoked | expired. Dead tokens are remembered for DEAD_TOKEN_KEEP_MS (at most
 * MAX_DEAD_TOKENS, the oldest forgotten first) so that presenting one gets its own answer ("used by h3",
 * "revoked", "expired") instead of "unknown".
 *
 * Time is wall-clock milliseconds from the injected `wallClock` (a token's expiry must mean the same after a
 * restart); randomness is injected. Every change is handed to `persist` before it counts: if persisting throws,
 * the change is undone in memory and the error goes to the caller, so an acknowledged token (or its use) is on
 * disk, and a token is never used twice across a restart.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { VswitchError } from '../errors.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../overlay/primitives.js';
import { JoinLimitError, JoinTokenExpiredError, JoinTokenRevokedError, JoinTokenUnknownError, JoinTokenUsedError } from './join-errors.js';
import { TOKEN_ID_BYTES, TOKEN_SECRET_BYTES } from './join-token.js';

/** Live (unused, unexpired, unrevoked) tokens at once. */
export const MAX_LIVE_TOKENS = 100;
/** Dead tokens remembered for their own error message. */
export const MAX_DEAD_TOKENS = 256;
export const DEAD_TOKEN_KEEP_MS = 7 * 24 * 3600 * 1000;
/** A token lives 1 s … 7 days; 1 hour by default. */
export const TOKEN_EXPIRY_BOUNDS_S = { min: 1, max: 7 * 24 * 3600, default: 3600 } as const;

export type JoinTokenState = 'live' | 'used' | 'revoked' | 'expired';

/** A token as stored: no secret, only its digest. Times are wall-clock ms. */
export interface JoinTokenRecord {
  readonly id: string;
  /** SHA-256 of the secret, hex. */
  readonly digest: string;
  /** The host this token is for (absent: the joining host names itself). */
  readonly name?: string;
  readonly createdAtMs: number;
  readonly expiresAtMs: number;
  /** Who created it (the API actor). */
  readonly createdBy: string;
  usedAtMs?: number;
  usedBy?: string;
  revokedAtMs?: number;
}

/** A token as `join-token list` shows it. */
export interface JoinTokenView {
  id: string;
  name?: string;
  state: JoinTokenState;
  createdAt: string;
  expiresAt: string;
  createdBy: string;
  usedAt?: string;
  usedBy?: string;
  revokedAt?: string;
}

export interface JoinTokenStoreOptions {
  wallClock: () => number;
  randomBytes: (n: number) => Uint8Array;
  /** Saves every record (the store's whole state); throws if it cannot. */
  persist(records: readonly JoinTokenRecord[]): void;
  /** Records loaded at start. */
  records?: readonly JoinTokenRecord[];
}

export class JoinTokenStore {
  private readonly records = new Map<string, JoinTokenRecord>();

  constructor(private readonly options: JoinTokenStoreOptions) {
    for (const r of options.records ?? []) this.records.set(r.id, { ...r });
  }

  /** A new live token and its secret (shown once: only its digest is kept). */
  create(input: { name?: string; expiresInS?: number }, createdBy: string): { record: JoinTokenRecord; secret: Uint8Array } {
    const expiresInS = input.expiresInS ?? TOKEN_EXPIRY_BOUNDS_S.default;
    const { min, max } = TOKEN_EXPIRY_BOUNDS_S;
    if (!Number.isInteger(expiresInS) || expiresInS < min || expiresInS > max) {
      throw new InvalidInputError('expiresInS', `a token lives ${min} s to ${max} s (7 days) (found ${expiresInS})`);
    }
    const now = this.options.wallClock();
    this.prune(now);
    const live = [...this.records.values()].filter((r) => stateOf(r, now) === 'live');
    if (live.length >= MAX_LIVE_TOKENS) {
      throw new JoinLimitError(`${MAX_LIVE_TOKENS} join tokens are live already: revoke some (\`vswitch join-token list\`, \`revoke ID\`) or let them expire`);
    }
    if (input.name !== undefined && live.some((r) => r.name === input.name)) {
      throw new ConflictError(`a live join token for host "${input.name}" exists already (${live.find((r) => r.name === input.name)!.id}): revoke it first`);
    }
    let id = hex(this.options.randomBytes(TOKEN_ID_BYTES));
    for (let tries = 1; this.records.has(id); tries++) {
      if (tries >= 8) throw new VswitchError('join-random', 'the random source keeps giving token ids that exist');
      id = hex(this.options.randomBytes(TOKEN_ID_BYTES));
    }
    const secret = this.options.randomBytes(TOKEN_SECRET_BYTES);
    if (secret.length !== TOKEN_SECRET_BYTES) throw new VswitchError('join-random', 'the random source gave a short secret');
    const record: JoinTokenRecord = {
      id,
      digest: digestOf(secret),
      ...(input.name === undefined ? {} : { name: input.name }),
      createdAtMs: now,
      expiresAtMs: now + expiresInS * 1000,
      createdBy,
    };
    this.change(() => this.records.set(id, record), () => this.records.delete(id));
    return { record, secret };
  }

  list(): JoinTokenView[] {
    const now = this.options.wallClock();
    return [...this.records.values()].sort((a, b) => a.createdAtMs - b.createdAtMs).map((r) => viewOf(r, now));
  }

  /** Revokes a live token; revoking a revoked one again changes nothing. A used or expired token: 409. */
  revoke(id: string): JoinTokenView {
    const record = this.records.get(id);
    if (record === undefined) throw new NotFoundError('join token', id);
    const now = this.options.wallClock();
    const state = stateOf(record, now);
    if (state === 'used') throw new ConflictError(`join token ${id} was used already (by host "${record.usedBy}"): remove the host instead (\`vswitch joined-host remove ${record.usedBy}\`)`);
    if (state === 'expired') throw new ConflictError(`join token ${id} expired already at ${iso(record.expiresAtMs)}: it cannot be used`);
    if (state === 'live') this.change(() => (record.revokedAtMs = now), () => delete record.revokedAtMs);
    return viewOf(record, now);
  }

  /**
   * The live token with this id and secret, or the error that says why there is none. Changes nothing: the
   * caller checks the rest of the request, then `consume`s it.
   */
  check(id: string, secret: Uint8Array): JoinTokenRecord {
    const record = this.records.get(id);
    // The digest of a wrong-length secret never matches; the same work is done either way.
    const presented = Buffer.from(digestOf(secret), 'hex');
    const expected = Buffer.from(record?.digest ?? '00'.repeat(32), 'hex');
    const matches = timingSafeEqual(presented, expected) && record !== undefined;
    if (!matches) throw new JoinTokenUnknownError();
    const now = this.options.wallClock();
    switch (stateOf(record, now)) {
      case 'used':
        throw new JoinTokenUsedError(id, record.usedBy ?? '?', iso(record.usedAtMs ?? 0));
      case 'revoked':
        throw new JoinTokenRevokedError(id, iso(record.revokedAtMs ?? 0));
      case 'expired':
        throw new JoinTokenExpiredError(id, iso(record.expiresAtMs));
      case 'live':
        return record;
    }
  }

  /** Marks the token used by `host` (checked again, and saved before it returns). */
  consume(id: string, secret: Uint8Array, host: string): void {
    const record = this.check(id, secret);
    const now = this.options.wallClock();
    this.change(
      () => {
        record.usedAtMs = now;
        record.usedBy = host;
      },
      () => {
        delete record.usedAtMs;
        delete record.usedBy;
      },
    );
  }

  /** Undoes `consume` when the join failed after it on the Proxy's side (the host may try again). */
  release(id: string): void {
    const record = this.records.get(id);
    if (record?.usedAtMs === undefined) return;
    const { usedAtMs, usedBy } = record;
    this.change(
      () => {
        delete record.usedAtMs;
        delete record.usedBy;
      },
      () => {
        record.usedAtMs = usedAtMs;
        if (usedBy !== undefined) record.usedBy = usedBy;
      },
    );
  }

  /** Every record, for saving. */
  snapshot(): JoinTokenRecord[] {
    return [...this.records.values()].map((r) => ({ ...r }));
  }

  /** Forgets dead tokens older than DEAD_TOKEN_KEEP_MS, and the oldest beyond MAX_DEAD_TOKENS (saved with the next change). */
  private prune(now: number): void {
    const dead = [...this.records.values()].filter((r) => stateOf(r, now) !== 'live').sort((a, b) => diedAt(a) - diedAt(b));
    const excess = dead.length - MAX_DEAD_TOKENS;
    dead.forEach((r, i) => {
      if (i < excess || now - diedAt(r) > DEAD_TOKEN_KEEP_MS) this.records.delete(r.id);
    });
  }

  /** Applies a change, persists, and undoes it if persisting fails. */
  private change(apply: () => void, undo: () => void): void {
    apply();
    try {
      this.options.persist(this.snapshot());
    } catch (err) {
      undo();
      throw err;
    }
  }
}

export function stateOf(record: JoinTokenRecord, nowMs: number): JoinTokenState {
  if (record.usedAtMs !== undefined) return 'used';
  if (record.revokedAtMs !== undefined) return 'revoked';
  return nowMs >= record.expiresAtMs ? 'expired' : 'live';
}

function diedAt(record: JoinTokenRecord): number {
  return record.usedAtMs ?? record.revokedAtMs ?? record.expiresAtMs;
}

function viewOf(r: JoinTokenRecord, now: number): JoinTokenView {
  return {
    id: r.id,
    ...(r.name === undefined ? {} : { name: r.name }),
    state: stateOf(r, now),
    createdAt: iso(r.createdAtMs),
    expiresAt: iso(r.expiresAtMs),
    createdBy: r.createdBy,
    ...(r.usedAtMs === undefined ? {} : { usedAt: iso(r.usedAtMs) }),
    ...(r.usedBy === undefined ? {} : { usedBy: r.usedBy }),
    ...(r.revokedAtMs === undefined ? {} : { revokedAt: iso(r.revokedAtMs) }),
  };
}

export function digestOf(secret: Uint8Array): string {
  return createHash('sha256').update(secret).digest('hex');
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

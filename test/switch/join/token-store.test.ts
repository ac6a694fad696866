import { describe, expect, it } from 'vitest';
import { DEAD_TOKEN_KEEP_MS, digestOf, JoinTokenStore, MAX_DEAD_TOKENS, MAX_LIVE_TOKENS, type JoinTokenRecord } from '../../../switch/join/token-store.js';

/** A store on a wall clock the test moves, with seeded randomness; `saved` is what it last persisted. */
function store(options: { records?: JoinTokenRecord[]; failPersist?: () => boolean } = {}) {
  let now = Date.UTC(2025, 0, 1);
  let seed = 3;
  const saved: JoinTokenRecord[][] = [];
  const tokens = new JoinTokenStore({
    wallClock: () => now,
    randomBytes: (n) => Uint8Array.from({ length: n }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff),
    persist: (records) => {
      if (options.failPersist?.()) throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
      saved.push(records.map((r) => ({ ...r })));
    },
    ...(options.records ? { records: options.records } : {}),
  });
  return { tokens, saved, advance: (ms: number) => void (now += ms), now: () => now };
}

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
};

describe('the join token store', () => {
  it('keeps only the digest of a secret, in memory and in what it saves', () => {
    const { tokens, saved } = store();
    const { record, secret } = tokens.create({ name: 'h9' }, 'ops');
    expect(record.digest).toBe(digestOf(secret));
    const hex = Buffer.from(secret).toString('hex');
    const b64 = Buffer.from(secret).toString('base64url');
    const everything = JSON.stringify([tokens.snapshot(), tokens.list(), saved]);
    expect(everything).not.toContain(hex);
    expect(everything).not.toContain(b64);
    expect(saved.at(-1)).toEqual([expect.objectContaining({ id: record.id, digest: record.digest, name: 'h9', createdBy: 'ops' })]);
  });

  it('is good once: a second use is join-token-used, naming who used it', () => {
    const { tokens } = store();
    const { record, secret } = tokens.create({}, 'ops');
    expect(tokens.check(record.id, secret)).toMatchObject({ id: record.id });
    tokens.consume(record.id, secret, 'h9');
    expect(codeOf(() => tokens.check(record.id, secret))).toBe('join-token-used');
    expect(() => tokens.consume(record.id, secret, 'h10')).toThrow(/already used, by host "h9"/);
    expect(tokens.list()[0]).toMatchObject({ state: 'used', usedBy: 'h9' });
  });

  it('expires on the injected clock: live until expiresInS, then join-token-expired', () => {
    const { tokens, advance } = store();
    const { record, secret } = tokens.create({ expiresInS: 10 }, 'ops');
    advance(9999);
    expect(tokens.check(record.id, secret).id).toBe(record.id);
    advance(1);
    expect(codeOf(() => tokens.check(record.id, secret))).toBe('join-token-expired');
    expect(tokens.list()[0]!.state).toBe('expired');
  });

  it('lives an hour by default, between 1 s and 7 days', () => {
    const { tokens, now } = store();
    expect(tokens.create({}, 'ops').record.expiresAtMs - now()).toBe(3600_000);
    expect(codeOf(() => tokens.create({ expiresInS: 0 }, 'ops'))).toBe('invalid-input');
    expect(codeOf(() => tokens.create({ expiresInS: 7 * 86_400 + 1 }, 'ops'))).toBe('invalid-input');
    expect(codeOf(() => tokens.create({ expiresInS: 1.5 }, 'ops'))).toBe('invalid-input');
    expect(tokens.create({ expiresInS: 7 * 86_400 }, 'ops').record.expiresAtMs - now()).toBe(7 * 86_400_000);
  });

  it('is revoked for good: join-token-revoked, and revoking again changes nothing', () => {
    const { tokens, saved } = store();
    const { record, secret } = tokens.create({}, 'ops');
    expect(tokens.revoke(record.id).state).toBe('revoked');
    const writes = saved.length;
    expect(tokens.revoke(record.id).state).toBe('revoked');
    expect(saved).toHaveLength(writes);
    expect(codeOf(() => tokens.check(record.id, secret))).toBe('join-token-revoked');
    expect(codeOf(() => tokens.revoke('ffffffffffffffff'))).toBe('not-found');
  });

  it('will not revoke a used or expired token (409): they cannot be used anyway', () => {
    const { tokens, advance } = store();
    const used = tokens.create({}, 'ops');
    tokens.consume(used.record.id, used.secret, 'h9');
    expect(codeOf(() => tokens.revoke(used.record.id))).toBe('conflict');
    const old = tokens.create({ expiresInS: 1 }, 'ops');
    advance(1000);
    expect(codeOf(() => tokens.revoke(old.record.id))).toBe('conflict');
  });

  it('answers "unknown" for a wrong secret exactly as for an id it never had: nothing about the token leaks', () => {
    const { tokens } = store();
    const { record, secret } = tokens.create({}, 'ops');
    const wrong = Uint8Array.from(secret, (b, i) => (i === 0 ? b ^ 1 : b));
    expect(codeOf(() => tokens.check(record.id, wrong))).toBe('join-token-unknown');
    expect(codeOf(() => tokens.check('0000000000000000', secret))).toBe('join-token-unknown');
    expect(codeOf(() => tokens.check(record.id, secret.subarray(0, 16)))).toBe('join-token-unknown');
    // Even a revoked token answers "unknown" to a wrong secret.
    tokens.revoke(record.id);
    expect(codeOf(() => tokens.check(record.id, wrong))).toBe('join-token-unknown');
  });

  it('gives a token back (release) when the join failed after using it', () => {
    const { tokens } = store();
    const { record, secret } = tokens.create({}, 'ops');
    tokens.consume(record.id, secret, 'h9');
    tokens.release(record.id);
    expect(tokens.check(record.id, secret).usedBy).toBeUndefined();
  });

  it('bounds live tokens (join-limit), and one live token per host name', () => {
    const { tokens } = store();
    for (let i = 0; i < MAX_LIVE_TOKENS; i++) tokens.create({}, 'ops');
    expect(codeOf(() => tokens.create({}, 'ops'))).toBe('join-limit');
    const other = store().tokens;
    other.create({ name: 'h9' }, 'ops');
    expect(codeOf(() => other.create({ name: 'h9' }, 'ops'))).toBe('conflict');
  });

  it('remembers dead tokens for a week, and at most MAX_DEAD_TOKENS of them', () => {
    const { tokens, advance } = store();
    const first = tokens.create({ expiresInS: 1 }, 'ops');
    advance(1000);
    for (let i = 0; i < MAX_DEAD_TOKENS + 5; i++) tokens.revoke(tokens.create({}, 'ops').record.id);
    // Each create prunes first: the last token revoked is one over the bound until the next create.
    expect(tokens.list().filter((t) => t.state !== 'live')).toHaveLength(MAX_DEAD_TOKENS + 1);
    const last = tokens.create({}, 'ops');
    expect(tokens.list().filter((t) => t.state !== 'live')).toHaveLength(MAX_DEAD_TOKENS);
    expect(tokens.list().some((t) => t.id === first.record.id)).toBe(false); // the oldest went first
    advance(DEAD_TOKEN_KEEP_MS + 1);
    tokens.create({}, 'ops');
    // A week on, only `last` is remembered: it died an hour after it was made, less than a week ago.
    expect(tokens.list().filter((t) => t.state !== 'live')).toEqual([expect.objectContaining({ id: last.record.id, state: 'expired' })]);
  });

  it('changes nothing when it cannot save: the caller gets the error, the token is as it was', () => {
    let fail = false;
    const { tokens } = store({ failPersist: () => fail });
    const { record, secret } = tokens.create({}, 'ops');
    fail = true;
    expect(() => tokens.consume(record.id, secret, 'h9')).toThrow(/disk full/);
    expect(tokens.check(record.id, secret).usedBy).toBeUndefined();
    expect(() => tokens.revoke(record.id)).toThrow(/disk full/);
    expect(tokens.list()[0]!.state).toBe('live');
    expect(() => tokens.create({}, 'ops')).toThrow(/disk full/);
    expect(tokens.list()).toHaveLength(1);
  });

  it('carries on from what it saved (a restart): used stays used, expiry keeps its wall-clock time', () => {
    const first = store();
    const a = first.tokens.create({ name: 'h9' }, 'ops');
    const b = first.tokens.create({ expiresInS: 60 }, 'ops');
    first.tokens.consume(a.record.id, a.secret, 'h9');
    const again = store({ records: first.saved.at(-1)! });
    expect(codeOf(() => again.tokens.check(a.record.id, a.secret))).toBe('join-token-used');
    expect(again.tokens.check(b.record.id, b.secret).id).toBe(b.record.id);
    again.advance(60_000);
    expect(codeOf(() => again.tokens.check(b.record.id, b.secret))).toBe('join-token-expired');
  });
});

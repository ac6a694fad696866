import { describe, expect, it } from 'vitest';
import { decodeJoinToken, encodeJoinToken, formatPin, joinAddress, JOIN_TOKEN_PREFIX, type JoinTokenFields } from '../../../switch/join/join-token.js';

const bytes = (n: number, start: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (start + i * 7) & 0xff);
const FIELDS: JoinTokenFields = { id: '0123456789abcdef', secret: bytes(32, 1), pin: bytes(32, 100), host: '198.18.1.1', port: 7443 };

/** The token's bytes, changed by `edit`, re-encoded. */
function edited(token: string, edit: (b: Uint8Array) => Uint8Array): string {
  const raw = new Uint8Array(Buffer.from(token.slice(JOIN_TOKEN_PREFIX.length), 'base64url'));
  return JOIN_TOKEN_PREFIX + Buffer.from(edit(raw)).toString('base64url');
}

describe('the join token codec', () => {
  it('round-trips every field: IPv4 and IPv6, with and without a host name', () => {
    for (const fields of [FIELDS, { ...FIELDS, name: 'h9' }, { ...FIELDS, host: 'fd00::1', port: 443 }, { ...FIELDS, host: '2001:db8:0:1:2:3:4:5', name: 'a-very-long-host-name-of-32-char' }]) {
      const text = encodeJoinToken(fields);
      expect(text).toMatch(/^vsj1\.[A-Za-z0-9_-]+$/);
      expect(decodeJoinToken(text)).toEqual(fields);
      expect(decodeJoinToken(`  ${text}\n`)).toEqual(fields); // pasted with blanks
    }
    expect(encodeJoinToken(FIELDS)).toHaveLength(5 + Math.ceil((80 * 4) / 3));
  });

  it('writes IPv6 addresses back in a form the address parser reads, with the port in brackets', () => {
    const decoded = decodeJoinToken(encodeJoinToken({ ...FIELDS, host: '::ffff:198.18.1.1' }));
    expect(joinAddress(decoded)).toBe('[::ffff:c612:101]:7443');
    expect(joinAddress(FIELDS)).toBe('198.18.1.1:7443');
    expect(joinAddress(decodeJoinToken(encodeJoinToken({ ...FIELDS, host: '0:0:0:0:0:0:0:1' })))).toBe('[::1]:7443');
  });

  it('refuses what is not a join token, saying what is wrong (code join-token-malformed)', () => {
    const good = encodeJoinToken({ ...FIELDS, name: 'h9' });
    const cases: [string, RegExp][] = [
      ['', /does not start with "vsj1."/],
      ['hello', /does not start with "vsj1."/],
      [good.replace('vsj1.', 'vsj2.'), /format "vsj2" is not one this vswitch reads/],
      [good.replace(/.$/, '+'), /base64url/],
      [good.slice(0, 5 + 56), /not what its own lengths say/], // 42 whole bytes
      [good + good.slice(5), /longer than any join token|not what its own lengths say/],
      [edited(good, (b) => Uint8Array.of(...b, 0)), /not what its own lengths say/],
      [edited(good, (b) => ((b[72] = 5), b)), /address family 5/],
      [edited(good, (b) => ((b[73] = 0), (b[74] = 0), b)), /port is 0/],
      [edited(good, (b) => ((b[80] = 'H'.charCodeAt(0)), b)), /not a host name/],
      [edited(good, (b) => ((b[79] = 40), b)), /not what its own lengths say/],
      [`vsj1.${'A'.repeat(400)}`, /longer than any join token/],
    ];
    for (const [text, why] of cases) {
      expect(() => decodeJoinToken(text), text).toThrow(why);
      try {
        decodeJoinToken(text);
      } catch (err) {
        expect((err as { code: string; httpStatus: number }).code).toBe('join-token-malformed');
      }
    }
  });

  it('refuses a token whose base64url was changed in bits that do not count (not canonical)', () => {
    const good = encodeJoinToken(FIELDS); // 80 bytes: the last character carries 2 unused bits
    const last = good.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1]!;
    expect(() => decodeJoinToken(good.slice(0, -1) + sibling)).toThrow(/not canonical/);
  });

  it('will not encode a token that could not be decoded', () => {
    expect(() => encodeJoinToken({ ...FIELDS, id: 'xyz' })).toThrow(RangeError);
    expect(() => encodeJoinToken({ ...FIELDS, secret: bytes(16, 0) })).toThrow(RangeError);
    expect(() => encodeJoinToken({ ...FIELDS, host: 'proxy.example' })).toThrow(RangeError);
    expect(() => encodeJoinToken({ ...FIELDS, port: 0 })).toThrow(RangeError);
    expect(() => encodeJoinToken({ ...FIELDS, name: 'Not A Name' })).toThrow(RangeError);
  });

  it('shows a pin as openssl prints a fingerprint', () => {
    expect(formatPin(Uint8Array.of(0xab, 0x01, 0xff))).toBe('AB:01:FF');
  });
});

import { describe, expect, it } from 'vitest';
import { parseJoinAnswer, parseJoinRequest } from '../../../switch/join/join-exchange.js';

const KEY = Buffer.alloc(32, 7).toString('base64');
const SECRET = Buffer.alloc(32, 9).toString('base64url');
const REQUEST = { v: 1, token: '0123456789abcdef', secret: SECRET, publicKey: KEY, name: 'h9', listenPort: 51820 };
const ANSWER = { v: 1, name: 'h9', proxy: { name: 'proxy', publicKey: KEY, endpoint: '198.18.1.1:51820', tcpEndpoint: '[fd00::1]:443' } };

const fieldOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (err) {
    expect((err as { code: string }).code).toBe('join-invalid');
    return (err as { field: string }).field;
  }
  return undefined;
};

describe('the join request, as the Proxy reads it', () => {
  it('takes exactly the exchange: the secret as bytes, the optional fields only when given', () => {
    const parsed = parseJoinRequest(REQUEST);
    expect(parsed).toMatchObject({ token: REQUEST.token, name: 'h9', listenPort: 51820 });
    expect(parsed.secretBytes).toEqual(new Uint8Array(32).fill(9));
    const bare = parseJoinRequest({ v: 1, token: REQUEST.token, secret: SECRET, publicKey: KEY });
    expect(Object.keys(bare).sort()).toEqual(['publicKey', 'secret', 'secretBytes', 'token', 'v']);
  });

  it('refuses anything else, naming the field (400 join-invalid)', () => {
    const cases: [unknown, string][] = [
      [null, ''],
      [[REQUEST], ''],
      ['text', ''],
      [{ ...REQUEST, extra: 1 }, 'extra'],
      [{ ...REQUEST, v: 2 }, 'v'],
      [{ ...REQUEST, token: 'ABCDEF0123456789' }, 'token'],
      [{ ...REQUEST, token: undefined }, 'token'],
      [{ ...REQUEST, secret: SECRET.slice(1) }, 'secret'],
      [{ ...REQUEST, secret: 'x'.repeat(300) }, 'secret'],
      [{ ...REQUEST, publicKey: 'not a key' }, 'publicKey'],
      [{ ...REQUEST, publicKey: 7 }, 'publicKey'],
      [{ ...REQUEST, name: 'H9' }, 'name'],
      [{ ...REQUEST, name: 'a'.repeat(33) }, 'name'],
      [{ ...REQUEST, listenPort: 0 }, 'listenPort'],
      [{ ...REQUEST, listenPort: 65_536 }, 'listenPort'],
      [{ ...REQUEST, listenPort: '51820' }, 'listenPort'],
    ];
    for (const [value, field] of cases) expect(fieldOf(() => parseJoinRequest(value)), JSON.stringify(value)).toBe(field);
  });

  it('cuts an unknown key it names to 64 characters (the message stays one short line)', () => {
    expect(() => parseJoinRequest({ ...REQUEST, ['k'.repeat(10_000)]: 1 })).toThrow(new RegExp(`join request: ${'k'.repeat(64)}: unknown key$`));
  });
});

describe('the join answer, as the joining host reads it', () => {
  it('takes exactly the exchange', () => {
    expect(parseJoinAnswer(ANSWER)).toEqual(ANSWER);
    const { tcpEndpoint: _, ...udpOnly } = ANSWER.proxy;
    expect(parseJoinAnswer({ ...ANSWER, proxy: udpOnly })).toEqual({ ...ANSWER, proxy: udpOnly });
  });

  it('refuses anything else (join-answer-invalid)', () => {
    for (const bad of [
      {},
      { ...ANSWER, v: 0 },
      { ...ANSWER, extra: true },
      { ...ANSWER, name: 'proxy' },
      { ...ANSWER, proxy: { ...ANSWER.proxy, endpoint: 'proxy.example:51820' } },
      { ...ANSWER, proxy: { ...ANSWER.proxy, endpoint: '198.18.1.1:0' } },
      { ...ANSWER, proxy: { ...ANSWER.proxy, publicKey: '' } },
      { ...ANSWER, proxy: { ...ANSWER.proxy, more: 1 } },
      { ...ANSWER, proxy: 'proxy' },
    ]) {
      expect(() => parseJoinAnswer(bad), JSON.stringify(bad)).toThrow(expect.objectContaining({ code: 'join-answer-invalid' }));
    }
  });
});

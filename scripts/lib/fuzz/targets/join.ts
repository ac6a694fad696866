/**
 * The join exchange's decoders (switch/join/): decodeJoinToken on any text (what an operator pastes), and
 * parseJoinRequest on any JSON value (what the join listener's body parses to — from anyone on the network).
 *
 * Oracle: a token decodes to fields that encode back to the very text (trimmed), or is refused with
 * `join-token-malformed`; a request is accepted only with exactly the exchange's fields (the secret 32 bytes), or
 * refused with `join-invalid`. Nothing else is thrown.
 */
import { parseJoinRequest } from '../../../../switch/join/join-exchange.js';
import { decodeJoinToken, encodeJoinToken } from '../../../../switch/join/join-token.js';
import { fromShape, jsonText, randomJson, type JsonVocabulary, type Shape } from '../json-gen.js';
import { mutateText } from '../mutate.js';
import type { Rng } from '../rng.js';
import { check, errorLabel, textCodec, type FuzzTarget } from '../target.js';

const KEY = Buffer.alloc(32, 7).toString('base64');
const SECRET = Buffer.alloc(32, 9).toString('base64url');

const REQUEST_KEYS = ['v', 'token', 'secret', 'publicKey', 'name', 'listenPort'];

const VOCABULARY: JsonVocabulary = {
  keys: ['v', 'token', 'secret', 'publicKey', 'name', 'listenPort', '__proto__', 'constructor'],
  strings: ['0123456789abcdef', SECRET, KEY, 'h9', 'H9', '', 'proxy', SECRET.slice(1), `${KEY}=`],
};

const REQUEST: Shape = {
  fields: {
    v: { oneOf: [1, 1, 1, 2, '1', null] },
    token: { oneOf: ['0123456789abcdef', '0123456789ABCDEF', '0123', 'g123456789abcdef'] },
    secret: { oneOf: [SECRET, SECRET, SECRET.slice(2), `${SECRET}A`, 'A'.repeat(43), '_'.repeat(43)] },
    publicKey: { oneOf: [KEY, KEY, KEY.slice(1), 'x'] },
    name: { oneOf: ['h9', 'a-b', 'A', '-x', 'a'.repeat(33)] },
    listenPort: { oneOf: [51820, 1, 65535, 0, 65536, 1.5, -1] },
  },
  optional: ['name', 'listenPort'],
};

function token(rng: Rng): string {
  const v6 = rng.bool(0.3);
  return encodeJoinToken({
    id: Buffer.from(rng.bytes(8)).toString('hex'),
    secret: rng.bytes(32),
    pin: rng.bytes(32),
    host: v6 ? rng.pick(['fd00::1', '2001:db8::5:6', '::1', '1:2:3:4:5:6:7:8']) : `198.18.${rng.int(256)}.${rng.int(256)}`,
    port: rng.range(1, 65535),
    ...(rng.bool(0.5) ? { name: rng.pick(['h9', 'a', 'host-with-a-long-name-0123456789']) } : {}),
  });
}

function generateText(rng: Rng): string {
  const r = rng.float();
  if (r < 0.25) return token(rng);
  if (r < 0.5) return mutateText(rng, token(rng), { dictionary: ['vsj1.', 'vsj2.', '.', '-', '_', '=', 'A', '/', '+'] });
  if (r < 0.8) return jsonText(rng, fromShape(rng, REQUEST, VOCABULARY, rng.pick([0, 0.05, 0.15])));
  if (r < 0.93) return mutateText(rng, jsonText(rng, fromShape(rng, REQUEST, VOCABULARY, 0)), { dictionary: ['{', '}', '"v":', 'null', '1e400'] });
  return jsonText(rng, randomJson(rng, VOCABULARY, 4));
}

export function joinTarget(): FuzzTarget<string> {
  return {
    name: 'join',
    summary: 'decodeJoinToken on any text, parseJoinRequest on any JSON value: a round trip, or their own refusal',
    generate: generateText,
    execute(text) {
      if (text.trimStart().startsWith('vsj')) {
        const fields = decodeJoinToken(text);
        check(encodeJoinToken(fields) === text.trim(), 'decode → encode is not the identity');
        return fields.host.includes(':') ? 'token:v6' : 'token:v4';
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return 'not-json';
      }
      const request = parseJoinRequest(json);
      check(request.secretBytes.length === 32, 'accepted a secret that is not 32 bytes');
      check(Object.keys(json as object).every((k) => REQUEST_KEYS.includes(k)), 'accepted an unknown key');
      return request.name === undefined ? 'request:unnamed' : 'request';
    },
    classify(error) {
      const code = (error as { code?: unknown }).code;
      return code === 'join-token-malformed' || code === 'join-invalid' ? errorLabel(error) : undefined;
    },
    ...textCodec,
    worstCases: [
      { name: 'long token', make: (n) => `vsj1.${'A'.repeat(n)}` },
      { name: 'long secret', make: (n) => JSON.stringify({ v: 1, token: '0123456789abcdef', secret: 'A'.repeat(n), publicKey: KEY }) },
      { name: 'many keys', make: (n) => JSON.stringify(Object.fromEntries(Array.from({ length: Math.max(1, Math.floor(n / 12)) }, (_, i) => [`k${i}`, i]))) },
    ],
  };
}

/**
 * The join exchange: one request from the joining host, one answer from the Proxy, JSON over TLS (the join
 * listener's `POST /v1/join`). Both sides treat what they receive as input from the network: a size bound first,
 * then an exact schema — only these keys, each of its type and pattern — and anything else is refused whole.
 *
 *   request  { v: 1, token: ID, secret: B64URL, publicKey: B64, name?: NAME, listenPort?: PORT }
 *   answer   { v: 1, name: NAME, proxy: { name: NAME, publicKey: B64, endpoint: IP:PORT, tcpEndpoint?: IP:PORT } }
 *
 * `listenPort` is the host's link port: with the source address of the request it is where the Proxy first looks
 * for the host (the host dials the Proxy anyway, so a host behind a NAT still joins).
 */
import { isIP } from 'node:net';
import { decodeKeyBase64 } from '../link/noise/crypto.js';
import { JoinAnswerInvalidError, JoinRequestInvalidError } from './join-errors.js';
import { TOKEN_SECRET_BYTES } from './join-token.js';

export const JOIN_EXCHANGE_VERSION = 1;
/** A request is ~200 bytes; more is refused before parsing (HTTP 413). */
export const MAX_JOIN_REQUEST_BYTES = 4096;
/** An answer is ~250 bytes. */
export const MAX_JOIN_ANSWER_BYTES = 16_384;
export const JOIN_PATH = '/v1/join';

/** The names hosts and links have (as the config's `name`). */
export const HOST_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
export const HOST_NAME_TEXT = 'lower-case letters, digits and "-", at most 32 characters';

export interface JoinRequest {
  readonly v: 1;
  /** The token's id (16 hex digits). */
  readonly token: string;
  /** The token's secret, base64url. */
  readonly secret: string;
  /** The joining host's public key, base64. */
  readonly publicKey: string;
  readonly name?: string;
  readonly listenPort?: number;
}

export interface JoinAnswer {
  readonly v: 1;
  /** The name the host joined under. */
  readonly name: string;
  readonly proxy: {
    readonly name: string;
    readonly publicKey: string;
    /** "IP:PORT" of the Proxy's UDP link listener (and TCP, unless tcpEndpoint). */
    readonly endpoint: string;
    readonly tcpEndpoint?: string;
  };
}

/** Checks a parsed request; throws JoinRequestInvalidError naming the first bad field. */
export function parseJoinRequest(value: unknown): JoinRequest & { secretBytes: Uint8Array } {
  const bad = (field: string, problem: string): never => {
    throw new JoinRequestInvalidError(field, problem);
  };
  const o = objectWith(value, ['v', 'token', 'secret', 'publicKey', 'name', 'listenPort'], (key) => bad(key, 'unknown key'), () => bad('', 'must be a JSON object'));
  if (o['v'] !== JOIN_EXCHANGE_VERSION) bad('v', `must be ${JOIN_EXCHANGE_VERSION} (this Proxy speaks version ${JOIN_EXCHANGE_VERSION} of the join exchange)`);
  const token = stringField(o, 'token', bad);
  if (!/^[0-9a-f]{16}$/.test(token)) bad('token', 'must be the token id: 16 lower-case hex digits');
  const secret = stringField(o, 'secret', bad);
  const secretBytes = /^[A-Za-z0-9_-]{43}$/.test(secret) ? new Uint8Array(Buffer.from(secret, 'base64url')) : undefined;
  if (secretBytes === undefined || secretBytes.length !== TOKEN_SECRET_BYTES) bad('secret', `must be ${TOKEN_SECRET_BYTES} bytes in base64url (43 characters)`);
  const publicKey = keyField(o, 'publicKey', bad);
  const request: { -readonly [K in keyof JoinRequest]: JoinRequest[K] } = { v: 1, token, secret, publicKey };
  if (o['name'] !== undefined) {
    const name = stringField(o, 'name', bad);
    if (!HOST_NAME.test(name)) bad('name', `must be ${HOST_NAME_TEXT}`);
    request.name = name;
  }
  if (o['listenPort'] !== undefined) request.listenPort = portField(o, 'listenPort', bad);
  return { ...request, secretBytes: secretBytes! };
}

/** Checks the Proxy's answer; throws JoinAnswerInvalidError. */
export function parseJoinAnswer(value: unknown): JoinAnswer {
  const bad = (field: string, problem: string): never => {
    throw new JoinAnswerInvalidError(`${field}: ${problem}`);
  };
  const o = objectWith(value, ['v', 'name', 'proxy'], (key) => bad(key, 'unknown key'), () => bad('answer', 'must be a JSON object'));
  if (o['v'] !== JOIN_EXCHANGE_VERSION) bad('v', `must be ${JOIN_EXCHANGE_VERSION}`);
  const name = nameField(o, 'name', bad);
  const p = objectWith(o['proxy'], ['name', 'publicKey', 'endpoint', 'tcpEndpoint'], (key) => bad(`proxy.${key}`, 'unknown key'), () => bad('proxy', 'must be an object'));
  const proxyName = nameField(p, 'name', (f, why) => bad(`proxy.${f}`, why));
  if (proxyName === name) bad('proxy.name', 'is the host\'s own name');
  const publicKey = keyField(p, 'publicKey', (f, why) => bad(`proxy.${f}`, why));
  const endpoint = endpointField(p, 'endpoint', (f, why) => bad(`proxy.${f}`, why));
  const tcpEndpoint = p['tcpEndpoint'] === undefined ? undefined : endpointField(p, 'tcpEndpoint', (f, why) => bad(`proxy.${f}`, why));
  return { v: 1, name, proxy: { name: proxyName, publicKey, endpoint, ...(tcpEndpoint ? { tcpEndpoint } : {}) } };
}

type Bad = (field: string, problem: string) => never;

function objectWith(value: unknown, keys: readonly string[], unknownKey: (key: string) => never, notObject: () => never): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return notObject();
  for (const key of Object.keys(value)) if (!keys.includes(key)) unknownKey(key.slice(0, 64));
  return value as Record<string, unknown>;
}

function stringField(o: Record<string, unknown>, key: string, bad: Bad): string {
  const v = o[key];
  if (typeof v !== 'string') return bad(key, v === undefined ? 'is required' : 'must be a string');
  if (v.length > 256) return bad(key, 'is longer than 256 characters');
  return v;
}

function nameField(o: Record<string, unknown>, key: string, bad: Bad): string {
  const v = stringField(o, key, bad);
  if (!HOST_NAME.test(v)) bad(key, `must be ${HOST_NAME_TEXT}`);
  return v;
}

function keyField(o: Record<string, unknown>, key: string, bad: Bad): string {
  const v = stringField(o, key, bad);
  try {
    decodeKeyBase64(v);
  } catch {
    bad(key, 'must be a 32-byte key in base64 (44 characters), as `vswitch pubkey` prints');
  }
  return v;
}

function portField(o: Record<string, unknown>, key: string, bad: Bad): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65_535) return bad(key, 'must be an integer port, 1 to 65535');
  return v;
}

/** "IP:PORT" or "[IPv6]:PORT", numeric. */
export function endpointField(o: Record<string, unknown>, key: string, bad: Bad): string {
  const v = stringField(o, key, bad);
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(v);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!m || !host || isIP(host) === 0 || port < 1 || port > 65_535) bad(key, 'must be "IP:PORT" with a numeric IP address');
  return v;
}

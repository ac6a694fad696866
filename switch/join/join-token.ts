/**
 * The join token: everything a new host needs to join an overlay, in one string an operator can paste.
 *
 *   vsj1.<base64url of 80 to 124 bytes>
 *     [0, 8)    token id (random; names the token in `join-token list`, not secret)
 *     [8, 40)   secret (random; the Proxy keeps only its SHA-256)
 *     [40, 72)  SHA-256 of the Proxy's join certificate (DER): the pin
 *     [72]      4 or 6: the join listener's address family
 *     [73, 75)  its port, big-endian
 *     then      its IP address: 4 bytes (IPv4) or 16 (IPv6)
 *     then      the host name the token is for: a length byte (0: none, else 1..32) and the name in ASCII
 *
 * kubeadm's design (`--token` plus `--discovery-token-ca-cert-hash`) in one string: the joining host refuses any
 * certificate but the pinned one before it sends anything, so the secret never travels to anyone but the Proxy, and
 * never in the clear. The name is in the token (it is not secret) so that the joining host knows its name, and so
 * its files, before it sends anything. The version is the prefix ("vsj1"): a later format gets another. Decoding
 * checks every length against the bytes there are, so a cut or padded token is refused, never half-read.
 */
import { isIP } from 'node:net';
import { JoinTokenMalformedError } from './join-errors.js';

export const JOIN_TOKEN_PREFIX = 'vsj1.';
export const TOKEN_ID_BYTES = 8;
export const TOKEN_SECRET_BYTES = 32;
export const PIN_BYTES = 32;
const FAMILY_AT = TOKEN_ID_BYTES + TOKEN_SECRET_BYTES + PIN_BYTES;
const ADDRESS_AT = FAMILY_AT + 3;
const MAX_NAME_BYTES = 32;
const NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
/** Longer than any token: text beyond this is refused before decoding. */
const MAX_TOKEN_CHARS = JOIN_TOKEN_PREFIX.length + Math.ceil(((ADDRESS_AT + 16 + 1 + MAX_NAME_BYTES) * 4) / 3);

export interface JoinTokenFields {
  /** 16 lower-case hex digits. */
  readonly id: string;
  readonly secret: Uint8Array;
  /** SHA-256 of the Proxy's join certificate (DER). */
  readonly pin: Uint8Array;
  /** The join listener: an IP literal and a port. */
  readonly host: string;
  readonly port: number;
  /** The host the token is for (absent: the joining host names itself). */
  readonly name?: string;
}

export function encodeJoinToken(token: JoinTokenFields): string {
  if (!/^[0-9a-f]{16}$/.test(token.id)) throw new RangeError(`join token id must be 16 hex digits (found "${token.id}")`);
  if (token.secret.length !== TOKEN_SECRET_BYTES || token.pin.length !== PIN_BYTES) throw new RangeError('join token secret and pin must be 32 bytes each');
  if (!Number.isInteger(token.port) || token.port < 1 || token.port > 65_535) throw new RangeError(`join token port must be 1..65535 (found ${token.port})`);
  const address = ipBytes(token.host);
  if (address === undefined) throw new RangeError(`join token address must be an IP literal (found "${token.host}")`);
  if (token.name !== undefined && !NAME.test(token.name)) throw new RangeError(`join token name must be a host name (found "${token.name}")`);
  const name = Buffer.from(token.name ?? '', 'ascii');
  const bytes = new Uint8Array(ADDRESS_AT + address.length + 1 + name.length);
  bytes.set(Buffer.from(token.id, 'hex'), 0);
  bytes.set(token.secret, TOKEN_ID_BYTES);
  bytes.set(token.pin, TOKEN_ID_BYTES + TOKEN_SECRET_BYTES);
  bytes[FAMILY_AT] = address.length === 4 ? 4 : 6;
  new DataView(bytes.buffer).setUint16(FAMILY_AT + 1, token.port);
  bytes.set(address, ADDRESS_AT);
  bytes[ADDRESS_AT + address.length] = name.length;
  bytes.set(name, ADDRESS_AT + address.length + 1);
  return JOIN_TOKEN_PREFIX + Buffer.from(bytes).toString('base64url');
}

/** Decodes a token; throws JoinTokenMalformedError saying what is wrong with it. */
export function decodeJoinToken(text: string): JoinTokenFields {
  const trimmed = text.trim();
  if (trimmed.length > MAX_TOKEN_CHARS) throw new JoinTokenMalformedError(`longer than any join token (${trimmed.length} characters)`);
  if (!trimmed.startsWith(JOIN_TOKEN_PREFIX)) {
    throw new JoinTokenMalformedError(trimmed.startsWith('vsj') ? `format "${trimmed.split('.')[0]}" is not one this vswitch reads (it reads vsj1)` : 'it does not start with "vsj1."');
  }
  const body = trimmed.slice(JOIN_TOKEN_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(body)) throw new JoinTokenMalformedError('after "vsj1." it must be base64url (letters, digits, "-", "_")');
  const bytes = new Uint8Array(Buffer.from(body, 'base64url'));
  if (Buffer.from(bytes).toString('base64url') !== body) throw new JoinTokenMalformedError('its base64url is not canonical (a character changed?)');
  const cut = (): never => {
    throw new JoinTokenMalformedError(`${bytes.length} bytes, which is not what its own lengths say (cut or pasted twice?)`);
  };
  if (bytes.length < ADDRESS_AT + 4 + 1) cut();
  const family = bytes[FAMILY_AT];
  if (family !== 4 && family !== 6) throw new JoinTokenMalformedError(`address family ${family} is neither 4 nor 6`);
  const addressBytes = family === 4 ? 4 : 16;
  const nameAt = ADDRESS_AT + addressBytes + 1;
  const nameBytes = bytes[nameAt - 1] ?? cut();
  if (nameBytes > MAX_NAME_BYTES || bytes.length !== nameAt + nameBytes) cut();
  const port = new DataView(bytes.buffer).getUint16(FAMILY_AT + 1);
  if (port === 0) throw new JoinTokenMalformedError('its port is 0');
  const name = Buffer.from(bytes.subarray(nameAt)).toString('latin1');
  if (nameBytes > 0 && !NAME.test(name)) throw new JoinTokenMalformedError('the host name in it is not a host name');
  return {
    id: Buffer.from(bytes.subarray(0, TOKEN_ID_BYTES)).toString('hex'),
    secret: bytes.slice(TOKEN_ID_BYTES, TOKEN_ID_BYTES + TOKEN_SECRET_BYTES),
    pin: bytes.slice(TOKEN_ID_BYTES + TOKEN_SECRET_BYTES, FAMILY_AT),
    host: ipText(bytes.subarray(ADDRESS_AT, ADDRESS_AT + addressBytes)),
    port,
    ...(nameBytes > 0 ? { name } : {}),
  };
}

/** "IP:PORT" ("[v6]:PORT") of a token's join listener. */
export function joinAddress(token: Pick<JoinTokenFields, 'host' | 'port'>): string {
  return `${token.host.includes(':') ? `[${token.host}]` : token.host}:${token.port}`;
}

/** The pin as people compare it: hex pairs with colons, as `openssl x509 -fingerprint -sha256` prints. */
export function formatPin(pin: Uint8Array): string {
  return Buffer.from(pin).toString('hex').toUpperCase().match(/../g)!.join(':');
}

function ipBytes(host: string): Uint8Array | undefined {
  const kind = isIP(host);
  if (kind === 4) return Uint8Array.from(host.split('.').map(Number));
  if (kind !== 6 || host.includes('%')) return undefined;
  const [head = '', tail] = host.toLowerCase().split('::') as [string, string | undefined];
  const groups = (part: string): number[] => {
    if (part === '') return [];
    return part.split(':').flatMap((g) => {
      if (!g.includes('.')) return [parseInt(g, 16)];
      const [a, b, c, d] = g.split('.').map(Number) as [number, number, number, number];
      return [(a << 8) | b, (c << 8) | d];
    });
  };
  const front = groups(head);
  const back = tail === undefined ? [] : groups(tail);
  const all = [...front, ...Array.from({ length: 8 - front.length - back.length }, () => 0), ...back];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

function ipText(bytes: Uint8Array): string {
  if (bytes.length === 4) return [...bytes].join('.');
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::').replace(/:{3,}/, '::');
}

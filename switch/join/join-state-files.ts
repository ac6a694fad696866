/**
 * The join state on disk, in the join directory (config `join.dir`), each file written whole and atomically
 * (durable-file.ts), mode 0600:
 *   tokens.json   { version: 1, tokens: [{ id, digest, name?, createdAt, expiresAt, createdBy, usedAt?, usedBy?, revokedAt? }] }
 *   hosts.json    { version: 1, hosts: [{ name, publicKey, endpoint?, joinedAt, token }] }
 *   tls-key.pem, tls-cert.pem   the join listener's key and self-signed certificate (made once)
 * Reading checks every field: a file that does not hold what this code writes stops the Proxy at start with the
 * file and the field named, rather than running with half a state.
 */
import { decodeKeyBase64 } from '../link/noise/crypto.js';
import { StateFileError } from './durable-file.js';
import { HOST_NAME } from './join-exchange.js';
import type { JoinedHost } from './joined-hosts.js';
import type { JoinTokenRecord } from './token-store.js';

export const JOIN_STATE_VERSION = 1;
/** A state file larger than this is refused (100 live + 256 dead tokens are ~120 KB; 1000 hosts ~200 KB). */
export const MAX_JOIN_STATE_BYTES = 1 << 20;
export const TOKENS_FILE = 'tokens.json';
export const HOSTS_FILE = 'hosts.json';
export const CERT_FILE = 'tls-cert.pem';
export const KEY_FILE = 'tls-key.pem';

export function encodeTokens(records: readonly JoinTokenRecord[]): string {
  const tokens = records.map((r) => ({
    id: r.id,
    digest: r.digest,
    ...(r.name === undefined ? {} : { name: r.name }),
    createdAt: iso(r.createdAtMs),
    expiresAt: iso(r.expiresAtMs),
    createdBy: r.createdBy,
    ...(r.usedAtMs === undefined ? {} : { usedAt: iso(r.usedAtMs) }),
    ...(r.usedBy === undefined ? {} : { usedBy: r.usedBy }),
    ...(r.revokedAtMs === undefined ? {} : { revokedAt: iso(r.revokedAtMs) }),
  }));
  return `${JSON.stringify({ version: JOIN_STATE_VERSION, tokens }, null, 1)}\n`;
}

export function decodeTokens(text: string, file: string): JoinTokenRecord[] {
  const items = listOf(text, file, 'tokens');
  return items.map((item, i) => {
    const at = `tokens[${i}]`;
    const o = fields(item, file, at, ['id', 'digest', 'name', 'createdAt', 'expiresAt', 'createdBy', 'usedAt', 'usedBy', 'revokedAt']);
    const record: JoinTokenRecord = {
      id: text_(o, 'id', file, at, /^[0-9a-f]{16}$/),
      digest: text_(o, 'digest', file, at, /^[0-9a-f]{64}$/),
      ...(o['name'] === undefined ? {} : { name: text_(o, 'name', file, at, HOST_NAME) }),
      createdAtMs: time(o, 'createdAt', file, at),
      expiresAtMs: time(o, 'expiresAt', file, at),
      createdBy: text_(o, 'createdBy', file, at, /^.{1,256}$/s),
    };
    if (o['usedAt'] !== undefined) record.usedAtMs = time(o, 'usedAt', file, at);
    if (o['usedBy'] !== undefined) record.usedBy = text_(o, 'usedBy', file, at, HOST_NAME);
    if (o['revokedAt'] !== undefined) record.revokedAtMs = time(o, 'revokedAt', file, at);
    return record;
  });
}

export function encodeHosts(hosts: readonly JoinedHost[]): string {
  const list = hosts.map((h) => ({ name: h.name, publicKey: h.publicKey, ...(h.endpoint ? { endpoint: h.endpoint } : {}), joinedAt: iso(h.joinedAtMs), token: h.token }));
  return `${JSON.stringify({ version: JOIN_STATE_VERSION, hosts: list }, null, 1)}\n`;
}

export function decodeHosts(text: string, file: string): JoinedHost[] {
  const names = new Set<string>();
  return listOf(text, file, 'hosts').map((item, i) => {
    const at = `hosts[${i}]`;
    const o = fields(item, file, at, ['name', 'publicKey', 'endpoint', 'joinedAt', 'token']);
    const name = text_(o, 'name', file, at, HOST_NAME);
    if (names.has(name)) throw new StateFileError(file, `${at}.name: "${name}" is listed twice`);
    names.add(name);
    const publicKey = text_(o, 'publicKey', file, at, /^[A-Za-z0-9+/]{43}=$/);
    try {
      decodeKeyBase64(publicKey);
    } catch {
      throw new StateFileError(file, `${at}.publicKey: not a 32-byte base64 key`);
    }
    return {
      name,
      publicKey,
      ...(o['endpoint'] === undefined ? {} : { endpoint: text_(o, 'endpoint', file, at, /^(\[[0-9a-fA-F:.]+\]|[0-9.]+):\d{1,5}$/) }),
      joinedAtMs: time(o, 'joinedAt', file, at),
      token: text_(o, 'token', file, at, /^[0-9a-f]{16}$/),
    };
  });
}

function listOf(text: string, file: string, key: string): unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new StateFileError(file, `is not JSON (${(err as Error).message.slice(0, 100)})`);
  }
  const o = fields(value, file, '', ['version', key]);
  if (o['version'] !== JOIN_STATE_VERSION) throw new StateFileError(file, `version: must be ${JOIN_STATE_VERSION} (found ${JSON.stringify(o['version'])?.slice(0, 20)})`);
  const list = o[key];
  if (!Array.isArray(list)) throw new StateFileError(file, `${key}: must be a list`);
  return list;
}

function fields(value: unknown, file: string, at: string, keys: readonly string[]): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new StateFileError(file, `${at || 'the file'}: must be an object`);
  for (const key of Object.keys(value)) if (!keys.includes(key)) throw new StateFileError(file, `${at ? `${at}.` : ''}${key.slice(0, 64)}: unknown key`);
  return value as Record<string, unknown>;
}

function text_(o: Record<string, unknown>, key: string, file: string, at: string, pattern: RegExp): string {
  const v = o[key];
  if (typeof v !== 'string' || !pattern.test(v)) throw new StateFileError(file, `${at}.${key}: missing or not what this code writes`);
  return v;
}

function time(o: Record<string, unknown>, key: string, file: string, at: string): number {
  const v = o[key];
  const ms = typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z$/.test(v) ? Date.parse(v) : Number.NaN;
  if (!Number.isFinite(ms)) throw new StateFileError(file, `${at}.${key}: must be an ISO time (found ${JSON.stringify(v)?.slice(0, 40)})`);
  return ms;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

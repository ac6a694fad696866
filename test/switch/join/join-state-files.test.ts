import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readBoundedFile, writeFileAtomic } from '../../../switch/join/durable-file.js';
import { decodeHosts, decodeTokens, encodeHosts, encodeTokens } from '../../../switch/join/join-state-files.js';
import type { JoinTokenRecord } from '../../../switch/join/token-store.js';

const TOKENS: JoinTokenRecord[] = [
  { id: '0123456789abcdef', digest: 'ab'.repeat(32), name: 'h9', createdAtMs: Date.UTC(2025, 0, 1), expiresAtMs: Date.UTC(2025, 0, 1, 1), createdBy: 'ops', usedAtMs: Date.UTC(2025, 0, 1, 0, 5), usedBy: 'h9' },
  { id: 'fedcba9876543210', digest: 'cd'.repeat(32), createdAtMs: Date.UTC(2025, 0, 2), expiresAtMs: Date.UTC(2025, 0, 3), createdBy: 'local', revokedAtMs: Date.UTC(2025, 0, 2, 3) },
];
const HOSTS = [{ name: 'h9', publicKey: Buffer.alloc(32, 9).toString('base64'), endpoint: '198.18.0.9:51820', joinedAtMs: Date.UTC(2025, 0, 1, 0, 5), token: '0123456789abcdef' }];

describe('the join state files', () => {
  it('read back what they wrote', () => {
    expect(decodeTokens(encodeTokens(TOKENS), 'tokens.json')).toEqual(TOKENS);
    expect(decodeHosts(encodeHosts(HOSTS), 'hosts.json')).toEqual(HOSTS);
  });

  it('refuse a file that does not hold what this code writes, naming the file and the field', () => {
    const good = JSON.parse(encodeTokens(TOKENS)) as { tokens: Record<string, unknown>[] };
    const cases: [string, RegExp][] = [
      ['{', /tokens\.json: is not JSON/],
      ['[]', /the file: must be an object/],
      [JSON.stringify({ version: 2, tokens: [] }), /version: must be 1/],
      [JSON.stringify({ version: 1 }), /tokens: must be a list/],
      [JSON.stringify({ version: 1, tokens: [{ ...good.tokens[0], digest: 'secret!' }] }), /tokens\[0\]\.digest/],
      [JSON.stringify({ version: 1, tokens: [{ ...good.tokens[0], expiresAt: 'tomorrow' }] }), /tokens\[0\]\.expiresAt: must be an ISO time/],
      [JSON.stringify({ version: 1, tokens: [{ ...good.tokens[0], secret: 'x' }] }), /tokens\[0\]\.secret: unknown key/],
    ];
    for (const [text, why] of cases) {
      expect(() => decodeTokens(text, 'tokens.json'), text).toThrow(why);
      expect(() => decodeTokens(text, 'tokens.json')).toThrow(expect.objectContaining({ code: 'state-file-invalid' }));
    }
    const host = JSON.parse(encodeHosts(HOSTS)) as { hosts: Record<string, unknown>[] };
    expect(() => decodeHosts(JSON.stringify({ version: 1, hosts: [host.hosts[0], host.hosts[0]] }), 'hosts.json')).toThrow(/hosts\[1\]\.name: "h9" is listed twice/);
    expect(() => decodeHosts(JSON.stringify({ version: 1, hosts: [{ ...host.hosts[0], publicKey: 'AAAA' }] }), 'hosts.json')).toThrow(/hosts\[0\]\.publicKey/);
  });
});

describe('atomic state files', () => {
  it('are written whole, mode 0600, with no temporary file left', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vswitch-durable-'));
    const file = join(dir, 'state.json');
    writeFileSync(file, 'old');
    writeFileAtomic(file, 'new content');
    expect(readFileSync(file, 'utf8')).toBe('new content');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['state.json']);
  });

  it('are read with a bound: missing is undefined, too large an error naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vswitch-durable-'));
    expect(readBoundedFile(join(dir, 'none.json'), 10)).toBeUndefined();
    writeFileSync(join(dir, 'big.json'), 'x'.repeat(11));
    expect(() => readBoundedFile(join(dir, 'big.json'), 10)).toThrow(/big\.json: is 11 bytes, more than the 10 it may hold/);
  });
});

/**
 * The join commands through the real program (api/cli/program.ts): on the Proxy `join-token create|list|revoke`
 * and `joined-host list|remove` against its API; on a new host `vswitch join TOKEN` (daemon/join.ts) against its
 * join listener — its files, its refusals with their own codes (the exit status `main.ts` gives each:
 * JOIN_EXIT_CODES), and what it refuses before anything goes out.
 */
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../api/cli/common.js';
import { parseDuration } from '../../../api/cli/join-token.js';
import { createProgram } from '../../../api/cli/program.js';
import { JOIN_EXIT_CODES } from '../../../switch/join/join-errors.js';
import { encodeJoinToken } from '../../../switch/join/join-token.js';
import { encodeKeyBase64 } from '../../../switch/link/noise/crypto.js';
import { startJoinProxy, VIEW_TOKEN, type JoinProxy } from '../../support/join-proxy.js';

let proxy: JoinProxy;
let wallMs = Date.UTC(2025, 0, 1);
beforeAll(async () => {
  proxy = await startJoinProxy({ wallClock: () => wallMs });
});
afterAll(() => proxy.stop());

async function vswitch(...args: string[]): Promise<{ out: string; err: string; code?: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t), nowMs: () => wallMs };
  try {
    await createProgram(io).parseAsync(['node', 'vswitch', ...args]);
    return { out: out.join('\n'), err: err.join('\n') };
  } catch (e) {
    return { out: out.join('\n'), err: [...err, (e as Error).message].join('\n'), code: (e as { code?: string }).code ?? 'error' };
  }
}

const onProxy = (...args: string[]) => vswitch(...args, '--api', proxy.api.base, '--token', proxy.api.token);
const newToken = async (...args: string[]): Promise<string> => (await onProxy('join-token', 'create', ...args)).out;
const hostDir = () => mkdtempSync(join(tmpdir(), 'vswitch-new-host-'));

describe('parseDuration', () => {
  it.each([
    ['90s', 90],
    ['10m', 600],
    ['1h', 3600],
    ['7d', 604_800],
    ['1h30m', 5400],
    ['45', 45],
  ])('%s is %d s', (text, seconds) => expect(parseDuration(text)).toBe(seconds));
  it.each(['', '1x', 'h', '1h 30m', '-5s', '1.5h'])('refuses %j', (text) => expect(() => parseDuration(text)).toThrow(/duration/));
});

describe('vswitch join-token and joined-host (on the Proxy)', () => {
  it('create prints the token alone on stdout; list shows it without its secret; revoke revokes it', async () => {
    const created = await onProxy('join-token', 'create', '--name', 'h5', '--expires', '10m');
    expect(created.out).toMatch(/^vsj1\.[A-Za-z0-9_-]+$/);
    expect(created.err).toMatch(/for host h5, good once until .*vswitch join TOKEN --up/);
    const list = await vswitch('join-token', 'list', '--api', proxy.api.base, '--token', VIEW_TOKEN);
    expect(list.out.split('\n')[0]).toMatch(/^ID\s+NAME\s+STATE\s+CREATED\s+EXPIRES\s+USED BY\s+BY$/);
    expect(list.out).toMatch(/\bh5\s+live\b/);
    const id = /^([0-9a-f]{16})\s+h5/m.exec(list.out)![1]!;
    expect((await onProxy('join-token', 'revoke', id)).out).toBe(`join token ${id} revoked`);
    expect((await onProxy('join-token', 'list', '--json')).out).toContain('"state": "revoked"');
  });

  it('create --expires refuses a lifetime the Proxy does not take, and what is not a duration', async () => {
    expect((await onProxy('join-token', 'create', '--expires', '8d')).err).toMatch(/expiresInS/);
    expect((await onProxy('join-token', 'create', '--expires', 'soon')).code).toBe('commander.invalidArgument');
  });
});

describe('vswitch join (on the new host)', () => {
  it('joins: writes the key and the config, and the Proxy lists the host', async () => {
    const dir = hostDir();
    const token = await newToken('--name', 'h9');
    const joined = await vswitch('join', token, '--config', join(dir, 'h9.yaml'), '--tap', 'tap-h9v1', '--mtu', '1420', '--api-listen', `unix:${dir}/h9.sock`);
    expect(joined.code).toBeUndefined();
    expect(joined.out).toMatch(/^joined the overlay as h9 \(Proxy "proxy" at 127\.0\.0\.1:51820\)/);
    expect(readFileSync(join(dir, 'h9.yaml'), 'utf8')).toContain('{ name: "tap-h9v1", type: tap, mtu: 1420 }');
    expect(readFileSync(join(dir, 'h9.key'), 'utf8')).toMatch(/^[A-Za-z0-9+/]{43}=\n$/);
    expect((await onProxy('joined-host', 'list')).out).toMatch(/^h9\s/m);
    expect(proxy.daemon.linkStatuses().map((l) => l.name)).toContain('h9');
  });

  it('a reused, an expired and a revoked token each fail with their own code and message', async () => {
    const used = await newToken('--name', 'h10');
    expect((await vswitch('join', used, '--config', join(hostDir(), 'h10.yaml'))).code).toBeUndefined();
    const again = await vswitch('join', used, '--config', join(hostDir(), 'h10.yaml'));
    expect(again).toMatchObject({ code: 'join-token-used' });
    expect(again.err).toMatch(/was already used, by host "h10"/);

    const expiring = await newToken('--name', 'h11', '--expires', '1s');
    wallMs += 1000;
    const expired = await vswitch('join', expiring, '--config', join(hostDir(), 'h11.yaml'));
    expect(expired).toMatchObject({ code: 'join-token-expired' });
    expect(expired.err).toMatch(/expired at/);

    const revoking = await newToken('--name', 'h12');
    const id = /^([0-9a-f]{16})\s+h12/m.exec((await onProxy('join-token', 'list')).out)![1]!;
    await onProxy('join-token', 'revoke', id);
    const revoked = await vswitch('join', revoking, '--config', join(hostDir(), 'h12.yaml'));
    expect(revoked).toMatchObject({ code: 'join-token-revoked' });
    expect(revoked.err).toMatch(/was revoked at/);
    // Each has its own exit status.
    const codes = ['join-token-used', 'join-token-expired', 'join-token-revoked', 'join-token-unknown', 'join-pin-mismatch', 'join-name-taken', 'join-key-taken', 'join-unreachable'].map((c) => JOIN_EXIT_CODES[c]);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('with --group, writes both files 0640 for that group (the systemd unit reads them as group vswitch)', async () => {
    const dir = hostDir();
    const gid = String(process.getgid?.() ?? 0);
    expect((await vswitch('join', await newToken('--name', 'h18'), '--config', join(dir, 'h18.yaml'), '--group', gid)).code).toBeUndefined();
    for (const file of ['h18.yaml', 'h18.key']) {
      expect(statSync(join(dir, file)).mode & 0o777).toBe(0o640);
      expect(String(statSync(join(dir, file)).gid)).toBe(gid);
    }
    expect((await vswitch('join', await newToken('--name', 'h19'), '--config', join(hostDir(), 'h19.yaml'), '--group', 'no-such-group-here')).err).toMatch(/--group: no group/);
  });

  it('uses a key given with --key, and refuses one already in the overlay (join-key-taken)', async () => {
    const dir = hostDir();
    writeFileSync(join(dir, 'mine.key'), `${encodeKeyBase64(new Uint8Array(32).fill(77))}\n`);
    expect((await vswitch('join', await newToken('--name', 'h13'), '--config', join(dir, 'h13.yaml'), '--key', join(dir, 'mine.key'))).code).toBeUndefined();
    expect(readFileSync(join(dir, 'h13.yaml'), 'utf8')).toContain(join(dir, 'mine.key'));
    const other = hostDir();
    const taken = await vswitch('join', await newToken('--name', 'h14'), '--config', join(other, 'h14.yaml'), '--key', join(dir, 'mine.key'));
    expect(taken.code).toBe('join-key-taken');
    expect(existsSync(join(other, 'h14.yaml'))).toBe(false);
  });

  it('refuses, before anything goes out, a token that is not one, a name the token is not for, and files it would overwrite', async () => {
    expect((await vswitch('join', 'vsj1.nonsense')).code).toBe('join-token-malformed');
    const token = await newToken('--name', 'h15');
    expect((await vswitch('join', token, '--name', 'h16', '--config', join(hostDir(), 'x.yaml'))).err).toMatch(/this token is for host "h15"/);
    const dir = hostDir();
    writeFileSync(join(dir, 'h15.yaml'), 'name: h15\n');
    expect((await vswitch('join', token, '--config', join(dir, 'h15.yaml'))).err).toMatch(/exists: this host has a config already/);
    expect((await vswitch('join', token, '--config', join(hostDir(), 'h15.yaml'), '--tap', 'bad/name')).err).toMatch(/--tap/);
    // An option only the daemon's loader refuses: an API address beyond loopback without tokens.
    expect((await vswitch('join', token, '--config', join(hostDir(), 'h15.yaml'), '--api-listen', '0.0.0.0:7000')).err).toMatch(/api\.tokens: is required/);
    // None of those spent the token.
    expect((await vswitch('join', token, '--config', join(hostDir(), 'h15.yaml'))).code).toBeUndefined();
  });

  it("refuses a Proxy that is not the token's (pin mismatch), and says so", async () => {
    const token = await newToken('--name', 'h17');
    const fields = (await import('../../../switch/join/join-token.js')).decodeJoinToken(token);
    const forged = encodeJoinToken({ ...fields, pin: new Uint8Array(32).fill(1) });
    const refused = await vswitch('join', forged, '--config', join(hostDir(), 'h17.yaml'));
    expect(refused.code).toBe('join-pin-mismatch');
    expect(refused.err).toMatch(/the Proxy's certificate is not the one in the token/);
  });
});

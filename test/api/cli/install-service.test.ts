/**
 * The shipped systemd unit (packaging/systemd/vswitch@.service) says what the daemon needs and nothing more, and
 * `vswitch install-service` installs it pointing at this installation. (test/e2e/package.test.ts runs
 * `systemd-analyze verify` on what an installed package writes, and the daemon under the unit's user and capabilities.)
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../../api/cli/common.js';
import { SYSUSERS_FILE, UNIT_FILE, sandboxWarnings, systemdWord, unitWithProgram } from '../../../api/cli/install-service.js';
import { createProgram } from '../../../api/cli/program.js';
import { packageRoot } from '../../../api/package-files.js';

const ROOT = packageRoot();
const shipped = readFileSync(join(ROOT, UNIT_FILE), 'utf8');

/** The [Service] section's settings, key → values (a key may repeat). */
function serviceSettings(unit: string): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  let section = '';
  for (const line of unit.split('\n')) {
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) section = header[1]!;
    const setting = /^(\w+)=(.*)$/.exec(line);
    if (section === 'Service' && setting) settings.set(setting[1]!, [...(settings.get(setting[1]!) ?? []), setting[2]!]);
  }
  return settings;
}

async function vswitch(...args: string[]): Promise<{ out: string; err: string; error?: { code?: string } }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t), nowMs: () => 0 };
  try {
    await createProgram(io).parseAsync(['node', 'vswitch', ...args]);
    return { out: out.join('\n'), err: err.join('\n') };
  } catch (e) {
    return { out: out.join('\n'), err: err.join('\n'), error: e as { code?: string } };
  }
}

describe('the shipped unit vswitch@.service', () => {
  const service = serviceSettings(shipped);
  const one = (key: string): string | undefined => {
    const values = service.get(key);
    expect(values?.length ?? 0, key).toBeLessThanOrEqual(1);
    return values?.[0];
  };

  it('runs `vswitch up` on /etc/vswitch/NAME.yaml, restarted on failure but not on a bad config (exit 2)', () => {
    expect(one('ExecStart')).toMatch(/^\S+ up -c \/etc\/vswitch\/%i\.yaml$/);
    expect(one('Restart')).toBe('on-failure');
    expect(one('RestartPreventExitStatus')).toBe('2');
    expect(one('StateDirectory')).toBe('vswitch/%i');
  });

  it('runs as the user vswitch with only CAP_NET_ADMIN and CAP_NET_RAW, and no way to gain more', () => {
    expect(one('User')).toBe('vswitch');
    expect(one('AmbientCapabilities')).toBe('CAP_NET_ADMIN CAP_NET_RAW');
    expect(one('CapabilityBoundingSet')).toBe('CAP_NET_ADMIN CAP_NET_RAW');
    expect(one('NoNewPrivileges')).toBe('yes');
    expect(service.has('DynamicUser')).toBe(false);
  });

  it('is sandboxed, keeping open what the daemon uses: /dev/net/tun, and inet, packet, netlink and unix sockets', () => {
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('ProtectHome')).toBe('yes');
    expect(one('PrivateTmp')).toBe('yes');
    expect(one('DevicePolicy')).toBe('closed');
    expect(one('DeviceAllow')).toBe('/dev/net/tun rw');
    expect(one('RestrictAddressFamilies')?.split(' ').sort()).toEqual(['AF_INET', 'AF_INET6', 'AF_NETLINK', 'AF_PACKET', 'AF_UNIX']);
    // Each of these would break it: no /dev/net/tun, not the host's network, no JIT.
    for (const key of ['PrivateDevices', 'PrivateNetwork', 'PrivateUsers', 'MemoryDenyWriteExecute']) expect(service.has(key), key).toBe(false);
  });

  it('has its user made by the shipped sysusers.d file', () => {
    const sysusers = readFileSync(join(ROOT, SYSUSERS_FILE), 'utf8');
    expect(sysusers).toMatch(/^u vswitch /m);
  });
});

describe('unitWithProgram', () => {
  it('replaces the program of ExecStart and keeps its arguments', () => {
    const unit = unitWithProgram(shipped, ['/usr/bin/node', '/opt/vswitch/lib/node_modules/vswitch/bin/vswitch.js']);
    expect(serviceSettings(unit).get('ExecStart')).toEqual(['/usr/bin/node /opt/vswitch/lib/node_modules/vswitch/bin/vswitch.js up -c /etc/vswitch/%i.yaml']);
    expect(unit.replace(/^ExecStart=.*$/m, '')).toBe(shipped.replace(/^ExecStart=.*$/m, ''));
  });

  it('refuses a unit without exactly one ExecStart=', () => {
    expect(() => unitWithProgram('[Service]\nType=exec\n', ['/x'])).toThrow(expect.objectContaining({ code: 'service-install' }));
    expect(() => unitWithProgram('[Service]\nExecStart=/a\nExecStart=/b\n', ['/x'])).toThrow(expect.objectContaining({ code: 'service-install' }));
  });

  it('escapes what systemd would expand, and quotes blanks', () => {
    expect(systemdWord('/usr/bin/node')).toBe('/usr/bin/node');
    expect(systemdWord('/opt/100%/$HOME')).toBe('/opt/100%%/$$HOME');
    expect(systemdWord('/opt/my node/"x"')).toBe('"/opt/my node/\\"x\\""');
  });
});

describe('sandboxWarnings', () => {
  it('warns about an installation the unit would hide (homes, /tmp), not about system paths', () => {
    expect(sandboxWarnings(['/usr/bin/node', '/usr/lib/node_modules/vswitch/bin/vswitch.js'])).toEqual([]);
    expect(sandboxWarnings(['/root/.nvm/versions/node/v20/bin/node'])[0]).toContain('ProtectHome=yes');
    expect(sandboxWarnings(['/tmp/prefix/lib/node_modules/vswitch/bin/vswitch.js'])[0]).toContain('PrivateTmp=yes');
  });
});

describe('vswitch install-service', () => {
  it('writes the unit with this installation as ExecStart, and the sysusers.d file; says what is left', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vswitch-service-'));
    const r = await vswitch('install-service', '--unit-dir', join(dir, 'units'), '--sysusers-dir', join(dir, 'sysusers'));
    expect(r.error).toBeUndefined();
    const unit = readFileSync(join(dir, 'units/vswitch@.service'), 'utf8');
    expect(serviceSettings(unit).get('ExecStart')).toEqual([`${process.execPath} ${join(ROOT, 'bin/vswitch.js')} up -c /etc/vswitch/%i.yaml`]);
    expect(readFileSync(join(dir, 'sysusers/vswitch.conf'), 'utf8')).toBe(readFileSync(join(ROOT, SYSUSERS_FILE), 'utf8'));
    expect(r.out).toContain('systemctl enable --now vswitch@h1');
  });

  it('--print prints the unit and writes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vswitch-service-'));
    const r = await vswitch('install-service', '--print', '--unit-dir', join(dir, 'units'));
    expect(r.error).toBeUndefined();
    expect(r.out).toContain(`ExecStart=${process.execPath} `);
    expect(existsSync(join(dir, 'units'))).toBe(false);
  });

  it('a directory it cannot write is ServiceInstallError naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vswitch-service-'));
    writeFileSync(join(dir, 'file'), '');
    const r = await vswitch('install-service', '--unit-dir', join(dir, 'file/units'), '--sysusers-dir', join(dir, 'sysusers'));
    expect(r.error).toMatchObject({ code: 'service-install', name: 'ServiceInstallError' });
    expect(existsSync(join(dir, 'sysusers'))).toBe(false);
  });
});

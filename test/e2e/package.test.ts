/**
 * vswitch as an operator installs it: `npm pack` in a clean copy of the checkout (prepack builds dist/), `npm
 * install -g --prefix` of the tarball (the addon compiled on install, its install script allowed by the tarball's
 * path), then the installed `vswitch` run the way vswitch@.service runs it — user nobody, only CAP_NET_ADMIN and
 * CAP_NET_RAW (ambient and bounding), no new privileges: setpriv for the unit's User=, AmbientCapabilities=,
 * CapabilityBoundingSet= and NoNewPrivileges= — in place of a lab host's daemon: it creates its TAP and its VM pings
 * across the overlay. With one capability dropped, it stops at start naming that capability. The unit the installed
 * package writes passes `systemd-analyze verify`. (The unit's other sandboxing runs only under systemd, which this
 * machine does not boot.)
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_DIR, LAB_NS, ROOT, lab, labDownSync, labExec, labNs, requireRoot, vmIp } from './support/lab.js';
import { addNamespace, deleteNamespaces, inNs, ip, sh, waitFor } from './support/netns.js';

const NOBODY = 65534; // nobody:nogroup, as the service's user vswitch would be
const CAPS_NS = `${LAB_NS}pkg-caps`;
const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** setpriv as vswitch@.service sets the process up: this user, these capabilities only, no way to gain more. */
function asService(capabilities: readonly string[]): string[] {
  const set = ['-all', ...capabilities.map((c) => `+${c}`)].join(',');
  return ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', `--inh-caps=${set}`, `--ambient-caps=${set}`, `--bounding-set=${set}`, '--no-new-privs'];
}

/** Runs a command that must succeed (set-up), returning its stdout. */
function must(command: string[], options: { cwd?: string; timeoutMs?: number } = {}): string {
  try {
    return execFileSync(command[0]!, command.slice(1), { cwd: options.cwd, encoding: 'utf8', timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${command.join(' ')} failed: ${e.stderr || e.message}`);
  }
}

/**
 * The checkout's files (tracked and new, as they are now) copied to `to`, with no dist/ or build/: a clean clone
 * to pack from, so packing neither relies on this checkout's build nor rebuilds it under the tests that use it.
 */
function copyCheckout(to: string): void {
  const files = must(['git', 'ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: ROOT }).split('\0');
  for (const file of files) {
    const from = join(ROOT, file);
    if (!file || !existsSync(from) || !lstatSync(from).isFile()) continue; // deleted, or the node_modules symlink
    mkdirSync(dirname(join(to, file)), { recursive: true });
    copyFileSync(from, join(to, file));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(to, 'node_modules'));
}

/** A /proc/PID/status field's first word. */
const statusField = (pid: number, field: string): string | undefined =>
  new RegExp(`^${field}:\\s*(\\S+)`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];

describe('the npm package, installed and run as the service runs it', () => {
  let work: string;
  let packed: { filename: string; files: { path: string }[] };
  let vswitch: string;
  /** Config files readable by the service's group only, as in /etc/vswitch. */
  let etc: string;
  /** Where the unprivileged daemons keep their state (owned by nobody). */
  let stateRoot: string;

  beforeAll(() => {
    requireRoot();
    labDownSync();
    deleteNamespaces([CAPS_NS]);
    work = mkdtempSync(join(tmpdir(), 'vswitch-package-'));
    chmodSync(work, 0o755); // the unprivileged daemon runs the installation from here
    const checkout = join(work, 'checkout');
    copyCheckout(checkout);
    packed = (JSON.parse(must(['npm', 'pack', '--json', '--pack-destination', work], { cwd: checkout })) as (typeof packed)[])[0]!;
    const tarball = join(work, packed.filename);
    const prefix = join(work, 'prefix');
    mkdirSync(join(prefix, 'lib/node_modules'), { recursive: true }); // --strict-allow-scripts lstat's it before creating it
    // npm 11 allows a dependency's install script by its resolved identity: for a tarball, its absolute path.
    must(['npm', 'install', '-g', '--prefix', prefix, '--strict-allow-scripts', `--allow-scripts=${tarball}`, '--no-audit', '--no-fund', tarball], { cwd: work });
    vswitch = join(prefix, 'bin/vswitch');
    etc = join(work, 'etc');
    mkdirSync(etc, { mode: 0o750 });
    chownSync(etc, 0, NOBODY);
    // The daemon's state directories, as the unit's StateDirectory=vswitch/%i makes them: the service user's, 0700.
    stateRoot = join(work, 'state');
    mkdirSync(stateRoot, { mode: 0o700 });
    chownSync(stateRoot, NOBODY, NOBODY);
  }, 170_000);

  afterAll(() => {
    labDownSync();
    deleteNamespaces([CAPS_NS]);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** Writes a config (or key) as /etc/vswitch holds them: root:vswitch, mode 0640. */
  function installFile(name: string, text: string): string {
    const file = join(etc, name);
    writeFileSync(file, text, { mode: 0o640 });
    chownSync(file, 0, NOBODY);
    return file;
  }

  it('packs the built JS, the addon sources, the spec and the unit, and no tests, sources or builds', () => {
    const paths = packed.files.map((f) => f.path);
    for (const file of ['bin/vswitch.js', 'dist/api/cli/main.js', 'dist/daemon/up.js', 'dist/api/dashboard/client.js', 'binding.gyp', 'switch/port/addon/netdev.cc', 'openapi.yaml', 'packaging/systemd/vswitch@.service', 'packaging/sysusers.d/vswitch.conf']) {
      expect(paths, file).toContain(file);
    }
    const unwanted = paths.filter((p) => /^(test|scripts|examples|build|node_modules|dist\/scripts)\//.test(p) || /\.ts$|\.map$/.test(p) || p === 'package-lock.json');
    expect(unwanted).toEqual([]);
  });

  it('installs a working `vswitch` with the addon built on install', () => {
    expect(existsSync(join(work, 'prefix/lib/node_modules/vswitch/build/Release/vswitch_native.node'))).toBe(true);
    expect(must([vswitch, '--version']).trim()).toBe(version);
  });

  it('installs a unit, pointing at this installation, that passes `systemd-analyze verify`', () => {
    const units = join(work, 'units');
    const out = sh([vswitch, 'install-service', '--unit-dir', units, '--sysusers-dir', join(work, 'sysusers')]);
    expect(out.code, out.stderr).toBe(0);
    const unit = join(units, 'vswitch@.service');
    expect(readFileSync(unit, 'utf8')).toContain(`ExecStart=${process.execPath} ${join(work, 'prefix/lib/node_modules/vswitch/bin/vswitch.js')} up -c /etc/vswitch/%i.yaml`);
    const verify = sh(['systemd-analyze', 'verify', unit]);
    // verify exits 0 on mere warnings (an unknown key, a bad value): only silence is a pass.
    expect({ code: verify.code, output: verify.stdout + verify.stderr }).toEqual({ code: 0, output: '' });
    // …and it does speak up on a broken unit.
    const broken = join(units, 'broken@.service');
    writeFileSync(broken, readFileSync(unit, 'utf8').replace('ProtectSystem=strict', 'ProtectSystem=stric'));
    expect(sh(['systemd-analyze', 'verify', broken]).stderr).toContain('stric');
  });

  it("as nobody with only CAP_NET_ADMIN and CAP_NET_RAW, it replaces h2's daemon, creates the TAP, and h2v1 pings h1v1", async () => {
    await lab('up', '--hosts', '2', '--vms-per-host', '1', '--proxy');
    const key = join(etc, 'h2.key');
    copyFileSync(join(LAB_DIR, 'h2.key'), key);
    chmodSync(key, 0o640);
    chownSync(key, 0, NOBODY);
    const config = installFile('h2.yaml', readFileSync(join(LAB_DIR, 'h2.yaml'), 'utf8')
        .replace(/^privateKeyFile: .*$/m, `privateKeyFile: ${key}`)
        .replace(/^stateDir: .*$/m, `stateDir: ${join(stateRoot, 'h2')}`),
    );
    await lab('stop', 'h2');
    await lab('start', 'h2', '--config', config, '--', ...asService(['net_admin', 'net_raw']), vswitch);

    const pid = Number(readFileSync(join(LAB_DIR, 'h2.pid'), 'utf8'));
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain(join(work, 'prefix'));
    expect(statusField(pid, 'Uid')).toBe(String(NOBODY));
    expect(statusField(pid, 'CapEff')).toBe('0000000000003000'); // bits 12 and 13: CAP_NET_ADMIN, CAP_NET_RAW
    expect(statusField(pid, 'CapBnd')).toBe('0000000000003000');
    expect(statusField(pid, 'NoNewPrivs')).toBe('1');

    await waitFor(() => labExec('h2v1', ['ping', '-c', '1', '-W', '1', vmIp(1, 1)], 5_000).code === 0, 20_000, 'h2v1 pings h1v1');
    const status = JSON.parse(must(['ip', 'netns', 'exec', labNs('h2'), vswitch, 'status', '--json'])) as { ports: { name: string }[]; links: { state: string }[] };
    expect(status.ports.map((p) => p.name)).toContain('tap-h2v1');
    expect(status.links).toMatchObject([{ state: 'up' }]);
    // What the installed daemon serves from its package: the spec, and the dashboard with its compiled client.
    expect(inNs(labNs('h2'), ['curl', '-sf', 'http://127.0.0.1:7000/openapi.yaml']).stdout).toMatch(/^openapi: 3/);
    const page = inNs(labNs('h2'), ['curl', '-sf', 'http://127.0.0.1:7000/']).stdout;
    expect(page).toContain('<span id="banner"></span>');
    expect(page).not.toContain('client not built');
  });

  describe('with one capability dropped, it stops at start naming it', () => {
    beforeAll(() => {
      addNamespace(CAPS_NS);
      ip('-n', CAPS_NS, 'link', 'add', 'vcap0', 'type', 'veth', 'peer', 'name', 'vcap1');
      ip('-n', CAPS_NS, 'link', 'set', 'vcap0', 'up');
      ip('-n', CAPS_NS, 'link', 'set', 'vcap1', 'up');
    });

    const up = (capabilities: string[], config: string) => inNs(CAPS_NS, [...asService(capabilities), vswitch, 'up', '-c', config], 30_000);
    const hostConfig = (name: string, port: string): string =>
      installFile(`${name}.yaml`, `name: ${name}\nrole: host\nstateDir: ${join(stateRoot, name)}\napi:\n  listen: 127.0.0.1:7000\nports:\n  - ${port}\n`);

    it('without CAP_NET_ADMIN: creating the TAP needs it', () => {
      const r = up(['net_raw'], hostConfig('caps-tap', '{ name: tap-caps, type: tap, mtu: 1420 }'));
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('cannot create TAP device: needs CAP_NET_ADMIN, which this process lacks');
      expect(r.stderr).toContain('(tap-caps)');
      expect(inNs(CAPS_NS, ['ip', 'link', 'show', 'tap-caps']).code).not.toBe(0);
    });

    it("without CAP_NET_RAW: a capture port's packet socket needs it", () => {
      const r = up(['net_admin'], hostConfig('caps-capture', '{ name: cap0, type: capture, interface: vcap0 }'));
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('cannot open packet socket: needs CAP_NET_RAW, which this process lacks');
      expect(r.stderr).toContain('(vcap0)');
    });
  });
});

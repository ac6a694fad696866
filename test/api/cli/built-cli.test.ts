/**
 * The built CLI (`node bin/vswitch.js`, which runs dist/), as an operator runs it: `up --check -c FILE` and
 * `topology check FILE` on good and bad files — exit 0 with one OK line, or 1 with the problems on stderr — under a
 * preload (support/forbid-io.mjs) that makes any socket, native addon or TAP device throw: the checks open none.
 * Needs no root. dist/ must be built from the sources here (scripts/setup does it): a stale build fails, saying so.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { writeCheckFiles } from './support/check-files.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FORBID_IO = fileURLToPath(new URL('./support/forbid-io.mjs', import.meta.url));
const files = writeCheckFiles();
afterAll(() => files.remove());

/** The sources the checks run; their compiled files must be at least as new. */
const SOURCES = ['api/cli/main.ts', 'api/cli/program.ts', 'api/cli/check.ts', 'api/cli/topology.ts', 'daemon/config-check.ts', 'daemon/config.ts', 'switch/config/load-config.ts', 'switch/topology/parser.ts', 'switch/topology/check.ts'];

function vswitch(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', FORBID_IO, join(ROOT, 'bin/vswitch.js'), ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}

describe('the built CLI checks files without a daemon', () => {
  it('is built from these sources', () => {
    const stale = SOURCES.filter((src) => {
      const built = join(ROOT, 'dist', src.replace(/\.ts$/, '.js'));
      return !existsSync(built) || statSync(built).mtimeMs < statSync(join(ROOT, src)).mtimeMs;
    });
    expect(stale, `dist/ is missing or older than ${stale.join(', ')}: run npx tsc -p tsconfig.build.json`).toEqual([]);
  });

  it('would catch a socket: the preload forbids connecting', () => {
    const r = vswitch('status', '--api', 'http://127.0.0.1:9');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('forbidden: connecting a socket');
  });

  it('up --check: exit 0 and one OK line for a good config, opening nothing', () => {
    const r = vswitch('up', '--check', '-c', files.path('host.yaml'));
    expect(r).toEqual({ code: 0, stdout: `${files.path('host.yaml')}: OK: host "h1", 1 port, 1 peer, API on 127.0.0.1:7000`, stderr: '' });
  });

  it("up --check: exit 1 and the daemon's file:line:col line for a bad core key or plugin section", () => {
    const port = vswitch('up', '--check', '-c', files.path('bad-port.yaml'));
    expect(port).toEqual({ code: 1, stdout: '', stderr: `${files.path('bad-port.yaml')}:8:29: ports[0].type: must be one of tap, capture (found "tun")` });
    const section = vswitch('up', '--check', '-c', files.path('bad-section.yaml'));
    expect(section.code).toBe(1);
    expect(section.stderr).toBe(`${files.path('bad-section.yaml')}:9:24: vttif.updateRateHz: must be between 1 and 20 (found 0)`);
  });

  it('topology check: exit 0 and one OK line for a good description', () => {
    expect(vswitch('topology', 'check', files.path('good.vnet'))).toEqual({ code: 0, stdout: 'good.vnet: OK: 3 hosts (proxy "proxy"), 3 links, 1 rule', stderr: '' });
  });

  it('topology check: exit 1 and file:line:col lines for a syntax error or invalid meaning', () => {
    const syntax = vswitch('topology', 'check', files.path('syntax.vnet'));
    expect(syntax).toMatchObject({ code: 1, stdout: '', stderr: expect.stringMatching(/^syntax\.vnet:2:8: expected a name .*found end of line$/) });
    const invalid = vswitch('topology', 'check', files.path('invalid.vnet'));
    expect(invalid.code).toBe(1);
    expect(invalid.stderr.split('\n').map((l) => l.replace(/: .*/, ''))).toEqual(['invalid.vnet:3:1', 'invalid.vnet:5:1', 'invalid.vnet:6:1', 'warning']);
  });

  it('bad usage is still exit 2', () => {
    expect(vswitch('up', '--check').code).toBe(2);
    expect(vswitch('topology', 'check').code).toBe(2);
  });
});

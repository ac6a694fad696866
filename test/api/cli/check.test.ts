/**
 * The checks that need no daemon, run through the real command tree: `vswitch up --check -c FILE` says what `vswitch
 * up` would refuse the file for (the same ConfigError, every plugin's section included), `vswitch topology check
 * FILE` what the Proxy's apply would (every problem, then the warnings), or one OK line.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../api/cli/common.js';
import { createProgram } from '../../../api/cli/program.js';
import { loadDaemonConfigFile } from '../../../daemon/config.js';
import { checkTopology } from '../../../switch/topology/check.js';
import { formatProblem } from '../../../switch/topology/errors.js';
import { parseTopology } from '../../../switch/topology/parser.js';
import { INVALID_VNET, writeCheckFiles } from './support/check-files.js';

const files = writeCheckFiles();
afterAll(() => files.remove());

async function vswitch(...args: string[]): Promise<{ out: string[]; err: string[]; error?: { code?: string } }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t), nowMs: () => 0 };
  try {
    await createProgram(io).parseAsync(['node', 'vswitch', ...args]);
    return { out, err };
  } catch (e) {
    return { out, err, error: e as { code?: string } };
  }
}

/** What `vswitch up -c FILE` refuses the file with (its ConfigError's message). */
function upRefusal(file: string): string {
  try {
    loadDaemonConfigFile(file);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`${file} is valid`);
}

describe('vswitch up --check -c FILE', () => {
  it('prints one OK line for a good config', async () => {
    const r = await vswitch('up', '--check', '-c', files.path('host.yaml'));
    expect(r.error).toBeUndefined();
    expect(r.out).toEqual([`${files.path('host.yaml')}: OK: host "h1", 1 port, 1 peer, API on 127.0.0.1:7000`]);
    expect(r.err).toEqual([]);
  });

  it("prints the line `vswitch up` refuses a core key with, and fails (check-failed)", async () => {
    const file = files.path('bad-port.yaml');
    const r = await vswitch('up', '--check', '-c', file);
    expect(r.error?.code).toBe('check-failed');
    expect(r.err).toEqual([upRefusal(file)]);
    expect(r.err[0]).toBe(`${file}:8:29: ports[0].type: must be one of tap, capture (found "tun")`);
    expect(r.out).toEqual([]);
  });

  it("checks every plugin's section as `up` does", async () => {
    const file = files.path('bad-section.yaml');
    const r = await vswitch('up', '--check', '-c', file);
    expect(r.error?.code).toBe('check-failed');
    expect(r.err).toEqual([upRefusal(file)]);
    expect(r.err[0]).toMatch(new RegExp(`^${file}:9:\\d+: vttif\\.updateRateHz: `));
  });

  it('refuses a file it cannot read, naming it', async () => {
    const r = await vswitch('up', '--check', '-c', files.path('nothing.yaml'));
    expect(r.error?.code).toBe('check-failed');
    expect(r.err).toEqual([`${files.path('nothing.yaml')}: cannot read the file (ENOENT)`]);
  });
});

describe('vswitch topology check FILE', () => {
  it('prints one OK line for a good description', async () => {
    const r = await vswitch('topology', 'check', files.path('good.vnet'));
    expect(r.error).toBeUndefined();
    expect(r.out).toEqual(['good.vnet: OK: 3 hosts (proxy "proxy"), 3 links, 1 rule']);
    expect(r.err).toEqual([]);
  });

  it('prints a syntax error as the Proxy would: file:line:col, expected, found', async () => {
    const r = await vswitch('topology', 'check', files.path('syntax.vnet'));
    expect(r.error?.code).toBe('check-failed');
    expect(r.err).toEqual(['syntax.vnet:2:8: expected a name (lower-case letters, digits and "-", at most 32 characters), found end of line']);
  });

  it("prints every problem the Proxy's check finds, in file order, then the warnings", async () => {
    const r = await vswitch('topology', 'check', files.path('invalid.vnet'));
    expect(r.error?.code).toBe('check-failed');
    const { problems, warnings } = checkTopology(parseTopology(INVALID_VNET, 'invalid.vnet'), 'invalid.vnet');
    expect(problems).toHaveLength(3);
    expect(r.err).toEqual([...problems.map(formatProblem), ...warnings.map((w) => `warning: ${formatProblem(w)}`)]);
    expect(r.err[0]).toBe('invalid.vnet:3:1: host "h2" has no link to the proxy "proxy" (the star backbone is required)');
    expect(r.err.at(-1)).toMatch(/^warning: invalid\.vnet:7:1: rule on "h1" goes via "vm7", which is not a host/);
    expect(r.out).toEqual([]);
  });

  it('refuses a file it cannot read, naming it', async () => {
    const r = await vswitch('topology', 'check', files.path('nothing.vnet'));
    expect(r.error?.code).toBe('check-failed');
    expect(r.err).toEqual([`${files.path('nothing.vnet')}: cannot read the file (ENOENT)`]);
  });
});

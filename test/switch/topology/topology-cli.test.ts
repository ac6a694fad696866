/**
 * The topology tools end to end: the real CLI, over the Proxy's real API
 * (unix socket), on a Proxy and two hosts over memory transports.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRequest } from '../../../api/cli/client.js';
import type { CliIo } from '../../../api/cli/common.js';
import { createProgram } from '../../../api/cli/program.js';
import { startOverlay, type Overlay3 } from './daemons-fixture.js';

let o: Overlay3;
let dir: string;
beforeAll(async () => {
  o = await startOverlay(2);
  dir = mkdtempSync(join(tmpdir(), 'vswitch-topology-cli-'));
});
afterAll(async () => o.stop());

async function vswitch(...args: string[]): Promise<{ out: string; error?: { code?: string; status?: number; message: string; problem?: any } }> {
  const out: string[] = [];
  const io: CliIo = { out: (t) => out.push(t), err: () => {}, nowMs: () => 0 };
  try {
    await createProgram(io).parseAsync(['node', 'vswitch', ...args, '--api', o.proxyApi]);
    return { out: out.join('\n') };
  } catch (e) {
    return { out: out.join('\n'), error: e as { message: string } };
  }
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const description = () =>
  `host proxy key "${o.keys.proxy}" proxy\nhost h1 key "${o.keys.h1}" endpoint 198.18.0.1:51820\nhost h2 key "${o.keys.h2}" endpoint 198.18.0.2:51820\n` +
  'link h1 proxy\nlink h2 proxy\nrule h1 src any dst 02:00:c6:13:02:01 via proxy priority 4\n';

describe('vswitch topology', () => {
  it('show prints text that parses back, JSON, and DOT', async () => {
    const text = await vswitch('topology', 'show');
    expect(text.error).toBeUndefined();
    expect(text.out).toContain('link h1 proxy\nlink h2 proxy');
    const json = JSON.parse((await vswitch('topology', 'show', '--format', 'json')).out);
    expect(json.hosts).toEqual([
      { name: 'proxy', reachable: true },
      { name: 'h1', reachable: true },
      { name: 'h2', reachable: true },
    ]);
    expect((await vswitch('topology', 'show', '--format', 'dot')).out).toMatch(/^digraph/);
  });

  it('diff, then apply, then apply again (nothing to change)', async () => {
    const path = file('star.vnet', description());
    expect((await vswitch('topology', 'diff', path)).out).toBe('would apply 1 change(s):\n  h1: add rule src any dst 02:00:c6:13:02:01 via proxy priority 4');
    expect((await vswitch('topology', 'apply', path)).out).toBe('applied 1 change(s):\n  h1: add rule src any dst 02:00:c6:13:02:01 via proxy priority 4');
    expect((await vswitch('topology', 'apply', path)).out).toBe('nothing to change: the overlay already matches');
  });

  it('answers a bad description with a 400 naming file:line:column', async () => {
    const bad = await vswitch('topology', 'apply', file('bad.vnet', description() + 'rule h1 src any dst none vai proxy\n'));
    expect(bad.error).toMatchObject({ status: 400, message: 'bad.vnet:7:26: expected "via", found "vai"' });
    expect(bad.error!.problem).toMatchObject({ code: 'topology-syntax', errors: [{ field: '/body/text', message: 'bad.vnet:7:26: expected "via", found "vai"' }] });
    const invalid = await vswitch('topology', 'diff', file('invalid.vnet', description() + 'link h1 h9\n'));
    expect(invalid.error!.problem).toMatchObject({ status: 400, code: 'topology-invalid', errors: [{ message: 'invalid.vnet:7:1: link names unknown host "h9"' }] });
  });

  it('route prints the hops with the rule matched', async () => {
    const route = await vswitch('topology', 'route', '02:00:c6:13:01:01', '02:00:c6:13:02:01', '--from', 'h1');
    expect(route.out.split('\n')[0]).toBe('02:00:c6:13:01:01 → 02:00:c6:13:02:01: flooded');
    expect(route.out).toContain('1. h1 (in (local)): rule #');
    const bad = await vswitch('topology', 'route', 'nope', '02:00:c6:13:02:01');
    expect(bad.error).toMatchObject({ status: 400 });
  });

  it('app shows the application topology VTTIF infers (none yet: no VM traffic)', async () => {
    const app = await vswitch('topology', 'app', '--json');
    expect(JSON.parse(app.out)).toMatchObject({ edges: [], shape: null });
  });

  it('is served by the Proxy only', async () => {
    const hostApi = o.proxyApi.replace('proxy.sock', 'h1.sock');
    await expect(apiRequest({ base: hostApi }, 'GET', '/v1/topology')).rejects.toMatchObject({ status: 404, problem: { code: 'not-proxy' } });
  });
});

/**
 * The example third-party policy (examples/pin-pairs/policy.mjs) on its own lab: 3 hosts × 1 VM and the Proxy,
 * namespaces vs-pol-…, state in /run/vswitch-lab-pol (so it can run beside other labs). The policy is a separate
 * process inside the Proxy's namespace that uses only the HTTP API; it pins h1v1 ↔ h3v1 to a direct link.
 * Asserted: it registers (kind http, running) and receives host events; it adds `pin-h3` on h1 and `pin-h1` on h3
 * (owner proxy:policy:pin-pairs, up) with one rule per direction; pings between the pair hit the pinned rule while
 * the Proxy's switch receives none of their frames; with its token it cannot delete the star's default rule or a
 * config link (409 naming the owner) nor change VTTIF's parameters (403); an operator's disable removes what it
 * owns and enable gets it back; SIGTERM unregisters it (everything removed); and a run killed with SIGKILL and a
 * 5 s lease loses its links and rules when the lease runs out.
 */
// The lab's namespace prefix and directory are read when support/lab.js is imported: set them first.
process.env['VSWITCH_LAB_NS'] = 'vs-pol-';
process.env['VSWITCH_LAB_DIR'] = '/run/vswitch-lab-pol';

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const { lab, labDownSync, labExec, labNs, ROOT, requireRoot, vmIp, vmMac } = await import('./support/lab.js');

const POLICY = join(ROOT, 'examples/pin-pairs/policy.mjs');
const OWNER = 'proxy:policy:pin-pairs';
const A = vmMac(1, 1);
const B = vmMac(3, 1);

interface Link {
  name: string;
  state: string;
  owner?: string;
  publicKey: string;
}
interface Rule {
  id: number;
  src: string;
  dst: string;
  target: string;
  owner: string;
  hitFrames: number;
}
interface PluginView {
  name: string;
  kind: string;
  state: string;
  enabled: boolean;
  owns: { links: number; rules: number };
}
interface Port {
  kind: string;
  rxFrames: number;
}

/** One request to the Proxy's API from inside its namespace; operator (no token, loopback) unless a token is given. */
function proxyApi<T = unknown>(method: string, path: string, opts: { body?: unknown; token?: string } = {}): { status: number; body: T } {
  const args = ['curl', '-sS', '-X', method, '-w', '\n%{http_code}', `http://127.0.0.1:7000${path}`];
  if (opts.token) args.push('-H', `authorization: Bearer ${opts.token}`);
  if (opts.body !== undefined) args.push('-H', 'content-type: application/json', '-d', JSON.stringify(opts.body));
  const r = labExec('proxy', args, 30_000);
  if (r.code !== 0) throw new Error(`proxy API ${method} ${path}: curl failed: ${r.stderr}`);
  const nl = r.stdout.lastIndexOf('\n');
  const text = r.stdout.slice(0, nl);
  return { status: Number(r.stdout.slice(nl + 1)), body: (text ? JSON.parse(text) : undefined) as T };
}

function get<T>(path: string): T {
  const r = proxyApi<T>('GET', path);
  if (r.status !== 200) throw new Error(`GET ${path}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

const hostLinks = (h: string): Link[] => get<{ links: Link[] }>(`/v1/hosts/${h}/links`).links;
const hostRules = (h: string): Rule[] => get<{ rules: Rule[] }>(`/v1/hosts/${h}/rules`).rules;
const owned = <T extends { owner?: string }>(xs: T[]): T[] => xs.filter((x) => x.owner === OWNER);

/** Ethernet frames the Proxy's switch received over its links (heartbeats and reports are control messages, not frames). */
function proxyLinkFrames(): number {
  return get<{ ports: Port[] }>('/v1/status').ports.filter((p) => p.kind === 'link').reduce((sum, p) => sum + p.rxFrames, 0);
}

/** Both ends of the pinned link up, with the pair's two rules. */
function pinned(): boolean {
  const l1 = owned(hostLinks('h1'));
  const l3 = owned(hostLinks('h3'));
  const r1 = owned(hostRules('h1'));
  const r3 = owned(hostRules('h3'));
  return (
    l1.length === 1 && l1[0]?.name === 'pin-h3' && l1[0].state === 'up' &&
    l3.length === 1 && l3[0]?.name === 'pin-h1' && l3[0].state === 'up' &&
    r1.length === 1 && r1[0]?.src === A && r1[0].dst === B && r1[0].target === 'pin-h3' &&
    r3.length === 1 && r3[0]?.src === B && r3[0].dst === A && r3[0].target === 'pin-h1'
  );
}

function nothingOwned(): boolean {
  return ['h1', 'h2', 'h3'].every((h) => owned(hostLinks(h)).length === 0 && owned(hostRules(h)).length === 0);
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let ok = false;
    try {
      ok = await check();
    } catch {
      ok = false; // a relay timeout under load: try again
    }
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface LogLine {
  msg: string;
  level: string;
  type?: string;
  host?: string | { name: string; change: string };
  [k: string]: unknown;
}

interface PolicyRun {
  child: ChildProcess;
  lines(): LogLine[];
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const runs: PolicyRun[] = [];

/** Starts the example policy in the Proxy's namespace (its stdout collected, one JSON line per thing). */
function startPolicy(...extra: string[]): PolicyRun {
  const child = spawn(
    'ip',
    ['netns', 'exec', labNs('proxy'), process.execPath, POLICY, '--api', 'http://127.0.0.1:7000', '--pair', `${A}=${B}`, ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const run: PolicyRun = {
    child,
    output: () => out,
    lines: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as LogLine),
    exited,
  };
  runs.push(run);
  return run;
}

describe('the example HTTP policy pin-pairs on a 3-host lab', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vswitch-pol-'));
  const tokenFile = join(dir, 'token');
  let first: PolicyRun;
  let token = '';

  beforeAll(async () => {
    requireRoot();
    labDownSync();
    await lab('up', '--hosts', '3', '--vms-per-host', '1');
    await until('the star up', () => get<{ links: Link[] }>('/v1/links').links.filter((l) => l.state === 'up').length === 3, 30_000);
    // Quiet VMs (no IPv6 router solicitations or MLD reports), so the Proxy's frame counters measure the pings alone.
    for (const vm of ['h1v1', 'h2v1', 'h3v1']) labExec(vm, ['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    // The VMs speak (ARP and ICMP) so that the Proxy learns on which host each lives.
    await until('h1v1 reaches h3v1 over the star', () => labExec('h1v1', ['ping', '-c', '1', '-W', '2', vmIp(3, 1)]).code === 0, 30_000);
  }, 120_000);

  afterAll(() => {
    for (const run of runs) if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    labDownSync();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers, receives host events and pins h1v1 ↔ h3v1 to a direct link with a rule per direction', async () => {
    // A long lease: the Proxy lets a disabled policy's lease run out (see the report), and this run is disabled below.
    first = startPolicy('--token-file', tokenFile, '--lease', '120');
    await until('registered and streaming', () => get<{ plugins: PluginView[] }>('/v1/plugins').plugins.some((p) => p.name === 'pin-pairs' && p.kind === 'http' && p.state === 'running'), 30_000);
    await until('host events for h1..h3 logged', () => {
      const hosts = first.lines().filter((l) => l.msg === 'event' && l.type === 'host').map((l) => (l.host as { name: string }).name);
      return ['h1', 'h2', 'h3'].every((h) => hosts.includes(h));
    }, 20_000);
    expect(first.lines().find((l) => l.msg === 'registered')).toMatchObject({ name: 'pin-pairs', actor: 'policy:pin-pairs' });
    token = readFileSync(tokenFile, 'utf8').trim();

    await until('pin-h3 on h1 and pin-h1 on h3 up, with their rules', pinned, 45_000);
    const link1 = owned(hostLinks('h1'))[0]!;
    const link3 = owned(hostLinks('h3'))[0]!;
    const star = get<{ links: Link[] }>('/v1/links').links;
    expect(link1.publicKey).toBe(star.find((l) => l.name === 'h3')?.publicKey);
    expect(link3.publicKey).toBe(star.find((l) => l.name === 'h1')?.publicKey);
    // `owns` counts from the hosts' reports, which follow the changes within a moment.
    await until('owns 2 links and 2 rules', () => {
      const owns = get<PluginView>('/v1/plugins/pin-pairs').owns;
      return owns.links === 2 && owns.rules === 2;
    }, 10_000);
    const did = (): string[] => first.lines().map((l) => `${l.msg} ${typeof l.host === 'string' ? l.host : ''}`);
    // Its log (read through a pipe) may trail the API by a moment.
    await until('its log shows what it did', () => ['link added h1', 'link added h3', 'rule added h1', 'rule added h3'].every((d) => did().includes(d)), 10_000);
    // Idempotent: nothing added twice.
    expect(did().filter((d) => d.startsWith('link added')).length).toBe(2);
    expect(did().filter((d) => d.startsWith('rule added')).length).toBe(2);
  }, 120_000);

  it("sends the pair's pings over the pinned link: the rule's hits rise, the Proxy's switch sees none of them", () => {
    const hitsBefore = owned(hostRules('h1'))[0]!.hitFrames;
    const proxyBefore = proxyLinkFrames();
    const ping = labExec('h1v1', ['ping', '-c', '10', '-i', '0.2', '-W', '2', vmIp(3, 1)]);
    expect(ping.code, ping.stdout + ping.stderr).toBe(0);
    const hitsAfter = owned(hostRules('h1'))[0]!.hitFrames;
    const proxyAfter = proxyLinkFrames();
    expect(hitsAfter - hitsBefore).toBeGreaterThanOrEqual(10);
    // Over the star these pings would be 20 frames at the Proxy (10 requests from h1, 10 replies from h3); allow a
    // stray broadcast or two (an ARP refresh) from the VMs.
    expect(proxyAfter - proxyBefore).toBeLessThanOrEqual(2);
  });

  it("with the policy's token: 409 naming the owner for the star's rule and config links, 403 beyond the primitives", () => {
    // Without the token these requests would come from an operator, who may delete anything.
    expect(token).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    const defaultRule = hostRules('h1').find((r) => r.dst === 'none')!;
    expect(defaultRule.owner).toBe('star');
    const delRule = proxyApi<{ code: string; detail: string }>('DELETE', `/v1/hosts/h1/rules/${defaultRule.id}`, { token });
    expect(delRule.status).toBe(409);
    expect(delRule.body.detail).toContain('"star"');
    const delHostLink = proxyApi<{ code: string; detail: string }>('DELETE', '/v1/hosts/h1/links/proxy', { token });
    expect(delHostLink.status).toBe(409);
    expect(delHostLink.body.detail).toContain('"config"');
    const delStarLink = proxyApi<{ code: string; detail: string }>('DELETE', '/v1/links/h1', { token });
    expect(delStarLink.status).toBe(409);
    expect(delStarLink.body.detail).toContain('"config"');
    const params = proxyApi<{ code: string }>('PUT', '/v1/vttif/parameters', { token, body: { threshold: 0.2 } });
    expect(params.status).toBe(403);
    expect(params.body.code).toBe('policy-forbidden');
    // Nothing changed.
    expect(hostRules('h1').some((r) => r.id === defaultRule.id && r.owner === 'star')).toBe(true);
    expect(hostLinks('h1').some((l) => l.name === 'proxy')).toBe(true);
    expect(get<{ links: Link[] }>('/v1/links').links.some((l) => l.name === 'h1')).toBe(true);
  });

  it('disabled by an operator: its links and rules go; enabled again: the policy puts them back', async () => {
    const off = proxyApi<PluginView>('PATCH', '/v1/plugins/pin-pairs', { body: { enabled: false } });
    expect(off.status).toBe(200);
    expect(off.body.state).toBe('disabled');
    await until('its links and rules removed', nothingOwned, 20_000);
    await until('the policy noticed', () => first.lines().some((l) => l.msg.startsWith('disabled by an operator')), 20_000);

    const on = proxyApi<PluginView>('PATCH', '/v1/plugins/pin-pairs', { body: { enabled: true } });
    expect(on.status).toBe(200);
    expect(on.body.enabled).toBe(true);
    await until('pinned again', pinned, 45_000);
    expect(get<PluginView>('/v1/plugins/pin-pairs').state).toBe('running');
  }, 120_000);

  it('SIGTERM: it unregisters, exits 0, and what it owned is gone', async () => {
    first.child.kill('SIGTERM');
    const exit = await first.exited;
    expect(exit.code, first.output()).toBe(0);
    expect(first.lines().some((l) => l.msg === 'unregistered')).toBe(true);
    expect(get<{ plugins: PluginView[] }>('/v1/plugins').plugins.some((p) => p.name === 'pin-pairs')).toBe(false);
    await until('its links and rules removed', nothingOwned, 15_000);
  }, 60_000);

  it('SIGKILL with a 5 s lease: the lease runs out and the Proxy removes its links and rules', async () => {
    const second = startPolicy('--lease', '5');
    await until('pinned by the second run', pinned, 60_000);
    second.child.kill('SIGKILL');
    await second.exited;
    const killedAt = Date.now();
    await until('its links and rules removed after the lease', nothingOwned, 30_000);
    const tookMs = Date.now() - killedAt;
    expect(get<PluginView>('/v1/plugins/pin-pairs').state).toBe('expired');
    // Not before the lease (less a 1 s tick), and not long after it.
    expect(tookMs).toBeGreaterThanOrEqual(3500);
    expect(tookMs).toBeLessThan(20_000);
  }, 120_000);
});

/**
 * A host joins a running lab with one command. The lab: a Proxy taking joins (`scripts/lab up --join`) and two hosts
 * with one VM each. A new host namespace h3 is plugged into the lab's WAN (198.18.0.3/16, as the lab's own), with a
 * VM namespace h3v1; the Proxy's operator makes a token (`vswitch join-token create --name h3`), and on h3
 * `vswitch join TOKEN --tap tap-h3v1 --up` writes h3's key and config and runs its daemon: nothing edited by hand,
 * nothing restarted. h3v1 then pings every other VM. A reused, an expired and a revoked token each fail with their
 * own exit status and message. After h3's daemon and the Proxy both restart (`scripts/lab stop|start`: h3's config
 * is where the lab keeps its hosts'), h3 is still in: it pings again.
 */
import { spawn } from 'node:child_process';
import { openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Status } from '../../api/wire/schemas.js';
import { lab, LAB_DIR, labDownSync, labExec, labJson, labNs, requireRoot, ROOT, vmIp } from './support/lab.js';
import { addNamespace, ip, waitFor } from './support/netns.js';

const VSWITCH = ['node', join(ROOT, 'bin/vswitch.js')];
const H3_CONFIG = join(LAB_DIR, 'h3.yaml');
const OTHER_VMS = [vmIp(1, 1), vmIp(2, 1)];

/** `vswitch join …` in h3's namespace, to its end: its exit status and what it printed. */
function joinOnH3(...args: string[]): { code: number; stdout: string; stderr: string } {
  return labExec('h3', [...VSWITCH, 'join', ...args], 30_000);
}

async function newToken(...args: string[]): Promise<{ id: string; token: string }> {
  return labJson<{ id: string; token: string }>('proxy', 'join-token', 'create', ...args);
}

/** h3 on the WAN bridge, as the lab plugs its hosts; its VM's namespace beside it. */
function plugH3(): void {
  addNamespace(labNs('h3'));
  ip('netns', 'exec', labNs('h3'), 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1');
  ip('-n', labNs('wan'), 'link', 'add', 'h3', 'type', 'veth', 'peer', 'name', 'wan0', 'netns', labNs('h3'));
  ip('-n', labNs('wan'), 'link', 'set', 'h3', 'master', 'br0', 'up');
  ip('-n', labNs('h3'), 'addr', 'add', '198.18.0.3/16', 'dev', 'wan0');
  ip('-n', labNs('h3'), 'link', 'set', 'wan0', 'up');
  addNamespace(labNs('h3v1'));
  writeFileSync(join(LAB_DIR, 'h3v1.at'), 'h3\n');
}

/** The TAP h3's daemon made, handed to its VM as the lab does (eth0, 198.19.3.1, 02:00:c6:13:03:01). */
async function attachH3v1(): Promise<void> {
  await waitFor(async () => labExec('h3', ['ip', 'link', 'show', 'tap-h3v1']).code === 0, 15_000, "h3's daemon made tap-h3v1");
  ip('-n', labNs('h3'), 'link', 'set', 'tap-h3v1', 'netns', labNs('h3v1'));
  ip('-n', labNs('h3v1'), 'link', 'set', 'tap-h3v1', 'name', 'eth0');
  ip('-n', labNs('h3v1'), 'link', 'set', 'eth0', 'address', '02:00:c6:13:03:01');
  ip('-n', labNs('h3v1'), 'addr', 'add', `${vmIp(3, 1)}/16`, 'dev', 'eth0');
  ip('-n', labNs('h3v1'), 'link', 'set', 'eth0', 'up');
}

function pings(from: string, to: string): boolean {
  return labExec(from, ['ping', '-c', '1', '-W', '1', to], 10_000).code === 0;
}

async function starHas(name: string): Promise<boolean> {
  const s = await labJson<Status>('proxy', 'status');
  return s.links.some((l) => l.name === name && l.state === 'up');
}

describe('a host joins the lab with one command', () => {
  beforeAll(async () => {
    requireRoot();
    labDownSync();
    await lab('up', '--hosts', '2', '--vms-per-host', '1', '--join');
    await waitFor(async () => (await starHas('h1')) && (await starHas('h2')), 10_000, 'star up');
    plugH3();
  });
  afterAll(() => labDownSync()); // stops h3's daemon too: its pid file is the lab's

  it('joins with `vswitch join TOKEN --up`: its VM pings every other VM', async () => {
    const { token } = await newToken('--name', 'h3');
    expect(token).toMatch(/^vsj1\./);
    // As an operator would run it on the new host, in the foreground; the lab stops it by its pid file.
    const log = openSync(join(LAB_DIR, 'h3.log'), 'a');
    const child = spawn('ip', ['netns', 'exec', labNs('h3'), ...VSWITCH, 'join', token, '--config', H3_CONFIG, '--tap', 'tap-h3v1', '--mtu', '1420', '--up'], {
      stdio: ['ignore', log, log],
      detached: true,
    });
    child.unref();
    writeFileSync(join(LAB_DIR, 'h3.pid'), `${child.pid}\n`);
    await attachH3v1();
    expect(statSync(H3_CONFIG).mode & 0o777).toBe(0o600);
    expect(statSync(join(LAB_DIR, 'h3.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(H3_CONFIG, 'utf8')).toMatch(/endpoint: "198\.18\.1\.1:51820"/);
    await waitFor(async () => starHas('h3'), 15_000, "the Proxy's star link to h3 up");
    for (const to of OTHER_VMS) await waitFor(async () => pings('h3v1', to), 15_000, `h3v1 pings ${to}`);
    expect(pings('h1v1', vmIp(3, 1))).toBe(true);
    const hosts = () => labJson<{ name: string; state: string }[]>('proxy', 'hosts');
    await waitFor(async () => (await hosts()).some((h) => h.name === 'h3' && h.state === 'up'), 10_000, 'h3 among the hosts');
    expect((await hosts()).map((h) => h.name).sort()).toEqual(['h1', 'h2', 'h3']);
    const links = await labJson<{ name: string; owner: string }[]>('proxy', 'link', 'list');
    expect(links.find((l) => l.name === 'h3')).toMatchObject({ owner: 'join' });
  });

  it('refuses a reused, an expired and a revoked token, each with its own status and message', async () => {
    const tokens = await labJson<{ id: string; state: string; usedBy?: string }[]>('proxy', 'join-token', 'list');
    expect(tokens.find((t) => t.usedBy === 'h3')).toMatchObject({ state: 'used' });

    // A token used once (by a host h4 that only joins, no daemon), then again.
    const once = await newToken('--name', 'h4');
    expect(joinOnH3(once.token, '--config', join(LAB_DIR, 'h4-first.yaml'), '--key', join(LAB_DIR, 'h4-first.key')).code).toBe(0);
    const reused = joinOnH3(once.token, '--config', join(LAB_DIR, 'h4-again.yaml'), '--key', join(LAB_DIR, 'h4-again.key'));
    expect(reused.code).toBe(6);
    expect(reused.stderr).toMatch(/join token [0-9a-f]{16} was already used, by host "h4"/);

    const short = await newToken('--name', 'h5', '--expires', '1s');
    await new Promise((r) => setTimeout(r, 1500));
    const expired = joinOnH3(short.token, '--config', join(LAB_DIR, 'h5.yaml'));
    expect(expired.code).toBe(5);
    expect(expired.stderr).toMatch(/join token [0-9a-f]{16} expired at/);

    const revoking = await newToken('--name', 'h6');
    await lab('vswitch', 'proxy', 'join-token', 'revoke', revoking.id);
    const revoked = joinOnH3(revoking.token, '--config', join(LAB_DIR, 'h6.yaml'));
    expect(revoked.code).toBe(7);
    expect(revoked.stderr).toMatch(/join token [0-9a-f]{16} was revoked at/);

    // h4 joined only on paper (no daemon): remove it, so the Proxy's star is h1, h2, h3 again.
    await lab('vswitch', 'proxy', 'joined-host', 'remove', 'h4');
  });

  it('is still in after both h3 and the Proxy restart: it pings again', async () => {
    await lab('stop', 'h3');
    await lab('stop', 'proxy');
    await lab('start', 'proxy');
    await lab('start', 'h3'); // `vswitch up -c h3.yaml`, the config join wrote; the lab hands tap-h3v1 to h3v1
    await waitFor(async () => starHas('h3'), 15_000, "the Proxy's star link to h3 up after the restarts");
    for (const to of OTHER_VMS) await waitFor(async () => pings('h3v1', to), 15_000, `h3v1 pings ${to} after the restarts`);
    const joined = await labJson<{ name: string }[]>('proxy', 'joined-host', 'list');
    expect(joined.map((h) => h.name)).toEqual(['h3']);
  });
});

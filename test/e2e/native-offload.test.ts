/**
 * Flow offload (switch/offload/) between two real daemons, each with one VM
 * behind a TAP, linked over a bridged veth underlay (namespaces vs-nf-*):
 * frames take the addon's fast paths and everything that used to see each
 * frame still does — link, port and rule counters, /metrics — through the
 * read-back; a peer that roams to a new address is followed; a rekey under
 * traffic loses nothing visible; and `switch: { offload: false }` still works.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Status } from '../../api/schemas.js';
import { ROOT, requireRoot } from './support/lab.js';
import { addNamespace, deleteNamespaces, inNs, ip, sh, startDaemon, startIperfServer, waitFor, type RunningDaemon } from './support/netns.js';

const WAN = 'vs-nf-wan';
const HOSTS = ['vs-nf-h1', 'vs-nf-h2'] as const;
const VMS = ['vs-nf-v1', 'vs-nf-v2'] as const;
const NAMESPACES = [...VMS, ...HOSTS, WAN];
const UNDERLAY = ['198.18.0.1', '198.18.0.2'] as const;
const ROAMED = '198.18.0.11';
const VM_IP = ['198.19.1.1', '198.19.2.1'] as const;
const VM_MAC = ['02:00:c6:13:01:01', '02:00:c6:13:02:01'] as const;
const PORT = 51820;

type Offload = NonNullable<Status['offload']>;
type Rule = { id: number; hitFrames: number; hitBytes: number };

let keyDir = '';
const keys: { priv: string; pub: string }[] = [];
let daemons: RunningDaemon[] = [];

function config(i: 0 | 1, offload: boolean): string {
  const j = 1 - i;
  return [
    `name: nf${i + 1}`,
    'role: host',
    `privateKeyFile: ${join(keyDir, `h${i}.key`)}`,
    'listen:',
    `  udp: "0.0.0.0:${PORT}"`,
    'api:',
    '  listen: 127.0.0.1:7000',
    'switch:',
    `  offload: ${offload}`,
    'ports:',
    `  - { name: tap-nf${i + 1}, type: tap, mtu: 1420 }`,
    'peers:',
    `  - { name: nf${j + 1}, publicKey: "${keys[j]!.pub}", endpoint: "${UNDERLAY[j]}:${PORT}", transport: udp }`,
    '',
  ].join('\n');
}

async function up(offload: boolean): Promise<void> {
  for (const i of [0, 1] as const) {
    const d = await startDaemon(HOSTS[i], config(i, offload));
    daemons.push(d);
    const tap = `tap-nf${i + 1}`;
    await waitFor(() => sh(['ip', '-n', HOSTS[i], 'link', 'show', tap]).code === 0, 5000, `${tap} exists`);
    ip('-n', HOSTS[i], 'link', 'set', tap, 'netns', VMS[i]);
    ip('-n', VMS[i], 'link', 'set', tap, 'address', VM_MAC[i]);
    ip('-n', VMS[i], 'addr', 'add', `${VM_IP[i]}/16`, 'dev', tap);
    ip('-n', VMS[i], 'link', 'set', tap, 'up');
  }
  await waitFor(() => status(0).links[0]?.state === 'up' && status(1).links[0]?.state === 'up', 10_000, 'link up');
}

async function down(): Promise<void> {
  for (const d of daemons) await d.stop();
  daemons = [];
}

const status = (i: 0 | 1): Status => daemons[i]!.json<Status>(['status']);
const offloadOf = (i: 0 | 1): Offload => status(i).offload!;
const ping = (count: number, interval = '0.02') =>
  inNs(VMS[0], ['ping', '-c', String(count), '-i', interval, '-W', '2', VM_IP[1]], 60_000);
const lossPct = (out: string): number => Number(/([\d.]+)% packet loss/.exec(out)?.[1] ?? 100);

describe('flow offload between two daemons', () => {
  beforeAll(async () => {
    requireRoot();
    deleteNamespaces(NAMESPACES);
    keyDir = mkdtempSync(join(tmpdir(), 'vswitch-nf-'));
    for (const i of [0, 1]) {
      const file = join(keyDir, `h${i}.key`);
      const gen = sh(['sh', '-c', `node ${join(ROOT, 'bin/vswitch.js')} genkey > ${file}`]);
      if (gen.code !== 0) throw new Error(gen.stderr);
      const pub = sh(['sh', '-c', `node ${join(ROOT, 'bin/vswitch.js')} pubkey < ${file}`]).stdout.trim();
      keys.push({ priv: readFileSync(file, 'utf8').trim(), pub });
    }
    for (const ns of NAMESPACES) addNamespace(ns);
    ip('-n', WAN, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', WAN, 'link', 'set', 'br0', 'up');
    for (const i of [0, 1] as const) {
      inNs(HOSTS[i], ['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
      ip('-n', WAN, 'link', 'add', `h${i + 1}`, 'type', 'veth', 'peer', 'name', 'wan0', 'netns', HOSTS[i]);
      ip('-n', WAN, 'link', 'set', `h${i + 1}`, 'master', 'br0', 'up');
      ip('-n', HOSTS[i], 'addr', 'add', `${UNDERLAY[i]}/16`, 'dev', 'wan0');
      ip('-n', HOSTS[i], 'link', 'set', 'wan0', 'up');
      inNs(VMS[i], ['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    }
    await up(true);
  });

  afterAll(async () => {
    await down();
    deleteNamespaces(NAMESPACES);
  });

  it('pings and carries iperf3 over the native fast paths', () => {
    const r = ping(50);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const server = startIperfServer(VMS[1], VM_IP[1]);
    const client = inNs(VMS[0], ['iperf3', '-c', VM_IP[1], '-t', '2', '-J'], 30_000);
    server.stop();
    expect(client.code, client.stderr).toBe(0);
    const bps = (JSON.parse(client.stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second;
    expect(bps).toBeGreaterThan(50e6);
    for (const i of [0, 1] as const) {
      const o = offloadOf(i);
      expect(o).toMatchObject({ enabled: true, boundLinks: 1, links: 1 });
      // Nearly everything went native on both sides: the TAP read (tx) and the UDP read (rx).
      expect(o.txHits).toBeGreaterThan(1000);
      expect(o.rxHits).toBeGreaterThan(1000);
      expect(o.txMisses! + o.txPunts!).toBeLessThan(o.txHits! / 50);
    }
  });

  it('keeps link, port and rule counters and /metrics moving while frames take the native path', async () => {
    const rule = daemons[0]!.json<Rule>(['rule', 'add', '--src', VM_MAC[0], '--dst', VM_MAC[1], '--target', 'nf2']);
    const before = status(0);
    const hitsBefore = offloadOf(0).txHits!;
    const r = ping(40);
    expect(r.code, r.stdout).toBe(0);
    const after = status(0);
    // The rule changed a decision: the table was flushed, and the flow came back with the rule behind it.
    expect(offloadOf(0).txHits! - hitsBefore).toBeGreaterThanOrEqual(35);
    const listed = daemons[0]!.json<Rule[]>(['rule', 'list']).find((x) => x.id === rule.id)!;
    expect(listed.hitFrames).toBeGreaterThanOrEqual(40);
    expect(listed.hitBytes).toBeGreaterThanOrEqual(40 * 98);
    const port = (s: Status, name: string) => s.ports.find((p) => p.name === name)!;
    expect(port(after, 'tap-nf1').rxFrames - port(before, 'tap-nf1').rxFrames).toBeGreaterThanOrEqual(40);
    expect(port(after, 'nf2').txFrames - port(before, 'nf2').txFrames).toBeGreaterThanOrEqual(40);
    expect(port(after, 'nf2').rxFrames - port(before, 'nf2').rxFrames).toBeGreaterThanOrEqual(40);
    expect(after.links[0]!.txPackets - before.links[0]!.txPackets).toBeGreaterThanOrEqual(40);
    expect(after.links[0]!.rxPackets - before.links[0]!.rxPackets).toBeGreaterThanOrEqual(40);
    expect(after.links[0]!.txBytes - before.links[0]!.txBytes).toBeGreaterThanOrEqual(40 * 101);
    const metrics = inNs(HOSTS[0], ['node', '-e', 'fetch("http://127.0.0.1:7000/metrics").then((r) => r.text()).then((t) => process.stdout.write(t))']);
    expect(metrics.stdout).toMatch(/vswitch_offload_flow_hits_total\{path="tap"\} [1-9]/);
    expect(metrics.stdout).toMatch(/vswitch_offload_flow_installs_total [1-9]/);
    expect(metrics.stdout).toMatch(new RegExp(`vswitch_rule_hit_frames_total\\{[^}]*rule="${rule.id}"[^}]*\\} ([4-9]\\d|\\d{3,})`));
    daemons[0]!.cli(['rule', 'del', String(rule.id)]);
  });

  it('survives garbage on the link socket (runts, truncated and forged type-4 messages) and keeps forwarding', () => {
    const script = [
      'const s = require("node:dgram").createSocket("udp4");',
      'const { randomBytes } = require("node:crypto");',
      'let n = 0;',
      'const lengths = [0, 1, 3, 4, 15, 16, 31, 32, 33, 47, 48, 49, 64, 100, 1400, 1500, 2000];',
      'const next = () => {',
      '  if (n >= 3000) return s.close();',
      '  const b = randomBytes(lengths[n % lengths.length]);',
      '  if (b.length >= 4 && n % 3 !== 0) { b[0] = 4; b[1] = 0; b[2] = 0; b[3] = 0; }',
      `  n++; s.send(b, ${PORT}, "${UNDERLAY[0]}", next);`,
      '};',
      'next();',
    ].join('\n');
    const before = status(0);
    const r = inNs(HOSTS[1], ['node', '-e', script]);
    expect(r.code, r.stderr).toBe(0);
    expect(ping(20).code).toBe(0);
    const after = status(0);
    // None of it was forwarded natively (only the 20 replies were), and the link's own traffic still flows.
    expect(after.offload!.rxHits! - before.offload!.rxHits!).toBeLessThanOrEqual(20);
    expect(after.links[0]!.rxPackets - before.links[0]!.rxPackets).toBeGreaterThanOrEqual(20);
    expect(after.links[0]!.state).toBe('up');
  });

  it('follows a peer that roams to a new address, then takes the fast path again', async () => {
    // Removing the primary address must keep the new (secondary) one.
    inNs(HOSTS[0], ['sysctl', '-qw', 'net.ipv4.conf.wan0.promote_secondaries=1']);
    ip('-n', HOSTS[0], 'addr', 'add', `${ROAMED}/16`, 'dev', 'wan0');
    ip('-n', HOSTS[0], 'addr', 'del', `${UNDERLAY[0]}/16`, 'dev', 'wan0');
    try {
      const r = ping(30);
      expect(lossPct(r.stdout), r.stdout).toBeLessThanOrEqual(10);
      await waitFor(() => status(1).links[0]?.endpoint === `udp:${ROAMED}:${PORT}`, 5000, 'h2 sees h1 at its new address');
      const hitsBefore = offloadOf(1).rxHits!;
      expect(ping(30).code).toBe(0);
      expect(offloadOf(1).rxHits! - hitsBefore).toBeGreaterThanOrEqual(25);
    } finally {
      ip('-n', HOSTS[0], 'addr', 'add', `${UNDERLAY[0]}/16`, 'dev', 'wan0');
      ip('-n', HOSTS[0], 'addr', 'del', `${ROAMED}/16`, 'dev', 'wan0');
    }
    expect(ping(20).code).toBe(0);
  });

  it.skipIf(process.env['VSWITCH_E2E_QUICK'] === '1')('rekeys under traffic (Rekey-After-Time, 120 s) without losing the fast path', async () => {
    const handshakeAt = (i: 0 | 1) => status(i).links[0]!.lastHandshakeAt;
    const first = [handshakeAt(0), handshakeAt(1)];
    // 0.1 s pings for ~135 s: the initiator's keypair passes Rekey-After-Time while frames flow.
    const r = inNs(VMS[0], ['ping', '-q', '-c', '1350', '-i', '0.1', '-W', '1', VM_IP[1]], 200_000);
    expect(lossPct(r.stdout), r.stdout).toBeLessThanOrEqual(1);
    expect([handshakeAt(0), handshakeAt(1)]).not.toEqual(first);
    const before = [offloadOf(0).rxHits!, offloadOf(1).rxHits!];
    expect(ping(20).code).toBe(0);
    expect(offloadOf(0).rxHits! - before[0]!).toBeGreaterThanOrEqual(18);
    expect(offloadOf(1).rxHits! - before[1]!).toBeGreaterThanOrEqual(18);
    // Keys of retired keypairs are freed: at most current + previous (+ an unconfirmed next) per side.
    expect(offloadOf(0).slots).toBeLessThanOrEqual(3);
  }, 240_000);

  it('still forwards with `switch: { offload: false }`', async () => {
    await down();
    await up(false);
    const r = ping(20);
    expect(r.code, r.stdout).toBe(0);
    expect(offloadOf(0)).toEqual({ enabled: false });
    expect(status(0).links[0]!.rxPackets).toBeGreaterThanOrEqual(20);
  });
});

/**
 * Flow offload (switch/offload/) between two real daemons, each with one VM
 * behind a TAP, linked over a bridged veth underlay (namespaces vs-nf-*):
 * frames take the addon's fast paths and everything that used to see each
 * frame still does — link, port and rule counters, /metrics, VTTIF — through
 * the read-back; garbage, replayed, forged and truncated messages are never
 * forwarded natively; a peer that roams to a new address is followed; a rekey
 * under traffic (135 s; VSWITCH_E2E_QUICK=1 skips it) loses nothing visible;
 * and `switch: { offload: false }` still works.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Status } from '../../api/wire/schemas.js';
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

function config(i: 0 | 1, offload: boolean, isProxy: boolean): string {
  const j = 1 - i;
  return [
    `name: nf${i + 1}`,
    `role: ${isProxy ? 'proxy' : 'host'}`,
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

/** Both daemons; with `h2IsProxy`, h2 runs VTTIF (a Proxy with a VM of its own counts and infers locally). */
async function up(offload: boolean, h2IsProxy = false): Promise<void> {
  for (const i of [0, 1] as const) {
    const d = await startDaemon(HOSTS[i], config(i, offload, h2IsProxy && i === 1));
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

  it('never forwards a replayed, forged or truncated message from the peer’s own endpoint', async () => {
    // Capture h1 → h2 link messages on h2's wire (an AF_PACKET socket through the addon) while pinging, then put
    // the very same frames back on the wire from h1's side: same source address and port, valid tags, old counters.
    const addon = JSON.stringify(join(ROOT, 'build/Release/vswitch_native.node'));
    const capture = spawn('ip', ['netns', 'exec', HOSTS[1], 'node', '-e', [
      `const a = require(${addon});`,
      'const { fd } = a.openPacket("wan0", false, undefined, 0);',
      'const h = new a.IoHandle(fd, true, 64, 2048); const bytes = new Uint8Array(h.buffer); const out = [];',
      'h.start((n) => { let o = 0; for (let i = 0; i < n; i++) { const f = bytes.subarray(o, o + h.lengths[i]); o += h.lengths[i];',
      // IPv4, UDP, to port 51820, a type-4 message longer than a keepalive
      `  if (f[12] === 8 && f[13] === 0 && f[23] === 17 && ((f[36] << 8) | f[37]) === ${PORT} && f[42] === 4 && f.length > 42 + 32) out.push(Buffer.from(f).toString("hex")); } }, () => {});`,
      'setTimeout(() => { h.close(); process.stdout.write(out.join("\\n")); }, 1500);',
    ].join('\n')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let captured = '';
    capture.stdout.on('data', (d: Buffer) => (captured += d.toString()));
    const done = new Promise<void>((resolve) => capture.once('exit', () => resolve()));
    await new Promise((r) => setTimeout(r, 300));
    expect(ping(20).code).toBe(0);
    await done;
    const frames = captured.split('\n').filter((l) => l.length > 0);
    expect(frames.length).toBeGreaterThanOrEqual(15);
    const before = status(1);
    const inject = inNs(HOSTS[0], ['node', '-e', [
      `const a = require(${addon});`,
      'const { fd } = a.openPacket("wan0", false, undefined, 0);',
      'const h = new a.IoHandle(fd, true, 64, 2048);',
      // A frame captured after a veth may carry only a partial UDP checksum (offload): send it with none (0).
      `const frames = ${JSON.stringify(frames)}.map((x) => { const f = new Uint8Array(Buffer.from(x, "hex")); f[40] = 0; f[41] = 0; return f; });`,
      // Then each one again with its tag flipped, and cut short by 7 bytes (lengths and IP checksum fixed up).
      'const flipped = frames.map((f) => { const g = f.slice(); g[g.length - 1] ^= 0x80; return g; });',
      'const cut = frames.map((f) => { const g = f.slice(0, f.length - 7); const v = new DataView(g.buffer);',
      '  v.setUint16(16, v.getUint16(16) - 7); v.setUint16(38, v.getUint16(38) - 7); v.setUint16(24, 0);',
      '  let sum = 0; for (let i = 14; i < 34; i += 2) sum += v.getUint16(i); while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);',
      '  v.setUint16(24, ~sum & 0xffff); return g; });',
      'console.log(h.writeFrames([...frames, ...flipped, ...cut])); h.close();',
    ].join('\n')]);
    expect(inject.code, inject.stderr).toBe(0);
    expect(Number(inject.stdout.trim())).toBe(3 * frames.length);
    await new Promise((r) => setTimeout(r, 300));
    const after = status(1);
    expect(after.offload!.rxHits! - before.offload!.rxHits!).toBe(0);
    const dropped = (s: Status, reason: string) => s.links[0]!.drops[reason] ?? 0;
    expect(dropped(after, 'replayed-counter') - dropped(before, 'replayed-counter')).toBe(frames.length);
    // A flipped tag, or a message cut short, does not authenticate (in the addon, then in JS): dropped as such.
    expect(dropped(after, 'bad-packet-auth') - dropped(before, 'bad-packet-auth')).toBe(2 * frames.length);
    expect(ping(10).code).toBe(0); // and the link goes on
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

  it('feeds VTTIF with the frames the fast paths carried', async () => {
    await down();
    await up(true, true);
    const hitsBefore = offloadOf(1);
    const r = inNs(VMS[0], ['ping', '-c', '40', '-i', '0.02', '-s', '1000', '-W', '2', VM_IP[1]], 60_000);
    expect(r.code, r.stdout).toBe(0);
    const hitsAfter = offloadOf(1);
    expect(hitsAfter.rxHits! - hitsBefore.rxHits!).toBeGreaterThanOrEqual(35); // the requests, opened natively
    expect(hitsAfter.txHits! - hitsBefore.txHits!).toBeGreaterThanOrEqual(35); // the replies, sealed natively
    type Matrix = { pairs: { a: string; b: string; bytes: number; frames: number }[] };
    const matrix = (): Matrix =>
      JSON.parse(inNs(HOSTS[1], ['node', '-e', 'fetch("http://127.0.0.1:7000/v1/vttif/matrix").then((r) => r.text()).then((t) => process.stdout.write(t))']).stdout) as Matrix;
    const pair = (m: Matrix) => m.pairs.find((p) => [p.a, p.b].sort().join() === [...VM_MAC].sort().join());
    // 40 requests in and 40 replies out of h2's VM, ~1042 bytes each, reported within a poll and a report.
    await waitFor(() => (pair(matrix())?.frames ?? 0) >= 80, 3000, 'the VM pair in the VTTIF matrix');
    expect(pair(matrix())!.bytes).toBeGreaterThanOrEqual(80 * 1042);
  });

  it('still forwards with `switch: { offload: false }`', async () => {
    await down();
    await up(false);
    const r = ping(20);
    expect(r.code, r.stdout).toBe(0);
    expect(offloadOf(0)).toEqual({ enabled: false });
    expect(status(0).links[0]!.rxPackets).toBeGreaterThanOrEqual(20);
  });
});

/**
 * Port I/O benchmark: frames/s and CPU of this process per frame through a
 * 2-port hub written in JS, for TAP↔TAP and capture(veth)↔TAP.
 *
 * Run (root): `npx tsc -p tsconfig.build.json && node dist/scripts/bench/ports-io.js [--seconds 2] [--json]`
 *
 * A UDP blaster (node, 64-byte payloads) runs in namespace vs-bnch-a and sends
 * to 198.19.252.2 in vs-bnch-b; the hub in this process forwards every frame.
 * CPU per frame = (user + system CPU of this process) / frames forwarded; it
 * includes the read and write syscalls, and (system time) the receiving
 * namespace's stack, which runs in this process's write() of the TAP. The
 * blaster shares the 2 cores, so the rates are a floor. Everything created is deleted at the end.
 */
import { execFile, spawnSync } from 'node:child_process';
import { CapturePort } from '../../switch/port/capture-port.js';
import type { Port } from '../../switch/port/port.js';
import { TapPort } from '../../switch/port/tap-port.js';

const NS_A = 'vs-bnch-a';
const NS_B = 'vs-bnch-b';
const IP_A = '198.19.252.1';
const IP_B = '198.19.252.2';
const args = process.argv.slice(2);
const seconds = Number(args[args.indexOf('--seconds') + 1] ?? 2) || 2;
const isJson = args.includes('--json');

interface Row {
  mode: string;
  seconds: number;
  framesForwarded: number;
  framesPerSecond: number;
  cpuNsPerFrame: number;
  userNsPerFrame: number;
  systemNsPerFrame: number;
  framesPerReadBatch: number;
}

function ip(...a: string[]): void {
  const r = spawnSync('ip', a, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${a.join(' ')}: ${r.stderr}`);
}

function runIn(ns: string, command: string[]): Promise<number> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', ns, ...command], { timeout: 60_000 }, (err) =>
      resolve(err ? Number(err.code ?? 1) : 0),
    );
  });
}

function cleanup(): void {
  for (const ns of [NS_A, NS_B]) spawnSync('ip', ['netns', 'del', ns]);
  for (const link of ['vsbnch0', 'vsbnch1', 'vsbncb']) spawnSync('ip', ['link', 'del', link]);
}

function place(device: string, ns: string, address: string): void {
  ip('link', 'set', device, 'netns', ns);
  ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', device);
  ip('-n', ns, 'link', 'set', device, 'up');
}

const BLASTER = `
const s = require('dgram').createSocket('udp4'); const buf = Buffer.alloc(64);
const end = Date.now() + ${seconds * 1000};
(function burst() { if (Date.now() > end) return s.close(); for (let i = 0; i < 32; i++) s.send(buf, 9, '${IP_B}'); setImmediate(burst); })();`;

async function measure(mode: string, a: Port, b: Port): Promise<Row> {
  a.start({ frames: (f) => b.send(f), error: (e) => console.error(mode, e) });
  b.start({ frames: (f) => a.send(f), error: (e) => console.error(mode, e) });
  if ((await runIn(NS_A, ['ping', '-c', '1', '-W', '2', IP_B])) !== 0) throw new Error(`${mode}: no connectivity`);
  const s0 = a.stats();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await runIn(NS_A, ['node', '-e', BLASTER]);
  const elapsedS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const s1 = a.stats();
  const forwarded = s1.readFrames - s0.readFrames;
  a.close();
  b.close();
  return {
    mode,
    seconds: Number(elapsedS.toFixed(2)),
    framesForwarded: forwarded,
    framesPerSecond: Math.round(forwarded / elapsedS),
    cpuNsPerFrame: Math.round(((cpu.user + cpu.system) * 1000) / Math.max(forwarded, 1)),
    userNsPerFrame: Math.round((cpu.user * 1000) / Math.max(forwarded, 1)),
    systemNsPerFrame: Math.round((cpu.system * 1000) / Math.max(forwarded, 1)),
    framesPerReadBatch: Number((forwarded / Math.max(s1.readBatches - s0.readBatches, 1)).toFixed(1)),
  };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('ports-io benchmark needs root (TAP devices, namespaces)');
  const rows: Row[] = [];
  try {
    cleanup();
    ip('netns', 'add', NS_A);
    ip('netns', 'add', NS_B);

    const tapA = TapPort.open({ name: 'vsbnch0' });
    const tapB = TapPort.open({ name: 'vsbnch1' });
    place('vsbnch0', NS_A, IP_A);
    place('vsbnch1', NS_B, IP_B);
    rows.push(await measure('tap → tap', tapA, tapB));

    ip('link', 'add', 'vsbncb', 'type', 'veth', 'peer', 'name', 'vsbnca', 'netns', NS_A);
    ip('-n', NS_A, 'addr', 'add', `${IP_A}/24`, 'dev', 'vsbnca');
    ip('-n', NS_A, 'link', 'set', 'vsbnca', 'up');
    ip('link', 'set', 'vsbncb', 'up');
    const capture = CapturePort.open({ interface: 'vsbncb' });
    const tapB2 = TapPort.open({ name: 'vsbnch1' });
    place('vsbnch1', NS_B, IP_B);
    rows.push(await measure('capture → tap', capture, tapB2));
  } finally {
    cleanup();
  }
  if (isJson) console.log(JSON.stringify(rows, null, 2));
  else console.table(rows);
}

await main();

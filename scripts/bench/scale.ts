/**
 * The measuring half of scripts/bench/scale (see that script for what each column means). Each size gets a lab of
 * its own; everything is read from outside the daemons: /proc for RSS and CPU, the API for links, ping for reach.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '../lib/seeded-random.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const LAB = join(ROOT, 'scripts/lab');
const LAB_DIR = process.env['VSWITCH_LAB_DIR'] ?? '/run/vswitch-lab';
const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const sizes = arg('sizes', '8,32,64,200').split(',').map(Number);
const pairsWanted = Number(arg('pairs', '1000'));
const idleS = Number(arg('idle-s', '10'));
const withPatterns = process.argv.includes('--patterns');
const CLOCK_TICKS = 100; // USER_HZ on Linux

function lab(...args: string[]): string {
  const r = spawnSync(LAB, args, { encoding: 'utf8', timeout: 900_000, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`scripts/lab ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const pidOf = (node: string): number => Number(readFileSync(join(LAB_DIR, `${node}.pid`), 'utf8'));
const rssMb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
/** PSS and anonymous PSS (MB): what the process costs the machine, its share of shared pages counted once. */
const pssMb = (pid: number): { pss: number; anon: number } => {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return { pss: kb('Pss') / 1024, anon: kb('Pss_Anon') / 1024 };
};
const cpuTicks = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14 and 15 of stat)
};
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const proxyLinks = (): { state: string; rxBytes: number }[] => {
  const r = spawnSync(LAB, ['exec', 'proxy', 'curl', '-sf', 'http://127.0.0.1:7000/v1/status'], { encoding: 'utf8' });
  return r.status === 0 ? (JSON.parse(r.stdout) as { links: { state: string; rxBytes: number }[] }).links : [];
};

/** Pings run `parallel` at a time; resolves with the pairs that failed. */
async function pingAll(pairs: [string, string][], parallel = 32): Promise<[string, string][]> {
  const failed: [string, string][] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < pairs.length) {
      const pair = pairs[next++]!;
      const code = await new Promise<number>((resolve) => spawn(LAB, ['exec', pair[0], 'ping', '-c', '1', '-W', '2', pair[1]], { stdio: 'ignore' }).on('exit', (c) => resolve(c ?? 1)));
      if (code !== 0) failed.push(pair);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return failed;
}

/** Pings the pairs again and again, the failed ones only, until all answered or `limitS` passed; the ones still failing. */
async function pingUntilAll(pairs: [string, string][], limitS: number): Promise<[string, string][]> {
  const until = Date.now() + limitS * 1000;
  let failing = await pingAll(pairs);
  while (failing.length > 0 && Date.now() < until) {
    await sleep(1000);
    failing = await pingAll(failing);
  }
  return failing;
}

interface Row {
  hosts: number;
  upS: number;
  starBackS: number;
  farPingS: number;
  farFailed: number;
  sampleFailed: string;
  hostRssMb: string;
  hostPssMb: string;
  proxyRssMb: number;
  proxyPssMb: string;
  hostIdleCpu: number;
  proxyIdleCpu: number;
  controlBps: number;
  patternsProxyCpu?: number;
}
const rows: Row[] = [];
const random = seededRandom(42);
for (const hosts of sizes) {
  lab('down');
  const t0 = Date.now();
  lab('up', '--hosts', String(hosts), '--vms-per-host', '2');
  const upS = (Date.now() - t0) / 1000;
  const hostNames = Array.from({ length: hosts }, (_, i) => `h${i + 1}`);
  while (proxyLinks().filter((l) => l.state === 'up').length < hosts) await sleep(200);

  // Idle: RSS, CPU and control bytes over idleS.
  await sleep(3000);
  const pids = hostNames.map(pidOf);
  const proxyPid = pidOf('proxy');
  const ticks0 = pids.map(cpuTicks);
  const proxyTicks0 = cpuTicks(proxyPid);
  const rx0 = proxyLinks().reduce((s, l) => s + l.rxBytes, 0);
  await sleep(idleS * 1000);
  const rx1 = proxyLinks().reduce((s, l) => s + l.rxBytes, 0);
  const hostCpu = pids.map((p, i) => ((cpuTicks(p) - ticks0[i]!) / CLOCK_TICKS / idleS) * 100);
  const proxyIdleCpu = ((cpuTicks(proxyPid) - proxyTicks0) / CLOCK_TICKS / idleS) * 100;
  const rss = pids.map(rssMb);
  const pss = pids.map(pssMb);
  const proxyRssMb = rssMb(proxyPid);
  const proxyPss = pssMb(proxyPid);

  // Reach: every host's first VM to a far one, then a random sample of pairs.
  const far: [string, string][] = hostNames.map((_, i) => [`h${i + 1}v1`, `198.19.${((i + Math.floor(hosts / 2)) % hosts) + 1}.2`]);
  const tPing = Date.now();
  // The time until every host's first VM has pinged its far VM (each pair retried until it answers, ≤ 300 s).
  const farFailed = (await pingUntilAll(far, 300)).length;
  const farPingS = (Date.now() - tPing) / 1000;
  const vms = hostNames.flatMap((h) => [`${h}v1`, `${h}v2`]);
  const sample: [string, string][] = [];
  const total = Math.min(pairsWanted, (vms.length * (vms.length - 1)) / 2);
  while (sample.length < total) {
    const a = vms[Math.floor(random() * vms.length)]!;
    const b = vms[Math.floor(random() * vms.length)]!;
    if (a !== b) sample.push([a, `198.19.${b.slice(1).replace('v', '.')}`]);
  }
  const sampleFailed = (await pingAll(sample)).length;

  // The Proxy restarted: from its API serving again to every host's link up.
  lab('stop', 'proxy');
  lab('start', 'proxy');
  const tStar = Date.now();
  while (proxyLinks().filter((l) => l.state === 'up').length < hosts) await sleep(50);
  const starBackS = (Date.now() - tStar) / 1000;

  let patternsProxyCpu: number | undefined;
  if (withPatterns && hosts === 8) {
    const before = cpuTicks(pidOf('proxy'));
    const t = Date.now();
    spawnSync(join(ROOT, 'scripts/patterns'), ['--pattern', 'all-to-all', '--iterations', '20', '--size', '16384'], { encoding: 'utf8' });
    patternsProxyCpu = ((cpuTicks(pidOf('proxy')) - before) / CLOCK_TICKS / ((Date.now() - t) / 1000)) * 100;
  }
  rows.push({
    hosts,
    upS,
    starBackS,
    farPingS,
    farFailed,
    sampleFailed: `${sampleFailed}/${total}`,
    hostRssMb: `${median(rss).toFixed(0)} / ${Math.max(...rss).toFixed(0)}`,
    hostPssMb: `${median(pss.map((p) => p.pss)).toFixed(0)} / ${median(pss.map((p) => p.anon)).toFixed(0)}`,
    proxyRssMb,
    proxyPssMb: `${proxyPss.pss.toFixed(0)} / ${proxyPss.anon.toFixed(0)}`,
    hostIdleCpu: median(hostCpu),
    proxyIdleCpu,
    controlBps: (rx1 - rx0) / idleS,
    ...(patternsProxyCpu === undefined ? {} : { patternsProxyCpu }),
  });
  console.log(JSON.stringify(rows.at(-1)));
  lab('down');
}

console.log('\nhosts | up s | star back s | far ping s (failed) | sample failed | host RSS MB med/max | host PSS/anon MB med | Proxy RSS MB | Proxy PSS/anon MB | host idle CPU % | Proxy idle CPU % | control B/s into Proxy');
for (const r of rows) {
  console.log(
    `${String(r.hosts).padStart(5)} | ${r.upS.toFixed(0).padStart(4)} | ${r.starBackS.toFixed(2).padStart(11)} | ${r.farPingS.toFixed(1).padStart(10)} (${r.farFailed}) | ` +
      `${r.sampleFailed.padStart(13)} | ${r.hostRssMb.padStart(19)} | ${r.hostPssMb.padStart(19)} | ${r.proxyRssMb.toFixed(0).padStart(12)} | ${r.proxyPssMb.padStart(17)} | ${r.hostIdleCpu.toFixed(2).padStart(15)} | ` +
      `${r.proxyIdleCpu.toFixed(2).padStart(16)} | ${r.controlBps.toFixed(0)}` + (r.patternsProxyCpu === undefined ? '' : ` | Proxy CPU under all-to-all on 16 VMs: ${r.patternsProxyCpu.toFixed(0)} %`),
  );
}
if (rows.length > 1) {
  const [first, last] = [rows[0]!, rows.at(-1)!];
  const k = last.hosts / first.hosts;
  console.log(`\ngrowth ${first.hosts} → ${last.hosts} hosts (×${k}): up ×${(last.upS / first.upS).toFixed(1)}, star back ×${(last.starBackS / first.starBackS).toFixed(1)}, Proxy RSS ×${(last.proxyRssMb / first.proxyRssMb).toFixed(2)}, Proxy idle CPU ×${(last.proxyIdleCpu / Math.max(first.proxyIdleCpu, 0.01)).toFixed(1)}, control bytes ×${(last.controlBps / Math.max(first.controlBps, 1)).toFixed(1)}`);
}
process.exit(0);

/**
 * Small helpers for e2e tests that build their own namespaces (names `vs-…`)
 * and run real `vswitch up` daemons in them, stopped by PID.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './lab.js';

export function sh(command: string[], timeoutMs = 60_000): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(command[0]!, command.slice(1), { encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Runs `ip …` and throws with its stderr when it fails: topology set-up must not half-work. */
export function ip(...args: string[]): string {
  const r = sh(['ip', ...args]);
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

export function inNs(ns: string, command: string[], timeoutMs = 60_000) {
  return sh(['ip', 'netns', 'exec', ns, ...command], timeoutMs);
}

export function deleteNamespaces(names: readonly string[]): void {
  for (const n of names) sh(['ip', 'netns', 'del', n]);
}

export function addNamespace(name: string): void {
  ip('netns', 'add', name);
  ip('-n', name, 'link', 'set', 'lo', 'up');
}

export interface RunningDaemon {
  readonly pid: number;
  readonly ns: string;
  readonly configFile: string;
  cli(args: string[]): { code: number; stdout: string; stderr: string };
  json<T>(args: string[]): T;
  stop(): Promise<void>;
}

/** Starts `vswitch up` in a namespace and waits until its API answers. */
export async function startDaemon(ns: string, configText: string, apiPort = 7000): Promise<RunningDaemon> {
  const dir = mkdtempSync(join(tmpdir(), `vswitch-${ns}-`));
  const configFile = join(dir, 'config.yaml');
  writeFileSync(configFile, configText);
  // Its own state directory, new for each start: a test's daemon never restores another run's changes.
  const child: ChildProcess = spawn('ip', ['netns', 'exec', ns, 'node', join(ROOT, 'bin/vswitch.js'), 'up', '-c', configFile, '--state-dir', join(dir, 'state')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const api = `http://127.0.0.1:${apiPort}`;
  const cli = (args: string[]) => inNs(ns, ['node', join(ROOT, 'bin/vswitch.js'), ...args, '--api', api]);
  const deadline = Date.now() + 10_000;
  while (cli(['status', '--json']).code !== 0) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`daemon in ${ns} did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    pid: child.pid!,
    ns,
    configFile,
    cli,
    json: <T>(args: string[]) => {
      const r = cli([...args, '--json']);
      if (r.code !== 0) throw new Error(`vswitch ${args.join(' ')} in ${ns}: ${r.stderr}`);
      return JSON.parse(r.stdout) as T;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Polls until `check` passes or `timeoutMs` runs out; returns the elapsed ms. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what = 'condition'): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (await check()) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} not met within ${timeoutMs} ms`);
}

/**
 * A one-shot iperf3 server (`-s -1 -D`) in a namespace, with a pid file so the
 * test can stop it if its client never came (a failed run must not leave it).
 */
export function startIperfServer(ns: string, address: string): { stop(): void } {
  const pidFile = join(mkdtempSync(join(tmpdir(), 'vswitch-iperf-')), 'iperf3.pid');
  const r = inNs(ns, ['iperf3', '-s', '-D', '-1', '-B', address, '--pidfile', pidFile]);
  if (r.code !== 0) throw new Error(`iperf3 server in ${ns}: ${r.stderr}`);
  return {
    stop: () => {
      const pid = Number(sh(['cat', pidFile]).stdout.trim());
      if (pid > 0 && sh(['grep', '-q', 'iperf3', `/proc/${pid}/cmdline`]).code === 0) process.kill(pid, 'SIGTERM');
    },
  };
}

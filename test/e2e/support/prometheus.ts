/**
 * A real Prometheus (Debian's /usr/bin/prometheus) for e2e tests: run in a namespace with a generated config, its
 * storage in a temporary directory, listening on 127.0.0.1 there only; read through its HTTP API from inside that
 * namespace; stopped by its PID (`ip netns exec` execs it, so the child's PID is Prometheus's) and its directory
 * removed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PROMETHEUS = '/usr/bin/prometheus';

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface RunningPrometheus {
  readonly pid: number;
  /** An instant query (GET /api/v1/query): the vector's samples. */
  query(expr: string): PromSample[];
  /** GET /api/v1/… as JSON (`data`). */
  api<T>(path: string): T;
  /** What Prometheus printed (its log), for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

export function requirePrometheus(): void {
  if (!existsSync(PROMETHEUS)) throw new Error(`${PROMETHEUS} is missing: install Debian's prometheus package (scripts/setup does)`);
}

/** Starts Prometheus in `ns` with `configYaml` (file paths in it must be absolute) and waits until it is ready. */
export async function startPrometheus(ns: string, configYaml: string, port: number): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'vswitch-prometheus-'));
  chmodSync(dir, 0o700);
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, configYaml);
  const child: ChildProcess = spawn(
    'ip',
    ['netns', 'exec', ns, PROMETHEUS, `--config.file=${configFile}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const get = (path: string): string => {
    const r = spawnSync('ip', ['netns', 'exec', ns, 'node', '-e', FETCH, `http://127.0.0.1:${port}${path}`], { encoding: 'utf8', timeout: 15_000 });
    if (r.status !== 0) throw new Error(`GET ${path} from Prometheus failed: ${r.stderr}`);
    return r.stdout;
  };
  const api = <T>(path: string): T => {
    const body = JSON.parse(get(`/api/v1/${path}`)) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus /api/v1/${path}: ${body.error ?? body.status}`);
    return body.data;
  };
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(child.pid, 'SIGTERM');
      const killer = setTimeout(() => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const running: RunningPrometheus = {
    pid: child.pid ?? -1,
    query: (expr) => api<{ result: PromSample[] }>(`query?query=${encodeURIComponent(expr)}`).result,
    api,
    log: () => log,
    stop,
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited (${child.exitCode}):\n${log}`);
    }
    const ready = spawnSync('ip', ['netns', 'exec', ns, 'node', '-e', READY, `http://127.0.0.1:${port}/-/ready`], { timeout: 5000 });
    if (ready.status === 0) return running;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus was not ready in 30 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

const FETCH = 'fetch(process.argv[1]).then((r) => r.text()).then((t) => process.stdout.write(t), (e) => { console.error(String(e)); process.exit(1); })';
const READY = 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))';

/**
 * Drives scripts/lab from end-to-end tests. Every e2e test needs root (namespaces,
 * TAP devices): `requireRoot()` fails the suite with a message, never skips it.
 */
import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const LAB = join(ROOT, 'scripts/lab');
const run = promisify(execFile);

/** The lab's namespace prefix (VSWITCH_LAB_NS, as scripts/lab reads it): vs-h1v1 is `${LAB_NS}h1v1`. */
export const LAB_NS = process.env['VSWITCH_LAB_NS'] ?? 'vs-';

/** The lab's state directory (VSWITCH_LAB_DIR, as scripts/lab reads it): configs `${LAB_DIR}/hH.yaml`, keys, pid files, logs, API tokens. */
export const LAB_DIR = process.env['VSWITCH_LAB_DIR'] ?? '/run/vswitch-lab';

/** The namespace of a lab node (proxy, hH, hHvV). */
export function labNs(node: string): string {
  return `${LAB_NS}${node}`;
}

export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error('end-to-end tests need root (network namespaces, TAP devices): run scripts/test as root');
  }
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs scripts/lab with arguments; rejects with its stderr on failure. */
export async function lab(...args: string[]): Promise<RunResult> {
  try {
    return await run(LAB, args, { maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`scripts/lab ${args.join(' ')} failed: ${e.stderr || e.stdout || e.message}`);
  }
}

/** Runs a command inside a lab node; resolves even on a non-zero exit (the caller checks `code`). */
export function labExec(node: string, command: string[], timeoutMs = 60_000): RunResult & { code: number } {
  const r = spawnSync(LAB, ['exec', node, ...command], { encoding: 'utf8', timeout: timeoutMs });
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', code: r.status ?? -1 };
}

export async function labJson<T>(node: string, ...args: string[]): Promise<T> {
  const { stdout } = await lab('vswitch', node, ...args, '--json');
  return JSON.parse(stdout) as T;
}

export function labDownSync(): void {
  spawnSync(LAB, ['down'], { encoding: 'utf8' });
}

/** The lab's VM addressing: VM hHvV has IP 198.19.H.V and MAC 02:00:c6:13:HH:VV. */
export function vmIp(h: number, v: number): string {
  return `198.19.${h}.${v}`;
}

export function vmMac(h: number, v: number): string {
  const hex = (n: number): string => n.toString(16).padStart(2, '0');
  return `02:00:c6:13:${hex(h)}:${hex(v)}`;
}

/** A daemon's API from inside its node (curl to 127.0.0.1:7000 there); throws with curl's stderr on failure. */
export function labApi<T>(node: string, method: string, path: string, body?: unknown): T {
  const args = ['curl', '-sf', '-X', method, `http://127.0.0.1:7000${path}`];
  if (body !== undefined) args.push('-H', 'content-type: application/json', '-d', JSON.stringify(body));
  const r = labExec(node, args);
  if (r.code !== 0) throw new Error(`${node} API ${method} ${path} failed: ${r.stderr}`);
  return (r.stdout.trim() === '' ? undefined : JSON.parse(r.stdout)) as T;
}

/** The events a daemon's event stream replays (its ring): the stream is endless, so curl reads it for 2 s and gives up. */
export function replayedEvents(node: string): { event?: string; fields?: Record<string, unknown> }[] {
  const r = labExec(node, ['curl', '-sN', '--max-time', '2', 'http://127.0.0.1:7000/v1/events']);
  return r.stdout
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => JSON.parse(line.slice('data: '.length)) as { event?: string; fields?: Record<string, unknown> });
}

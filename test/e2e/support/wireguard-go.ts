/**
 * A real WireGuard peer for end-to-end tests: wireguard-go (userspace, Debian package `wireguard-go`) in a network
 * namespace, configured with `wg` (package `wireguard-tools`) and `ip`. Interop tests run one of these against a
 * vswitch link; the smoke test runs two against each other to prove the harness.
 *
 * wireguard-go runs in the foreground (WG_PROCESS_FOREGROUND=1) so the PID we hold is the daemon itself, and
 * `stop()` ends exactly that process. Its control socket is /var/run/wireguard/<ifname>.sock: a filesystem path,
 * shared by every namespace, so interface names must be unique on the machine, not just in their namespace.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VswitchError } from '../../../switch/errors.js';

/** Where wireguard-go (and wg, to find it) put the control socket of each interface. */
export const WIREGUARD_SOCKET_DIR = '/var/run/wireguard';
const START_TIMEOUT_MS = 5_000;
const STOP_TIMEOUT_MS = 3_000;
// PKCS#8 DER header of a raw 32-byte X25519 private key (RFC 8410), so Node can derive the public key.
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** Codes: WIREGUARD_GO_START_FAILED, WIREGUARD_GO_CONFIG_FAILED, WIREGUARD_GO_IN_USE, WG_SHOW_FAILED, WG_DUMP_INVALID. */
export class WireguardGoError extends VswitchError {}

export interface WireguardGoPeerOptions {
  /** base64 Curve25519 public key of the remote peer */
  publicKey: string;
  /** "ip:port" of the remote peer on the underlay; leave out on a side that only answers */
  endpoint?: string;
  /** CIDRs routed to this peer, e.g. ["198.19.2.1/32"] */
  allowedIps: string[];
  persistentKeepaliveSec?: number;
}

export interface WireguardGoOptions {
  /** network namespace the daemon (and its UDP socket and TUN device) lives in */
  ns: string;
  /** TUN device name, at most 15 characters, unique on the machine (see the note at the top) */
  ifname: string;
  /** base64 Curve25519 private key */
  privateKey: string;
  listenPort: number;
  /** address of the TUN device, with prefix, e.g. "198.19.1.1/24" */
  address: string;
  peer: WireguardGoPeerOptions;
  /** wireguard-go's LOG_LEVEL: its output goes to `logs()` (default "error") */
  logLevel?: 'verbose' | 'error' | 'silent';
}

export interface WireguardGo {
  pid: number;
  publicKey: string;
  ns: string;
  ifname: string;
  /** What wireguard-go wrote to stdout/stderr so far (for failure messages). */
  logs(): string;
  /** SIGTERM, then SIGKILL after 3 s; resolves once the process has exited. Safe to call twice. */
  stop(): Promise<void>;
}

export interface WgShowPeer {
  publicKey: string;
  presharedKey: string | null;
  endpoint: string | null;
  allowedIps: string[];
  /** Unix time in seconds of the last completed handshake; 0 = never. */
  latestHandshakeSec: number;
  rxBytes: number;
  txBytes: number;
  persistentKeepaliveSec: number | null;
}

export interface WgShow {
  publicKey: string;
  listenPort: number;
  fwmark: number | null;
  peers: WgShowPeer[];
}

export interface KeyPair {
  privateKey: string;
  publicKey: string;
}

export function wireguardPublicKey(privateKey: string): string {
  const raw = Buffer.from(privateKey, 'base64');
  if (raw.length !== 32) {
    throw new WireguardGoError('WIREGUARD_GO_CONFIG_FAILED', `bad private key: ${raw.length} bytes, expected 32`);
  }
  const key = createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  return Buffer.from(jwk.x ?? '', 'base64url').toString('base64');
}

/** A fresh X25519 key pair in WireGuard's base64 form (what `wg genkey | wg pubkey` gives). */
export function generateWireguardKeyPair(): KeyPair {
  const { privateKey } = generateKeyPairSync('x25519');
  const d = privateKey.export({ format: 'jwk' }).d ?? '';
  const privateKeyB64 = Buffer.from(d, 'base64url').toString('base64');
  return { privateKey: privateKeyB64, publicKey: wireguardPublicKey(privateKeyB64) };
}

interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCommand(command: string, args: string[]): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function mustRun(code: string, what: string, command: string, args: string[]): Promise<string> {
  const r = await runCommand(command, args);
  if (r.code !== 0) {
    throw new WireguardGoError(code, `${what}: ${command} exited with ${r.code}: ${r.stderr.trim()}`);
  }
  return r.stdout;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Starts wireguard-go as `ifname` in `ns`, sets its key, port and one peer with `wg set`, gives the device its
 * address and brings it up. Rejects (and stops the daemon) if any step fails.
 */
export async function startWireguardGo(options: WireguardGoOptions): Promise<WireguardGo> {
  const { ns, ifname, privateKey, listenPort, address, peer } = options;
  const socketPath = `${WIREGUARD_SOCKET_DIR}/${ifname}.sock`;
  if (existsSync(socketPath)) {
    throw new WireguardGoError('WIREGUARD_GO_IN_USE', `cannot start wireguard-go: ${socketPath} exists (${ns})`);
  }
  const publicKey = wireguardPublicKey(privateKey);

  const child = spawn('ip', ['netns', 'exec', ns, 'wireguard-go', ifname], {
    env: { ...process.env, WG_PROCESS_FOREGROUND: '1', LOG_LEVEL: options.logLevel ?? 'error' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', reject);
  });
  try {
    await spawned;
  } catch (err) {
    throw new WireguardGoError('WIREGUARD_GO_START_FAILED', `cannot run wireguard-go (${ns}/${ifname})`, {
      cause: err,
    });
  }
  const pid = child.pid ?? -1;

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      if (!(await waitForExit(child, STOP_TIMEOUT_MS))) {
        child.kill('SIGKILL');
        await waitForExit(child, STOP_TIMEOUT_MS);
      }
    })();
    return stopped;
  };

  try {
    const deadline = performance.now() + START_TIMEOUT_MS;
    while (!existsSync(socketPath)) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new WireguardGoError(
          'WIREGUARD_GO_START_FAILED',
          `wireguard-go exited (${child.exitCode ?? child.signalCode}) before its socket appeared (${ns}/${ifname}): ${output.trim()}`,
        );
      }
      if (performance.now() > deadline) {
        throw new WireguardGoError('WIREGUARD_GO_START_FAILED', `no ${socketPath} after ${START_TIMEOUT_MS} ms (${ns})`);
      }
      await sleep(20);
    }
    const peerArgs = ['peer', peer.publicKey, 'allowed-ips', peer.allowedIps.join(',')];
    if (peer.endpoint !== undefined) peerArgs.push('endpoint', peer.endpoint);
    if (peer.persistentKeepaliveSec !== undefined) peerArgs.push('persistent-keepalive', String(peer.persistentKeepaliveSec));
    // wg reads the private key from a file (never the command line). /dev/stdin will not do: Node's stdio pipes
    // are socketpairs, which cannot be opened by path. So: a private temp file, removed right after.
    const keyDir = mkdtempSync(join(tmpdir(), 'vs-wg-key-'));
    try {
      const keyFile = join(keyDir, 'private');
      writeFileSync(keyFile, `${privateKey}\n`, { mode: 0o600 });
      await mustRun('WIREGUARD_GO_CONFIG_FAILED', `cannot configure ${ifname} (${ns})`, 'ip', [
        'netns', 'exec', ns, 'wg', 'set', ifname, 'private-key', keyFile, 'listen-port', String(listenPort), ...peerArgs,
      ]);
    } finally {
      rmSync(keyDir, { recursive: true, force: true });
    }
    await mustRun('WIREGUARD_GO_CONFIG_FAILED', `cannot address ${ifname} (${ns})`, 'ip', [
      '-n', ns, 'addr', 'add', address, 'dev', ifname,
    ]);
    await mustRun('WIREGUARD_GO_CONFIG_FAILED', `cannot bring ${ifname} up (${ns})`, 'ip', [
      '-n', ns, 'link', 'set', ifname, 'up',
    ]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { pid, publicKey, ns, ifname, logs: () => output, stop };
}

const optional = (field: string): string | null => (field === '(none)' || field === 'off' ? null : field);

function toInt(field: string | undefined, what: string): number {
  const n = Number(field);
  if (field === undefined || field === '' || !Number.isInteger(n)) {
    throw new WireguardGoError('WG_DUMP_INVALID', `bad wg dump: ${what} is ${JSON.stringify(field)}`);
  }
  return n;
}

/**
 * Parses `wg show <if> dump`: a first line "private-key public-key listen-port fwmark", then one line per peer
 * "public-key preshared-key endpoint allowed-ips latest-handshake transfer-rx transfer-tx persistent-keepalive",
 * tab-separated (wg(8), "dump"). The private key is dropped.
 */
export function parseWgDump(text: string): WgShow {
  const lines = text.split('\n').filter((line) => line.length > 0);
  const head = lines[0]?.split('\t');
  if (head?.length !== 4) throw new WireguardGoError('WG_DUMP_INVALID', 'bad wg dump: the interface line needs 4 fields');
  const fwmark = optional(head[3] ?? '');
  const peers = lines.slice(1).map((line, i): WgShowPeer => {
    const f = line.split('\t');
    if (f.length !== 8) throw new WireguardGoError('WG_DUMP_INVALID', `bad wg dump: peer line ${i + 1} needs 8 fields`);
    const allowed = optional(f[3] ?? '');
    const keepalive = optional(f[7] ?? '');
    return {
      publicKey: f[0] ?? '',
      presharedKey: optional(f[1] ?? ''),
      endpoint: optional(f[2] ?? ''),
      allowedIps: allowed === null ? [] : allowed.split(','),
      latestHandshakeSec: toInt(f[4], 'latest-handshake'),
      rxBytes: toInt(f[5], 'transfer-rx'),
      txBytes: toInt(f[6], 'transfer-tx'),
      persistentKeepaliveSec: keepalive === null ? null : toInt(keepalive, 'persistent-keepalive'),
    };
  });
  return {
    publicKey: head[1] ?? '',
    listenPort: toInt(head[2], 'listen-port'),
    fwmark: fwmark === null ? null : toInt(fwmark, 'fwmark'), // hex "0x…" when set; Number() reads it
    peers,
  };
}

/** `wg show <ifname> dump` run in `ns`, parsed. */
export async function wgShow(ns: string, ifname: string): Promise<WgShow> {
  const out = await mustRun('WG_SHOW_FAILED', `cannot read ${ifname} (${ns})`, 'ip', [
    'netns', 'exec', ns, 'wg', 'show', ifname, 'dump',
  ]);
  return parseWgDump(out);
}

/**
 * TapPort against real TAP devices: two TAPs opened in this process, each moved
 * into its own namespace, joined by a 2-port hub written in JS. Needs root.
 */
import { execFile, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PortSink } from '../../switch/port/port.js';
import { loadAddon } from '../../switch/port/addon.js';
import { tapOpenError } from '../../switch/port/port-errors.js';
import { TapPort } from '../../switch/port/tap-port.js';

const NS_A = 'vs-tapt-a';
const NS_B = 'vs-tapt-b';
const TAP_A = 'vstapt0';
const TAP_B = 'vstapt1';
const IP_A = '198.19.250.1';
const IP_B = '198.19.250.2';

function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new Error('tap-port e2e test needs root (TAP devices, network namespaces)');
}

/** Setup commands: synchronous, must succeed. */
function ip(...args: string[]): string {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

function linkExists(name: string, ns?: string): boolean {
  const args = ns ? ['-n', ns, 'link', 'show', name] : ['link', 'show', name];
  return spawnSync('ip', args, { encoding: 'utf8' }).status === 0;
}

/** Traffic commands: asynchronous, so the hub in this process keeps running. */
function run(ns: string, command: string[], timeoutMs = 30_000): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', ns, ...command], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, output: stdout + stderr });
    });
  });
}

function cleanup(): void {
  for (const ns of [NS_A, NS_B]) spawnSync('ip', ['netns', 'del', ns]);
  for (const tap of [TAP_A, TAP_B, 'vstapt2', 'vstapt3']) spawnSync('ip', ['link', 'del', tap]);
}

function moveIntoNamespace(tap: string, ns: string, address: string): void {
  ip('link', 'set', tap, 'netns', ns);
  ip('-n', ns, 'link', 'set', 'lo', 'up');
  ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', tap);
  ip('-n', ns, 'link', 'set', tap, 'up');
}

describe('TapPort (e2e, root)', () => {
  const opened: TapPort[] = [];
  const open = (name: string, create = true): TapPort => {
    const port = TapPort.open({ name, create });
    opened.push(port);
    return port;
  };

  beforeAll(() => {
    requireRoot();
    cleanup();
    ip('netns', 'add', NS_A);
    ip('netns', 'add', NS_B);
  });

  afterAll(() => {
    for (const port of opened) port.close();
    cleanup();
  });

  it('forwards ping between two namespaces through a JS hub, in batches', async () => {
    const a = open(TAP_A);
    const b = open(TAP_B);
    expect(a.name).toBe(TAP_A);
    expect(a.ifindex).toBeGreaterThan(0);
    expect(b.ifindex).toBeGreaterThan(0);

    let largestBatch = 0;
    const errors: Error[] = [];
    const hubTo = (other: TapPort): PortSink => ({
      frames: (frames) => {
        largestBatch = Math.max(largestBatch, frames.length);
        other.send(frames);
      },
      error: (err) => errors.push(err),
    });
    a.start(hubTo(b));
    b.start(hubTo(a));
    moveIntoNamespace(TAP_A, NS_A, IP_A);
    moveIntoNamespace(TAP_B, NS_B, IP_B);

    const ping = await run(NS_A, ['ping', '-c', '3', '-i', '0.2', '-W', '2', IP_B]);
    expect(ping.code, ping.output).toBe(0);
    const back = await run(NS_B, ['ping', '-c', '2', '-i', '0.2', '-W', '2', IP_A]);
    expect(back.code, back.output).toBe(0);

    // 32 echo requests in flight at once queue up in the TAP: one wake-up reads several.
    const flood = await run(NS_A, ['ping', '-f', '-l', '32', '-c', '2000', '-q', '-W', '1', IP_B]);
    expect(flood.code, flood.output).toBe(0);
    expect(largestBatch).toBeGreaterThan(1);

    const sa = a.stats();
    const sb = b.stats();
    expect(sa.readFrames).toBeGreaterThan(sa.readBatches);
    expect(sa.readFrames).toBeGreaterThanOrEqual(2005);
    expect(sb.writeFrames + sb.writeErrors).toBe(sa.readFrames);
    expect(sb.readFrames).toBeGreaterThanOrEqual(2005);
    expect(errors).toEqual([]);
  });

  it('closing a port removes the TAP it created', () => {
    const port = open('vstapt3');
    expect(linkExists('vstapt3')).toBe(true);
    port.close();
    expect(linkExists('vstapt3')).toBe(false);
    port.close(); // idempotent
    port.send([new Uint8Array(60)]); // no-op after close
    expect(port.stats().writeFrames).toBe(0);
  });

  it('removes a TAP that was moved into a namespace when closed', () => {
    const moved = opened.find((p) => p.name === TAP_A);
    expect(moved).toBeDefined();
    expect(linkExists(TAP_A, NS_A)).toBe(true);
    moved!.close();
    expect(linkExists(TAP_A, NS_A)).toBe(false);
  });

  it('rejects a 16-character name', () => {
    expect(() => TapPort.open({ name: 'vs0123456789abcd' })).toThrow(
      expect.objectContaining({ code: 'interface-name-invalid', name: 'InvalidInterfaceNameError' }),
    );
  });

  it('rejects the name of an existing device that is not a TAP', () => {
    expect(() => TapPort.open({ name: 'lo' })).toThrow(
      expect.objectContaining({ code: 'tap-name-taken', name: 'TapNameTakenError' }),
    );
  });

  it('rejects a TAP that is already open', () => {
    open('vstapt2');
    expect(() => TapPort.open({ name: 'vstapt2' })).toThrow(
      expect.objectContaining({ code: 'tap-name-taken', name: 'TapNameTakenError' }),
    );
  });

  it('without CAP_NET_ADMIN, opening a TAP is TapPermissionError', () => {
    loadAddon(); // the addon is built
    // A child without CAP_NET_ADMIN reports the addon's { errno, syscall }; we map it here.
    const child = spawnSync(
      'setpriv',
      [
        '--inh-caps=-all',
        '--bounding-set=-net_admin',
        process.execPath,
        '-e',
        `try { require(process.argv[1]).openTap('vstapt4', 0, true); console.log('{}'); }
         catch (e) { console.log(JSON.stringify({ errno: e.errno, syscall: e.syscall })); }`,
        new URL('../../build/Release/vswitch_native.node', import.meta.url).pathname,
      ],
      { encoding: 'utf8' },
    );
    expect(child.status, child.stderr).toBe(0);
    const failure = JSON.parse(child.stdout) as { errno: number; syscall: string };
    expect(failure.syscall).toBe('ioctl(TUNSETIFF)');
    expect(tapOpenError(failure, 'vstapt4')).toMatchObject({ code: 'tap-permission', name: 'TapPermissionError' });
  });

  it('with create: false, a missing TAP is InterfaceNotFoundError', () => {
    expect(() => TapPort.open({ name: 'vstapt-none', create: false })).toThrow(
      expect.objectContaining({ code: 'interface-not-found', name: 'InterfaceNotFoundError' }),
    );
  });
});

/**
 * The addon's UDP handle over a real 1500-byte-MTU path (a veth pair between two
 * namespaces this test creates): runs of equal datagrams leave as UDP GSO sends
 * and arrive glued by UDP GRO, and a datagram size the path cannot take as GSO
 * (it needs IP fragments) falls back to datagram-by-datagram sends, with every
 * byte intact and in order. Both ends run as child processes inside the
 * namespaces (this process stays in its own), using the addon directly. Root only.
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const tag = String(process.pid % 100_000);
const NS = [`vs-ngso${tag}-a`, `vs-ngso${tag}-b`] as const;
const IP = ['198.18.251.1', '198.18.251.2'] as const;
const PORT = 40_251;
const ADDON = fileURLToPath(new URL('../../build/Release/vswitch_native.node', import.meta.url));

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${r.stderr}`);
}

function cleanup(): void {
  for (const ns of NS) spawnSync('ip', ['netns', 'del', ns]);
}

// Sizes: 1400 (fits the 1500 MTU: GSO), 1552 (needs fragments: no GSO), then 1400 again, a short tail, ACK-sized.
const SIZES = [...Array<number>(40).fill(1400), 900, ...Array<number>(30).fill(1552), ...Array<number>(20).fill(1400), 112, 112];

/** Child program: `rx` prints what it received as JSON once `expected` datagrams arrived; `tx` sends SIZES twice. */
const CHILD = `
import { createRequire } from 'node:module';
const addon = createRequire(import.meta.url)(process.env.ADDON);
const [mode, host, peer, port, sizesText] = process.argv.slice(1);
const sizes = JSON.parse(sizesText);
const fill = (n, seed) => { const b = new Uint8Array(n); for (let i = 0; i < n; i++) b[i] = (i * 7 + seed) & 0xff; return b; };
if (mode === 'rx') {
  const h = new addon.UdpHandle(host, Number(port), 8, 65535, 4 << 20, 4 << 20);
  const got = [];
  let bad = 0;
  const bytes = new Uint8Array(h.buffer);
  h.start((count) => {
    for (let i = 0; i < count; i++) {
      const m = bytes.subarray(h.offsets[i], h.offsets[i] + h.lengths[i]);
      const want = fill(sizes[got.length % sizes.length], got.length);
      if (m.length !== want.length || m.some((v, j) => v !== want[j])) bad++;
      got.push(m.length);
    }
    if (got.length >= sizes.length * 2) {
      console.log(JSON.stringify({ received: got.length, bad, counters: h.counters() }));
      h.close();
    }
  }, (errno) => { console.log(JSON.stringify({ errno })); h.close(); });
  console.log('ready');
} else {
  const h = new addon.UdpHandle(host, 0, 8, 65535, 4 << 20, 4 << 20);
  const to = h.resolve(peer, Number(port));
  let sent = 0;
  for (let round = 0; round < 2; round++) {
    sent += h.send(sizes.map((n, i) => fill(n, round * sizes.length + i)), to);
  }
  console.log(JSON.stringify({ sent, counters: h.counters() }));
  h.close();
}
`;

function child(ns: string, args: string[]): { lines: Promise<string[]>; firstLine: Promise<string> } {
  const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', CHILD, ...args], {
    env: { ...process.env, ADDON },
  });
  let out = '';
  let onFirst: (line: string) => void = () => {};
  const firstLine = new Promise<string>((resolve) => (onFirst = resolve));
  proc.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('\n')) onFirst(out.split('\n')[0]!);
  });
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
  const lines = new Promise<string[]>((resolve) =>
    proc.on('close', () => {
      clearTimeout(timer);
      resolve(out.trim().split('\n'));
    }),
  );
  return { lines, firstLine };
}

describe('UdpHandle GSO/GRO over a 1500-byte path (e2e, root)', () => {
  beforeAll(() => {
    if (process.getuid?.() !== 0) throw new Error('native-udp-gso e2e test needs root (network namespaces)');
    cleanup();
    for (const ns of NS) {
      ip('netns', 'add', ns);
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    ip('-n', NS[0], 'link', 'add', 'gso0', 'type', 'veth', 'peer', 'name', 'gso1', 'netns', NS[1]);
    ip('-n', NS[0], 'addr', 'add', `${IP[0]}/24`, 'dev', 'gso0');
    ip('-n', NS[1], 'addr', 'add', `${IP[1]}/24`, 'dev', 'gso1');
    ip('-n', NS[0], 'link', 'set', 'gso0', 'up');
    ip('-n', NS[1], 'link', 'set', 'gso1', 'up');
  });
  afterAll(cleanup);

  it('sends equal runs as GSO, falls back for a size that needs fragments, and delivers every datagram intact in order', async () => {
    const sizes = JSON.stringify(SIZES);
    const rx = child(NS[1], ['rx', IP[1], IP[0], String(PORT), sizes]);
    expect(await rx.firstLine).toBe('ready');
    const tx = child(NS[0], ['tx', IP[0], IP[1], String(PORT), sizes]);
    const sent = JSON.parse((await tx.lines).at(-1)!) as { sent: number; counters: Record<string, number> };
    const received = JSON.parse((await rx.lines).at(-1)!) as { received: number; bad: number; counters: Record<string, number> };
    expect(sent.sent).toBe(SIZES.length * 2);
    expect(sent.counters['sendFailed']).toBe(0);
    expect(sent.counters['gsoSends']).toBeGreaterThanOrEqual(4);
    expect(received).toMatchObject({ received: SIZES.length * 2, bad: 0 });
    expect(received.counters['groReads']).toBeGreaterThanOrEqual(1);
  });
});

/**
 * The measuring half of scripts/bench/migration (which brings the lab up): see that script for what is measured.
 * Every time is from the destination QEMU's RESUME event (epoch ms, from QMP) to the first observation of the thing,
 * polled every 20 ms (the fast path) or read off timestamps (ping -D, the Proxy's event ring).
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const LAB = join(ROOT, 'scripts/lab');
const runsArg = process.argv.indexOf('--runs');
const runs = Math.max(1, Number(runsArg >= 0 ? process.argv[runsArg + 1] : '5'));
const GUEST_MAC = '02:00:c6:13:01:01';
const GUEST_IP = '198.19.1.1';

function lab(...args: string[]): string {
  const r = spawnSync(LAB, args, { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`scripts/lab ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const api = <T>(node: string, path: string, method = 'GET', body?: unknown): T => {
  const extra = body === undefined ? [] : ['-H', 'content-type: application/json', '-d', JSON.stringify(body)];
  return JSON.parse(lab('exec', node, 'curl', '-sf', '-X', method, ...extra, `http://127.0.0.1:7000${path}`)) as T;
};
const fastRuleToward = (host: string): boolean =>
  api<{ rules: { dst: string; target: string; owner: string }[] }>('h3', '/v1/rules').rules.some(
    (r) => r.owner === 'proxy:fastpath' && r.dst === GUEST_MAC && r.target === `fp-${host}`,
  );
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function vmMovedEvents(): { atMs: number; to: string }[] {
  const r = spawnSync(LAB, ['exec', 'proxy', 'curl', '-sN', '--max-time', '1', 'http://127.0.0.1:7000/v1/events'], { encoding: 'utf8' });
  return (r.stdout ?? '')
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => JSON.parse(l.slice(6)) as { event?: string; at: string; fields?: Record<string, unknown> })
    .filter((e) => e.event === 'vm-moved' && e.fields?.['mac'] === GUEST_MAC)
    .map((e) => ({ atMs: Date.parse(e.at), to: String(e.fields?.['to']) }));
}

api('proxy', '/v1/plugins/fastpath/settings', 'PUT', { enabled: true });
// h3v1 talks to the guest until the plugin gave them a fast path.
const ping = spawn(LAB, ['exec', 'h3v1', 'ping', '-D', '-i', '0.01', GUEST_IP], { stdio: ['ignore', 'pipe', 'ignore'] });
const replies: number[] = [];
let partial = '';
ping.stdout.on('data', (d: Buffer) => {
  partial += d.toString();
  const lines = partial.split('\n');
  partial = lines.pop()!;
  for (const line of lines) {
    const m = /^\[(\d+\.\d+)\] \d+ bytes from/.exec(line);
    if (m) replies.push(Math.round(Number(m[1]) * 1000));
  }
});
const waitUntil = async (check: () => boolean, timeoutMs: number): Promise<number | undefined> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return Date.now();
    await new Promise((r) => setTimeout(r, 20));
  }
  return undefined;
};
if ((await waitUntil(() => fastRuleToward('h1'), 60_000)) === undefined) throw new Error('no fast path h3 → h1 formed for the guest in 60 s');

interface Row { to: string; downtimeMs: number; totalMs: number; firstReplyMs: number; proxyMs: number; fastPathMs: number }
const rows: Row[] = [];
let at = 'h1';
for (let i = 0; i < runs; i++) {
  const to = at === 'h1' ? 'h2' : 'h1';
  const m = JSON.parse(lab('migrate', 'h1v1', to).trim().split('\n').pop()!) as { downtimeMs: number; totalMs: number; resumedAtMs: number };
  const fastAt = await waitUntil(() => fastRuleToward(to), 30_000);
  await new Promise((r) => setTimeout(r, 300));
  const firstReply = replies.find((t) => t >= m.resumedAtMs);
  const moved = vmMovedEvents().filter((e) => e.to === to && e.atMs >= m.resumedAtMs - 1000).map((e) => e.atMs);
  rows.push({
    to,
    downtimeMs: m.downtimeMs,
    totalMs: m.totalMs,
    firstReplyMs: firstReply === undefined ? NaN : firstReply - m.resumedAtMs,
    proxyMs: moved.length ? Math.min(...moved) - m.resumedAtMs : NaN,
    fastPathMs: fastAt === undefined ? NaN : fastAt - m.resumedAtMs,
  });
  console.log(`migration ${i + 1} → ${to}: ${JSON.stringify(rows.at(-1))}`);
  at = to;
  await new Promise((r) => setTimeout(r, 1000));
}
ping.kill('SIGINT');
const col = (k: keyof Omit<Row, 'to'>): string => median(rows.map((r) => r[k])).toFixed(0).padStart(8);
console.log('\nmedians over', rows.length, 'migrations (ms; times from the switch-over):');
console.log('downtime(QEMU)  total(QEMU)  first-reply  proxy-table  fast-path');
console.log(`${col('downtimeMs')}  ${col('totalMs')}     ${col('firstReplyMs')}     ${col('proxyMs')}   ${col('fastPathMs')}`);
process.exit(0);

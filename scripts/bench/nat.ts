/**
 * bench/nat: fast paths through NATs (issue 19), on a running lab of 6 hosts × 1 VM (scripts/bench/nat starts it):
 * h1 and h6 open, h2 and h3 behind cone NATs (port-preserving masquerade), h4 and h5 behind symmetric ones (a random
 * port per destination). For each pairing, VM hAv1 pings hBv1 and the fast-path plugin tries a direct link:
 *   - try 1 starts with the traffic: its time includes VTTIF's inference (from the first ping);
 *   - tries 2..N: the plugin is disabled (links go), both NATs forget the pair's mappings (conntrack -D), the plugin
 *     is enabled again: a cold punch, timed from the enable (the plugin's relayed add-link on both ends, then the
 *     handshakes through the NATs).
 * A try succeeds when both ends' fast link is up; it fails when the plugin marks the pair punch-failed (or after 20 s
 * and the pair's backoff). The plugin's backoff is set to 1 s for the run (it doubles per failure in a row).
 * Prints a table (pairing, NAT kinds, success, first try, median of the cold tries) and JSON.
 *   node dist/scripts/bench/nat.js [--tries N] [--pairs h2-h3,h4-h5]
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

const NS = process.env['VSWITCH_LAB_NS'] ?? 'vs-';
const argOf = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return (i >= 0 ? process.argv[i + 1] : undefined) ?? fallback;
};
const TRIES = Number(argOf('tries', '5'));
const BACKOFF_MS = 1000;
const TRY_LIMIT_MS = 20_000;

/** The lab's hosts and what they sit behind (scripts/bench/nat's `lab up`). */
const NAT: Record<string, 'open' | 'cone' | 'symmetric'> = { h1: 'open', h2: 'cone', h3: 'cone', h4: 'symmetric', h5: 'symmetric', h6: 'open' };
const ALL_PAIRINGS = 'h1-h6,h1-h2,h2-h3,h1-h4,h3-h4,h4-h5';
const PAIRINGS = argOf('pairs', ALL_PAIRINGS)
  .split(',')
  .map((p) => p.split('-') as [string, string]);

function api<T>(node: string, method: string, path: string, body?: unknown): T {
  const args = ['netns', 'exec', `${NS}${node}`, 'curl', '-sf', '-X', method, `http://127.0.0.1:7000${path}`];
  if (body !== undefined) args.push('-H', 'content-type: application/json', '-d', JSON.stringify(body));
  return JSON.parse(execFileSync('ip', args, { encoding: 'utf8' })) as T;
}

interface Punch {
  a: string;
  b: string;
  state: string;
  attempts: number;
}
const punchOf = (a: string, b: string): Punch | undefined =>
  (api<{ punches?: Punch[] }>('proxy', 'GET', '/v1/plugins/fastpath/status').punches ?? []).find((p) => (p.a === a && p.b === b) || (p.a === b && p.b === a));
const isFastUp = (host: string, peer: string): boolean => api<{ links: { name: string; state: string }[] }>(host, 'GET', '/v1/links').links.some((l) => l.name === `fp-${peer}` && l.state === 'up');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Both NATs of a pair forget the pair's mappings (the star's stay). */
function forgetMappings(a: string, b: string): void {
  const ip = (h: string) => `198.18.0.${h.slice(1)}`;
  for (const [self, other] of [
    [a, b],
    [b, a],
  ] as const) {
    if (NAT[self] === 'open') continue;
    // conntrack -D exits 1 when nothing matched: that is fine.
    try {
      execFileSync('ip', ['netns', 'exec', `${NS}nat${self.slice(1)}`, 'conntrack', '-D', '-p', 'udp', '--orig-dst', ip(other)], { stdio: 'ignore' });
    } catch {
      /* nothing to forget */
    }
  }
}

/** Waits for the try's outcome: both ends up (ms since `fromMs`), or a new punch-failed attempt (undefined). */
async function outcome(a: string, b: string, fromMs: number, attemptsBefore: number): Promise<number | undefined> {
  const deadline = Date.now() + TRY_LIMIT_MS + BACKOFF_MS * 16;
  let polls = 0;
  while (Date.now() < deadline) {
    if (isFastUp(a, b) && isFastUp(b, a)) return Date.now() - fromMs;
    if (++polls % 5 === 0) {
      const p = punchOf(a, b);
      if (p && p.state === 'punch-failed' && p.attempts > attemptsBefore) return undefined;
    }
    await sleep(30);
  }
  return undefined;
}

function ping(a: string, b: string): ChildProcess {
  return spawn('ip', ['netns', 'exec', `${NS}${a}v1`, 'ping', '-q', '-i', '0.1', `198.19.${b.slice(1)}.1`], { stdio: 'ignore' });
}

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((x, y) => x - y);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : Math.round((s[m - 1]! + s[m]!) / 2);
};

interface Row {
  pairing: string;
  nat: string;
  successes: number;
  tries: number;
  firstMs: number | null;
  coldMs: (number | null)[];
  medianColdMs: number | null;
}

async function measure(a: string, b: string): Promise<Row> {
  api('proxy', 'PUT', '/v1/plugins/fastpath/settings', { enabled: false });
  forgetMappings(a, b);
  api('proxy', 'PUT', '/v1/plugins/fastpath/settings', { enabled: true, unreachableBackoffMs: BACKOFF_MS });
  const startMs = Date.now();
  const pinger = ping(a, b);
  const results: (number | null)[] = [];
  try {
    for (let t = 0; t < TRIES; t++) {
      const before = punchOf(a, b)?.attempts ?? 0;
      let fromMs = startMs;
      if (t > 0) {
        api('proxy', 'PUT', '/v1/plugins/fastpath/settings', { enabled: false });
        forgetMappings(a, b);
        fromMs = Date.now();
        api('proxy', 'PUT', '/v1/plugins/fastpath/settings', { enabled: true });
      }
      results.push((await outcome(a, b, fromMs, before)) ?? null);
    }
  } finally {
    pinger.kill();
  }
  const cold = results.slice(1);
  return {
    pairing: `${a}–${b}`,
    nat: `${NAT[a]}–${NAT[b]}`,
    successes: results.filter((r) => r !== null).length,
    tries: results.length,
    firstMs: results[0] ?? null,
    coldMs: cold,
    medianColdMs: median(cold.filter((r): r is number => r !== null)),
  };
}

const rows: Row[] = [];
for (const [a, b] of PAIRINGS) {
  const row = await measure(a, b);
  rows.push(row);
  process.stderr.write(`bench/nat: ${row.pairing} ${row.nat}: ${row.successes}/${row.tries}\n`);
}
api('proxy', 'PUT', '/v1/plugins/fastpath/settings', { enabled: false });
const ms = (v: number | null): string => (v === null ? '—' : `${v} ms`);
console.log(`${'pairing'.padEnd(8)} ${'NATs'.padEnd(20)} ${'direct'.padEnd(7)} ${'first try (from traffic)'.padEnd(25)} median cold try (from the plugin's decision)`);
for (const r of rows) console.log(`${r.pairing.padEnd(8)} ${r.nat.padEnd(20)} ${`${r.successes}/${r.tries}`.padEnd(7)} ${ms(r.firstMs).padEnd(25)} ${ms(r.medianColdMs)}`);
console.log(JSON.stringify({ tries: TRIES, rows }));

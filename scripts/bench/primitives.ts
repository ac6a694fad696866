/**
 * Latency of each VNET primitive through a daemon's HTTP API, as a client sees
 * it (the paper: about 20 ms each, client included). Run it where the API is
 * reachable (in the lab: inside the node's namespace):
 *
 *   node dist/scripts/bench/primitives.js [--api http://127.0.0.1:7000] [--host h1] [--runs 20] [--json]
 *
 * With --host the calls go to the Proxy's /v1/hosts/NAME/… and are relayed
 * over the control channel. Every change is undone (the rule and the link it
 * adds are deleted again). Prints the median and p90 per primitive.
 */
import { randomBytes } from 'node:crypto';
import { apiRequest } from '../../api/cli/client.js';
import { encodeKeyBase64, generatePrivateKey, publicKey } from '../../switch/link/noise/crypto.js';

const argv = process.argv.slice(2);
const opt = (name: string, fallback: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
};
const base = opt('api', 'http://127.0.0.1:7000');
const host = opt('host', '');
const runs = Number(opt('runs', '20'));
const token = process.env['VSWITCH_TOKEN'];
const prefix = host ? `/v1/hosts/${host}` : '/v1';
const client = { base, ...(token ? { token } : {}) };

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

function summary(samples: number[]): { medianMs: number; p90Ms: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { medianMs: Math.round(at(0.5) * 100) / 100, p90Ms: Math.round(at(0.9) * 100) / 100 };
}

async function main(): Promise<void> {
  const results: Record<string, number[]> = {};
  const add = (name: string, ms: number) => (results[name] ??= []).push(ms);
  const call = <T>(method: string, path: string, body?: unknown) => apiRequest<T>(client, method, prefix + path, body);
  for (let i = 0; i < runs; i++) {
    add('list interfaces', await timed(() => call('GET', '/interfaces')));
    add('list links', await timed(() => call('GET', '/links')));
    add('list rules', await timed(() => call('GET', '/rules')));
    // A rule must leave by a port or link that exists: the link first, then a rule by it.
    const key = encodeKeyBase64(publicKey(generatePrivateKey((n) => new Uint8Array(randomBytes(n)))));
    add('add link', await timed(() => call('POST', '/links', { name: `bench${i}`, publicKey: key, transport: 'udp' })));
    let id = 0;
    add(
      'add rule',
      await timed(async () => {
        id = (await call<{ id: number }>('POST', '/rules', { src: '02:00:00:00:be:01', dst: `02:00:00:00:be:${(i % 200 + 16).toString(16)}`, target: `bench${i}` })).id;
      }),
    );
    add('delete rule', await timed(() => call('DELETE', `/rules/${id}`)));
    add('delete link', await timed(() => call('DELETE', `/links/bench${i}`)));
    add('set config-time bound', await timed(() => call('PUT', '/config-time', { upperBoundMs: 2000 + i })));
  }
  const table = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, summary(v)]));
  if (argv.includes('--json')) return console.log(JSON.stringify({ where: host ? `relayed to ${host}` : 'local', runs, table }));
  console.log(`primitive latency, ${host ? `relayed by the Proxy to ${host}` : 'local'} (${runs} runs; paper: ~20 ms)`);
  for (const [name, s] of Object.entries(table)) console.log(`  ${name.padEnd(24)} median ${String(s.medianMs).padStart(7)} ms   p90 ${String(s.p90Ms).padStart(7)} ms`);
}

main().catch((err: unknown) => {
  console.error(`bench: ${(err as Error).message}`);
  process.exit(1);
});

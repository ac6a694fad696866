/**
 * A compromised host, for the trust-boundary e2e tests: it takes over a lab host's identity (its config file: key,
 * Proxy, listen port), joins the star with our own LinkManager, and then sends the Proxy what an attacker would.
 * Loopback and lab namespaces only. Two modes:
 *
 *   flood (default)  for `--seconds`: reports with null and oversized entries, answers to requests it was never
 *                    sent (guessed ids), matrices malformed and oversized, and a flood of control messages
 *                    (test/e2e/hostile-host.test.ts);
 *   --markup         until `--seconds` pass or it is sent SIGTERM: it plays a host, answering the Proxy's relayed
 *                    requests, reporting and sending traffic matrices, with markup and script in every string field
 *                    the Proxy lets through, and the messages its checks must refuse (scripts/lib/hostile-markup.ts;
 *                    test/e2e/dashboard-hostile.test.ts).
 *
 *   node dist/scripts/lib/hostile-host.js --config /run/vswitch-lab/h2.yaml [--seconds 6] [--markup]
 * Prints one JSON line {linkUp, sent: {kind: count}} (markup: also `answered: {op: count}`) and exits 0 when its
 * link to the Proxy came up.
 */
import { randomBytes } from 'node:crypto';
import { loadDaemonConfigFile } from '../../daemon/config.js';
import { systemClock } from '../../switch/clock.js';
import { LinkManager } from '../../switch/link/link-manager.js';
import { createUdpTransport } from '../../switch/link/transport/udp-transport.js';
import { createLogger } from '../../switch/log.js';
import { markupAnswer, markupMatrix, markupReport, refusedMessages, MARKUP } from './hostile-markup.js';

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? process.argv[i + 1] : fallback;
  if (value === undefined) throw new Error(`missing --${name}`);
  return value;
}

const config = loadDaemonConfigFile(arg('config'));
const seconds = Number(arg('seconds', '6'));
const isMarkup = process.argv.includes('--markup');
const proxy = config.peers.find((p) => p.name === config.proxy);
if (!proxy || !config.privateKey) throw new Error('the config names no Proxy or has no key');

const answered: Record<string, number> = {};
const links = new LinkManager({
  privateKey: config.privateKey,
  udp: createUdpTransport({ listen: config.listen.udp }),
  clock: systemClock,
  wallClock: Date.now,
  randomBytes: (n) => new Uint8Array(randomBytes(n)),
  log: createLogger({ level: 'error' }),
  ...(isMarkup ? { onControl: (peer: string, body: Uint8Array) => answerRequest(peer, body) } : {}),
});
links.addPeer({ name: proxy.name, publicKey: proxy.publicKey, transport: 'udp', ...(proxy.endpoint ? { udpEndpoint: { transport: 'udp', ...proxy.endpoint } } : {}) });
await links.start();

const up = (): boolean => links.status()[0]?.state === 'up';
const deadline = Date.now() + 10_000;
while (!up() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));

const sent: Record<string, number> = {};
const send = (kind: string, message: unknown): void => {
  links.sendControl(proxy.name, new TextEncoder().encode(typeof message === 'string' ? message : JSON.stringify(message)));
  sent[kind] = (sent[kind] ?? 0) + 1;
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Markup mode: the Proxy's requests answered as hostile-markup.ts says, counted by op. */
function answerRequest(peer: string, body: Uint8Array): void {
  let message: { t?: unknown; id?: unknown; op?: unknown };
  try {
    message = JSON.parse(new TextDecoder().decode(body)) as typeof message;
  } catch {
    return;
  }
  if (message.t !== 'req' || typeof message.op !== 'string') return;
  const attempt = (answered[message.op] ?? 0) + 1;
  answered[message.op] = attempt;
  const star = links.status().find((l) => l.name === peer);
  links.sendControl(peer, new TextEncoder().encode(JSON.stringify({ t: 'res', id: message.id, ...markupAnswer(message.op, attempt, star) })));
}

async function flood(): Promise<void> {
  const huge = 'x'.repeat(50_000);
  const mac = (i: number) => `02:66:${[i >> 16, (i >> 8) & 255, i & 255, 1].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
  const oversizedMatrix = { t: 'matrix', update: { host: config.name, atMs: Date.now(), entries: [] as unknown[] } };
  for (let i = 0; JSON.stringify(oversizedMatrix).length < 61_500; i++) oversizedMatrix.update.entries.push({ src: mac(i), dst: mac(i + 1), frames: 1, bytes: 1000 });
  const end = Date.now() + seconds * 1000;
  let round = 0;
  while (Date.now() < end) {
    round++;
    const junk: [string, unknown][] = [
      ['report-null-link', { t: 'report', name: config.name, interfaces: [], links: [null], rules: [] }],
      ['report-huge-name', { t: 'report', name: config.name, interfaces: [{ name: huge }], links: [], rules: [] }],
      ['report-wrong-types', { t: 'report', name: 7, interfaces: 'all', links: {}, rules: [{ id: 'one' }] }],
      // Answers to requests the Proxy sent to other hosts: ids guessed, as sequential ids once were.
      ...[round, String(round), round.toString(16).padStart(16, '0')].map((id): [string, unknown] => ['forged-answer', { t: 'res', id, ok: true, result: [] }]),
      ['matrix-malformed', { t: 'matrix', update: { host: 'h1', atMs: 1, entries: [{ src: 'nope', dst: mac(1), frames: -1, bytes: 1 }] } }],
      // Over the 60 000-byte cap of a control message, yet one UDP datagram (what a larger one could not be).
      ['matrix-oversized', oversizedMatrix],
      ['unknown-type', { t: huge.slice(0, 10_000) }],
      ['not-json', '{{{'],
    ];
    // Each round starts at the next kind: the Proxy reads a few messages a round (its per-peer rate), and drops
    // the rest unread (rate-limited); rotating lets every kind be read, and refused for what it is, now and then.
    const start = round % junk.length;
    for (const [kind, message] of [...junk.slice(start), ...junk.slice(0, start)]) send(kind, message);
    for (let i = 0; i < 50; i++) send('flood-heartbeat', { t: 'hb', name: config.name });
    await sleep(20);
  }
}

/** A host's life with markup: heartbeats (a name with markup, which the Proxy never shows), reports, matrices. */
async function markup(): Promise<void> {
  let stopped = false;
  process.once('SIGTERM', () => (stopped = true));
  const end = Date.now() + seconds * 1000;
  for (let tick = 0; !stopped && Date.now() < end; tick++) {
    if (tick % 10 === 0) send('heartbeat', { t: 'hb', name: MARKUP.img, role: 'host' });
    if (tick % 20 === 0) {
      const star = links.status().find((l) => l.name === proxy!.name);
      send('report', markupReport(config.name, star));
      for (const r of refusedMessages(config.name)) send(`refused:${r.reason}`, r.message);
    }
    send('matrix', markupMatrix(config.name, Date.now()));
    await sleep(100);
  }
}

if (up()) await (isMarkup ? markup() : flood());
console.log(JSON.stringify({ linkUp: up(), sent, ...(isMarkup ? { answered } : {}) }));
await links.stop();
process.exit(up() ? 0 : 1);

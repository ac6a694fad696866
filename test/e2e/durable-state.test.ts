/**
 * Durable state and crash-only on the lab (issue #18): a Proxy and 2 hosts with a VM each. In 20 rounds, one daemon
 * — h1 or the Proxy, in turn — gets a burst of seeded random changes through its API (links added and deleted,
 * rules added and deleted, the config-time bound; on h1 also TAP ports added and deleted, rules toward them; on the
 * Proxy VTTIF's parameters and the fast-path settings),
 * and is killed with SIGKILL while one of them is in flight. After each restart every acknowledged change is there
 * and nothing else (the change in flight may be either) — a saved TAP is there again as a device in h1's namespace,
 * with its MTU — and h1v1 pings h2v1 through the star as before.
 *
 *   VSWITCH_LAB_NS=vs-state- VSWITCH_LAB_DIR=/run/vswitch-lab-state flock /tmp/vswitch-lab.lock \
 *     npx vitest run --project e2e test/e2e/durable-state.test.ts          (VSWITCH_STATE_SEED=N replays a run)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StateView } from '../../api/wire/schemas.js';
import { seededRandom } from '../../scripts/lib/seeded-random.js';
import { lab, labDownSync, labExec, labNs, requireRoot, vmIp } from './support/lab.js';
import { startApiRelay, type ApiAnswer, type ApiRelay } from './support/api-relay.js';

const SEED = Number(process.env['VSWITCH_STATE_SEED'] ?? 18);
const ROUNDS = 20;
const LAB_DIR = process.env['VSWITCH_LAB_DIR'] ?? '/run/vswitch-lab';
const random = seededRandom(SEED);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const int = (min: number, max: number): number => min + Math.floor(random() * (max - min + 1));
const hex = (): string => int(0, 255).toString(16).padStart(2, '0');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Node = 'h1' | 'proxy';
interface Model {
  links: Map<string, string>; // name → public key
  ports: Map<string, number>; // a run-time TAP's name → its MTU (h1)
  rules: Map<number, string>; // id → "src dst target priority"
  configTimeMs: number;
  vttif: { updateRateHz: number; threshold: number };
  fastpath: { maxLinksPerHost: number; addAfterMs: number; removeAfterMs: number };
}
interface Change {
  what: string;
  send(api: ApiRelay): Promise<ApiAnswer>;
  /** The model after the change, given its answer (undefined for a change in flight: any answer it could have had). */
  apply(model: Model, answer: ApiAnswer | undefined, actual?: Model): void;
}

const CONFIG_LINKS: Record<Node, readonly string[]> = { h1: ['proxy'], proxy: ['h1', 'h2'] };
const RULE_TARGETS: Record<Node, readonly string[]> = { h1: ['proxy', 'tap-h1v1'], proxy: ['h1', 'h2'] };
const newModel = (): Model => ({ links: new Map(), ports: new Map(), rules: new Map(), configTimeMs: 2000, vttif: { updateRateHz: 20, threshold: 0.1 }, fastpath: { maxLinksPerHost: 7, addAfterMs: 0, removeAfterMs: 10_000 } });
const cloneModel = (m: Model): Model => ({ ...m, links: new Map(m.links), ports: new Map(m.ports), rules: new Map(m.rules), vttif: { ...m.vttif }, fastpath: { ...m.fastpath } });
let linkCounter = 0;
let portCounter = 0;

/** One random change for `node` given what it has now (rules never match the VMs' MACs: traffic is untouched). */
function randomChange(node: Node, model: Model): Change {
  const kinds = ['add-link', 'add-link', 'add-rule', 'add-rule', 'add-rule', 'config-time'];
  if (model.links.size > 0) kinds.push('delete-link', 'delete-link');
  if (model.rules.size > 0) kinds.push('delete-rule', 'delete-rule');
  if (node === 'proxy') kinds.push('vttif', 'fastpath');
  if (node === 'h1' && model.ports.size < 6) kinds.push('add-port', 'add-port');
  // A port an operator's rule leads to is not deleted (409 port-in-use): only the others are candidates.
  const free = [...model.ports.keys()].filter((name) => ![...model.rules.values()].some((f) => f.split(' ')[2] === name));
  if (free.length > 0) kinds.push('delete-port');
  if (model.links.size >= 8) kinds.splice(0, 2);
  switch (pick(kinds)) {
    case 'add-link': {
      const name = `s${++linkCounter}`;
      const publicKey = Buffer.from(Array.from({ length: 32 }, () => int(0, 255))).toString('base64');
      const body = { name, publicKey, endpoint: `198.18.200.${int(1, 250)}:51820`, transport: 'udp' };
      return { what: `add link ${name}`, send: (api) => api.call('POST', '/v1/links', body), apply: (m) => void m.links.set(name, publicKey) };
    }
    case 'delete-link': {
      const name = pick([...model.links.keys()]);
      return { what: `delete link ${name}`, send: (api) => api.call('DELETE', `/v1/links/${name}`), apply: (m) => void m.links.delete(name) };
    }
    case 'add-rule': {
      const body = { src: `02:00:5e:${hex()}:${hex()}:${hex()}`, dst: random() < 0.3 ? 'any' : `02:00:5e:${hex()}:${hex()}:${hex()}`, target: pick([...RULE_TARGETS[node], ...model.links.keys(), ...model.ports.keys()]), priority: int(0, 1000) };
      const fields = `${body.src} ${body.dst} ${body.target} ${body.priority}`;
      return {
        what: `add rule ${fields}`,
        send: (api) => api.call('POST', '/v1/rules', body),
        apply: (m, answer, actual) => {
          // In flight, the id is the one the daemon gave it (if it made it at all): found in what it has now.
          const id = answer ? (answer.body as { id: number }).id : [...(actual?.rules ?? [])].find(([i, f]) => f === fields && !m.rules.has(i))?.[0];
          if (id !== undefined) m.rules.set(id, fields);
        },
      };
    }
    case 'delete-rule': {
      const id = pick([...model.rules.keys()]);
      return { what: `delete rule ${id}`, send: (api) => api.call('DELETE', `/v1/rules/${id}`), apply: (m) => void m.rules.delete(id) };
    }
    case 'add-port': {
      // A TAP the daemon creates in h1's namespace (SIGKILL takes it away with the process; the restart re-creates it).
      const name = `vp${++portCounter}`;
      const mtu = int(1280, 9000);
      return { what: `add port ${name} mtu ${mtu}`, send: (api) => api.call('POST', '/v1/ports', { name, type: 'tap', mtu }), apply: (m) => void m.ports.set(name, mtu) };
    }
    case 'delete-port': {
      const name = pick(free);
      return { what: `delete port ${name}`, send: (api) => api.call('DELETE', `/v1/ports/${name}`), apply: (m) => void m.ports.delete(name) };
    }
    case 'config-time': {
      const upperBoundMs = int(100, 5000);
      return { what: `config-time ${upperBoundMs}`, send: (api) => api.call('PUT', '/v1/config-time', { upperBoundMs }), apply: (m) => void (m.configTimeMs = upperBoundMs) };
    }
    case 'vttif': {
      const body = { updateRateHz: int(1, 20), threshold: int(0, 100) / 100 };
      return { what: `vttif ${JSON.stringify(body)}`, send: (api) => api.call('PUT', '/v1/vttif/parameters', body), apply: (m) => void (m.vttif = body) };
    }
    default: {
      const body = { maxLinksPerHost: int(0, 10), addAfterMs: int(0, 5000), removeAfterMs: int(1000, 60_000) };
      return { what: `fastpath ${JSON.stringify(body)}`, send: (api) => api.call('PUT', '/v1/plugins/fastpath/settings', body), apply: (m) => void (m.fastpath = body) };
    }
  }
}

async function read(node: Node, api: ApiRelay): Promise<Model> {
  const get = async <T>(path: string): Promise<T> => {
    const a = await api.call('GET', path);
    if (a.status !== 200) throw new Error(`GET ${path} on ${node}: HTTP ${a.status} ${JSON.stringify(a.body)}`);
    return a.body as T;
  };
  const { links } = await get<{ links: { name: string; publicKey: string }[] }>('/v1/links');
  const { rules } = await get<{ rules: { id: number; src: string; dst: string; target: string; priority: number; owner: string }[] }>('/v1/rules');
  const { ports } = await get<{ ports: { name: string; kind: string; owner: string; state: string }[] }>('/v1/ports');
  const saved = ports.filter((p) => p.kind !== 'link' && p.owner !== 'config');
  const down = saved.filter((p) => p.kind !== 'tap' || p.state !== 'up');
  if (down.length > 0) throw new Error(`${node}: run-time ports not up as TAPs: ${JSON.stringify(down)}`);
  const model: Model = {
    ...newModel(),
    ports: new Map(saved.map((p) => [p.name, tapMtu(node, p.name)])),
    links: new Map(links.filter((l) => !CONFIG_LINKS[node].includes(l.name)).map((l) => [l.name, l.publicKey])),
    rules: new Map(rules.filter((r) => r.owner !== 'star').map((r) => [r.id, `${r.src} ${r.dst} ${r.target} ${r.priority}`])),
    configTimeMs: (await get<{ upperBoundMs: number }>('/v1/config-time')).upperBoundMs,
  };
  if (node === 'proxy') {
    const v = await get<{ updateRateHz: number; threshold: number }>('/v1/vttif/parameters');
    const f = (await get<{ settings: Model['fastpath'] }>('/v1/plugins/fastpath/status')).settings;
    model.vttif = { updateRateHz: v.updateRateHz, threshold: v.threshold };
    model.fastpath = { maxLinksPerHost: f.maxLinksPerHost, addAfterMs: f.addAfterMs, removeAfterMs: f.removeAfterMs };
  }
  return model;
}

/** The MTU of TAP `name` as the kernel has it in `node`'s namespace (the device itself, not the daemon's word). */
function tapMtu(node: Node, name: string): number {
  const r = labExec(node, ['cat', `/sys/class/net/${name}/mtu`], 5000);
  if (r.code !== 0) throw new Error(`${node}: no device ${name}: ${r.stderr.trim()}`);
  return Number(r.stdout.trim());
}

const view = (m: Model) => ({ ...m, links: Object.fromEntries([...m.links].sort()), ports: Object.fromEntries([...m.ports].sort()), rules: Object.fromEntries([...m.rules].sort((a, b) => a[0] - b[0])) });

async function until(check: () => Promise<boolean> | boolean, ms: number, what: string): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (await Promise.resolve().then(check).catch(() => false)) return Date.now() - start;
    await sleep(50);
  }
  throw new Error(`${what}: not within ${ms} ms`);
}

const pings = (): boolean => labExec('h1v1', ['ping', '-c', '1', '-W', '1', vmIp(2, 1)], 5000).code === 0;

describe('durable state: SIGKILL at a random instant, 20 times', () => {
  const apis = new Map<Node, ApiRelay>();
  const models = new Map<Node, Model>([['h1', newModel()], ['proxy', newModel()]]);

  beforeAll(async () => {
    requireRoot();
    labDownSync();
    await lab('up', '--hosts', '2', '--vms-per-host', '1');
    for (const node of ['h1', 'proxy'] as const) apis.set(node, await startApiRelay(labNs(node)));
    await until(async () => pings(), 15_000, 'h1v1 pings h2v1 before any change');
  }, 60_000);
  afterAll(() => {
    for (const api of apis.values()) api.stop();
    labDownSync();
  });

  it(`every acknowledged change survives, nothing else appears, traffic flows (seed ${SEED})`, async () => {
    let changes = 0;
    let inFlightKept = 0;
    let tornTails = 0;
    let portChanges = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const node: Node = round % 2 === 0 ? 'h1' : 'proxy';
      const api = apis.get(node)!;
      let model = models.get(node)!;
      const acknowledged = int(8, 12);
      for (let i = 0; i < acknowledged; i++) {
        const change = randomChange(node, model);
        const answer = await change.send(api);
        expect(answer.status, `${node}: ${change.what}: ${JSON.stringify(answer.body)}`).toBeLessThan(300);
        change.apply(model, answer);
        changes++;
        if (/ port /.test(` ${change.what}`)) portChanges++;
      }
      // One more, and the kill while it is in flight (somewhere between the request leaving and well after its fsync).
      const inFlight = randomChange(node, model);
      const pid = Number(readFileSync(join(LAB_DIR, `${node}.pid`), 'utf8'));
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain('vswitch');
      const sent = inFlight.send(api).catch(() => undefined);
      await sleep(random() * 4);
      process.kill(pid, 'SIGKILL');
      const answer = await sent;
      changes++;
      await until(() => { try { readFileSync(`/proc/${pid}/stat`); return false; } catch { return true; } }, 5000, `${node} gone`);
      await lab('start', node);

      const actual = await read(node, api);
      if (((await api.call('GET', '/v1/state')).body as StateView).tornBytesDropped > 0) tornTails++;
      const after = cloneModel(model);
      inFlight.apply(after, answer?.status !== undefined && answer.status < 300 ? answer : undefined, actual);
      const isBefore = JSON.stringify(view(actual)) === JSON.stringify(view(model));
      const isAfter = JSON.stringify(view(actual)) === JSON.stringify(view(after));
      if (!isBefore && !isAfter) expect(view(actual), `round ${round} on ${node}: neither before nor after "${inFlight.what}"`).toEqual(view(after));
      if (answer?.status !== undefined && answer.status < 300) expect(isAfter, `round ${round}: "${inFlight.what}" was acknowledged, so it must be there`).toBe(true);
      if (isAfter && !isBefore) inFlightKept++;
      model = isAfter ? after : model;
      models.set(node, model);
      await until(async () => pings(), 15_000, `round ${round}: h1v1 pings h2v1 after ${node} restarted`);
    }
    expect(changes).toBeGreaterThanOrEqual(200);
    expect(portChanges, 'TAP ports added and deleted on h1').toBeGreaterThanOrEqual(10);
    for (const node of ['h1', 'proxy'] as const) {
      const state = (await apis.get(node)!.call('GET', '/v1/state')).body as StateView;
      expect(state).toMatchObject({ persistent: true, dir: join(LAB_DIR, 'state', node) });
      expect(state.items.filter((i) => i.status === 'skipped')).toEqual([]);
    }
    console.log(`durable-state: ${changes} changes, ${ROUNDS} kills, ${inFlightKept} in-flight changes kept, ${tornTails} torn last entries dropped, ${portChanges} port changes, ${models.get('h1')!.ports.size} run-time TAPs on h1 at the end (seed ${SEED})`);
  }, 170_000);
});

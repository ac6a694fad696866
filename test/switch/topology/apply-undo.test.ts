/**
 * Rollback that leaves every daemon as it was, against real daemons (a Proxy and three hosts over memory
 * transports): the step that failed is undone too when it may have happened (a timeout), and undoing a step that
 * did not happen changes nothing and does not fail; a link that is re-added gets back every option it had (its
 * pre-shared key, keepalive, TCP endpoint, transport mode and owner); and applies run one at a time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../../daemon/daemon.js';
import { RelayError, type Primitives } from '../../../switch/overlay/primitives.js';
import { applyChanges } from '../../../switch/topology/apply.js';
import type { TopologyChange } from '../../../switch/topology/diff.js';
import { applyTopology, planTopology } from '../../../switch/topology/reconcile.js';
import { startOverlay, type Overlay3 } from './daemons-fixture.js';

let overlay: Overlay3 | undefined;
afterEach(async () => {
  await overlay?.stop();
  overlay = undefined;
});

const vm = (h: string) => `02:00:c6:13:0${h.slice(1)}:01`;

/** The star of `o`, plus `extra` lines. */
function star(o: Overlay3, extra = ''): string {
  const host = (n: string, proxy = false) => `host ${n} key "${o.keys[n]}" endpoint ${o.address[n]}:51820${proxy ? ' proxy' : ''}\n`;
  return host('proxy', true) + host('h1') + host('h2') + host('h3') + 'link h1 proxy\nlink h2 proxy\nlink h3 proxy\n' + extra;
}

const SHORTCUT_12 = `link h1 h2 transport udp\nrule h1 src any dst ${vm('h2')} via h2 priority 10\nrule h2 src any dst ${vm('h1')} via h1 priority 10\n`;
const SHORTCUT_13 = `link h1 h3 transport udp\nrule h1 src any dst ${vm('h3')} via h3 priority 10\nrule h3 src any dst ${vm('h1')} via h1 priority 10\n`;

/** What a daemon holds that apply may touch, without ids and counters. */
async function snapshot(daemons: Daemon[]) {
  return Promise.all(
    daemons.map(async (d) => ({
      links: (await d.primitives.links()).map((l) => `${l.name} ${l.publicKey} ${l.mode} ${l.owner}`).sort(),
      rules: (await d.primitives.rules()).map((r) => `${r.src} ${r.dst} ${r.priority} ${r.target} ${r.owner}`).sort(),
    })),
  );
}

/** Primitives whose first change of kind `op` times out — after it ran (`applied`) or before. */
function timingOut(p: Primitives, op: 'addLink' | 'deleteLink' | 'addRule' | 'deleteRule', applied: boolean): Primitives {
  let armed = true;
  const wrap =
    <A extends unknown[]>(name: typeof op, real: (...args: A) => Promise<unknown>) =>
    async (...args: A) => {
      if (name !== op || !armed) return real(...args);
      armed = false;
      if (applied) await real(...args);
      throw new RelayError('host-timeout', `host did not answer ${op} within 5000 ms`);
    };
  return {
    interfaces: () => p.interfaces(),
    links: () => p.links(),
    rules: () => p.rules(),
    configTimeBound: () => p.configTimeBound(),
    ports: () => p.ports(),
    addPort: (input, actor) => p.addPort(input, actor),
    deletePort: (name, actor) => p.deletePort(name, actor),
    setConfigTimeBound: (ms, actor) => p.setConfigTimeBound(ms, actor),
    addLink: wrap('addLink', (input, actor) => p.addLink(input, actor)) as Primitives['addLink'],
    deleteLink: wrap('deleteLink', (name, actor) => p.deleteLink(name, actor)) as Primitives['deleteLink'],
    addRule: wrap('addRule', (input, actor) => p.addRule(input, actor)) as Primitives['addRule'],
    deleteRule: wrap('deleteRule', (id, actor) => p.deleteRule(id, actor)) as Primitives['deleteRule'],
  };
}

const OPS: [TopologyChange['op'], 'addLink' | 'deleteLink' | 'addRule' | 'deleteRule'][] = [
  ['delete-rule', 'deleteRule'],
  ['delete-link', 'deleteLink'],
  ['add-link', 'addLink'],
  ['add-rule', 'addRule'],
];

describe('topology apply rolls back whole', () => {
  it.each(OPS.flatMap(([change, op]) => [true, false].map((applied) => [change, applied, op] as const)))(
    'a %s on h1 that times out (after it ran: %s) is undone too when it happened, and nothing breaks when it did not',
    async (change, applied, op) => {
      overlay = await startOverlay(3);
      const o = overlay;
      await applyTopology(o.source, star(o, SHORTCUT_12));
      const before = await snapshot(o.all);
      const plan = await planTopology(o.source, star(o, SHORTCUT_13));
      expect(plan.changes.map((c) => `${c.op} ${c.host}`)).toContain(`${change} h1`);
      const relay = (host: string) => (host === 'proxy' ? o.proxy.primitives : o.proxy.overlay!.host(host));
      const h1 = timingOut(relay('h1')!, op, applied);
      const failed = await applyChanges(plan.changes, (host) => (host === 'h1' ? h1 : relay(host))).catch((e: unknown) => e);
      expect(failed).toMatchObject({ code: 'topology-apply-failed', failed: { code: 'host-timeout' }, rollbackFailures: [] });
      expect((failed as { failed: { change: string } }).failed.change).toMatch(new RegExp(`^h1: ${change.replace('-', ' ')}`));
      expect(await snapshot(o.all)).toEqual(before);
    },
    20_000,
  );

  it('re-adds a deleted link with every option it had: pre-shared key, keepalive, TCP endpoint, transport mode, owner', async () => {
    const psk = Buffer.alloc(32, 9).toString('base64');
    const peers = (h: string, pub: (n: string) => string) =>
      h === 'h1'
        ? `  - { name: h2, publicKey: "${pub('h2')}", presharedKey: "${psk}", endpoint: "198.18.0.2:51820", tcpEndpoint: "198.18.0.2:443", transport: auto, persistentKeepaliveS: 1 }\n`
        : h === 'h2'
          ? `  - { name: h1, publicKey: "${pub('h1')}", presharedKey: "${psk}", endpoint: "198.18.0.1:51820", transport: auto }\n`
          : '';
    overlay = await startOverlay(3, { hostPeersYaml: peers });
    const o = overlay;
    const [h1, h2, h3] = o.hosts as [Daemon, Daemon, Daemon];
    await o.until(() => h1.linkStatuses().every((l) => l.state === 'up') && h2.linkStatuses().every((l) => l.state === 'up'));
    const configured = h1.links!.peerConfig?.('h2');
    const before = await snapshot(o.all);
    // The description drops the configured link h1 ↔ h2 and adds a rule on h3, which an operator's equal rule
    // (added between plan and apply) makes h3 refuse: the two link deletes are rolled back.
    const plan = await planTopology(o.source, star(o, `rule h3 src any dst ${vm('h1')} via proxy priority 3\n`));
    expect(plan.changes.map((c) => `${c.op} ${c.host}`)).toEqual(['delete-link h1', 'delete-link h2', 'add-rule h3']);
    await h3.primitives.addRule({ src: 'any', dst: vm('h1'), target: 'vm3', priority: 3 }, { name: 'cli' });
    const failed = await applyChanges(plan.changes, (host) => (host === 'proxy' ? o.proxy.primitives : o.proxy.overlay!.host(host))).catch((e: unknown) => e);
    expect(failed).toMatchObject({ code: 'topology-apply-failed', rolledBack: 2, rollbackFailures: [] });

    expect((await h1.primitives.links()).find((l) => l.name === 'h2')).toMatchObject({ owner: 'config', mode: 'auto' });
    expect((await h2.primitives.links()).find((l) => l.name === 'h1')).toMatchObject({ owner: 'config', mode: 'auto' });
    expect(h1.links!.peerConfig?.('h2')).toEqual(configured);
    expect(configured).toMatchObject({ persistentKeepaliveS: 1, tcpEndpoint: { host: '198.18.0.2', port: 443 }, presharedKey: new Uint8Array(Buffer.alloc(32, 9)) });
    // Both ends have their pre-shared key again, so the link comes back up.
    await o.until(() => h1.linkStatuses().every((l) => l.state === 'up') && h2.linkStatuses().every((l) => l.state === 'up'));
    const after = await snapshot(o.all);
    after[3]!.rules = after[3]!.rules.filter((r) => !r.endsWith(' cli'));
    expect(after).toEqual(before);
  }, 20_000);

  it('runs one apply at a time: a second one while the first runs is refused with 409 topology-busy', async () => {
    overlay = await startOverlay(3);
    const o = overlay;
    const first = applyTopology(o.source, star(o, SHORTCUT_12));
    const second = applyTopology(o.source, star(o, SHORTCUT_13));
    await expect(second).rejects.toMatchObject({ code: 'topology-busy', httpStatus: 409 });
    expect((await first).changes.length).toBeGreaterThan(0);
    // Done (or failed), the next one runs.
    await expect(applyTopology(o.source, 'host nope', 'bad.vnet')).rejects.toMatchObject({ code: 'topology-syntax' });
    expect((await applyTopology(o.source, star(o, SHORTCUT_12))).changes).toEqual([]);
  }, 20_000);
});

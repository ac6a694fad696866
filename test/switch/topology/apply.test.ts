/**
 * diff and apply against real daemons: a Proxy and three hosts over memory
 * transports, each change relayed over the control channel.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../../daemon/daemon.js';
import { applyChanges } from '../../../switch/topology/apply.js';
import { fetchTopology } from '../../../switch/topology/fetch.js';
import { formatTopology } from '../../../switch/topology/format.js';
import { planTopology, applyTopology } from '../../../switch/topology/reconcile.js';
import { traceRoute } from '../../../switch/topology/route.js';
import { toOverlay } from '../../../switch/topology/state.js';
import { arpRequest, mac } from '../../support/frames.js';
import { startOverlay, type Overlay3 } from './daemons-fixture.js';

let overlay: Overlay3 | undefined;
afterEach(async () => {
  await overlay?.stop();
  overlay = undefined;
});

function describe3(o: Overlay3, extra = ''): string {
  const host = (n: string, proxy = false) => `host ${n} key "${o.keys[n]}" endpoint ${o.address[n]}:51820${proxy ? ' proxy' : ''}\n`;
  return (
    host('proxy', true) +
    host('h1') +
    host('h2') +
    host('h3') +
    'link h1 proxy\nlink h2 proxy\nlink h3 proxy\n' +
    'link h1 h2 transport udp\n' +
    'rule h1 src any dst 02:00:c6:13:02:01 via h2 priority 10\n' +
    'rule h2 src any dst 02:00:c6:13:01:01 via h1 priority 10\n' +
    'rule h3 src any dst 02:00:c6:13:01:01 via proxy priority 3\n' +
    'rule proxy src any dst 02:00:c6:13:03:01 via h3\n' +
    'rule h1 src any dst none via proxy   # the star default rule: satisfied by the one the daemon made\n' +
    extra
  );
}

/** What a daemon holds that apply may touch, without ids and counters. */
async function snapshot(daemons: Daemon[]) {
  return Promise.all(
    daemons.map(async (d) => ({
      links: (await d.primitives.links()).map((l) => `${l.name} ${l.publicKey} ${l.mode}`).sort(),
      rules: (await d.primitives.rules()).map((r) => `${r.src} ${r.dst} ${r.priority} ${r.target} ${r.owner}`).sort(),
    })),
  );
}

describe('topology apply on a running overlay', () => {
  it('shows the started star in the language', async () => {
    overlay = await startOverlay(3);
    const text = formatTopology(toOverlay(await fetchTopology(overlay.source)));
    expect(text).toContain(`host proxy key "${overlay.keys.proxy}" endpoint 198.18.1.1:51820 proxy\n`);
    expect(text).toContain('link h1 proxy\nlink h2 proxy\nlink h3 proxy\n');
    expect(text).toContain('rule h1 src any dst none via proxy  # owner: star\n');
  });

  it('applies a description to every daemon; applying it again changes nothing', async () => {
    overlay = await startOverlay(3);
    const o = overlay;
    const first = await applyTopology(o.source, describe3(o), 'star.vnet');
    expect(first.conflicts).toEqual([]);
    expect(first.changes.map((c) => `${c.op} ${c.host}`)).toEqual(['add-link h1', 'add-link h2', 'add-rule proxy', 'add-rule h1', 'add-rule h2', 'add-rule h3']);
    const [h1, h2, h3] = o.hosts as [Daemon, Daemon, Daemon];
    expect((await h1.primitives.rules()).find((r) => r.target === 'h2')).toMatchObject({ owner: 'proxy:topology', priority: 10 });
    expect((await o.proxy.primitives.rules())[0]).toMatchObject({ owner: 'topology', target: 'h3' });
    await overlay!.until(() => h1.linkStatuses().every((l) => l.state === 'up') && h2.linkStatuses().every((l) => l.state === 'up'));

    const before = await snapshot(o.all);
    const second = await applyTopology(o.source, describe3(o), 'star.vnet');
    expect(second.changes).toEqual([]);
    expect(await snapshot(o.all)).toEqual(before);
    expect((await h3.primitives.rules()).length).toBe(2);

    // The route of a frame h1 → h2 now takes the shortcut, and says which rule sent it there.
    o.ports.get('vm2')!.inject([arpRequest(mac('02:00:c6:13:02:01'), '198.19.2.1', '198.19.1.1')]);
    o.ports.get('vm1')!.inject([arpRequest(mac('02:00:c6:13:01:01'), '198.19.1.1', '198.19.2.1')]);
    await overlay!.until(() => h1.macEntries().length > 0 && h2.macEntries().length > 0);
    const route = traceRoute(await fetchTopology(o.source, { forwarding: true }), { src: '02:00:c6:13:01:01', dst: '02:00:c6:13:02:01' });
    expect(route.outcome).toBe('delivered');
    expect(route.hops.map((h) => `${h.host}:${h.step}:${h.outPort}`)).toEqual(['h1:rule:h2', 'h2:learned:vm2']);
    expect(route.hops[0]!.rule).toMatchObject({ owner: 'proxy:topology', priority: 10 });

    // Dropping the shortcut from the description deletes it, and only what apply owns.
    const third = await applyTopology(o.source, describe3(o).replace('link h1 h2 transport udp\n', '').replace(/rule h[12] src any dst 02:00:c6:13:0[12]:01 via h[12] priority 10\n/g, ''));
    expect(third.changes.map((c) => `${c.op} ${c.host}`)).toEqual(['delete-rule h1', 'delete-rule h2', 'delete-link h1', 'delete-link h2']);
    expect((await h1.primitives.rules()).map((r) => r.owner)).toEqual(['star']);
  });

  it('with a fast path up (ends fp-h2 / fp-h1, as the plugin makes them): show prints one h1–h2 link, diff of it is empty, route follows it', async () => {
    overlay = await startOverlay(3);
    const o = overlay;
    const [h1, h2] = o.hosts as [Daemon, Daemon, Daemon];
    const fastpath = { name: 'fastpath' };
    const relay = (n: string) => o.proxy.overlay!.host(n)!;
    await relay('h1').addLink({ name: 'fp-h2', publicKey: o.keys.h2!, endpoint: `${o.address.h2}:51820`, persistentKeepaliveS: 1 }, fastpath);
    await relay('h2').addLink({ name: 'fp-h1', publicKey: o.keys.h1!, endpoint: `${o.address.h1}:51820`, persistentKeepaliveS: 1 }, fastpath);
    await overlay!.until(() => [h1, h2].every((h) => h.linkStatuses().every((l) => l.state === 'up')));
    await relay('h1').addRule({ src: '02:00:c6:13:01:01', dst: '02:00:c6:13:02:01', target: 'fp-h2' }, fastpath);
    await relay('h2').addRule({ src: '02:00:c6:13:02:01', dst: '02:00:c6:13:01:01', target: 'fp-h1' }, fastpath);

    const text = formatTopology(toOverlay(await fetchTopology(o.source)));
    expect(text).not.toContain('fp-');
    expect(text.split('\n').filter((l) => l.startsWith('link '))).toEqual(['link h1 h2', 'link h1 proxy', 'link h2 proxy', 'link h3 proxy']);
    expect(text).toContain('rule h1 src 02:00:c6:13:01:01 dst 02:00:c6:13:02:01 via h2  # owner: proxy:fastpath\n');
    const plan = await planTopology(o.source, text, 'shown.vnet');
    expect({ changes: plan.changes, conflicts: plan.conflicts, pending: plan.pending, warnings: plan.warnings }).toEqual({ changes: [], conflicts: [], pending: [], warnings: [] });

    o.ports.get('vm2')!.inject([arpRequest(mac('02:00:c6:13:02:01'), '198.19.2.1', '198.19.1.1')]);
    o.ports.get('vm1')!.inject([arpRequest(mac('02:00:c6:13:01:01'), '198.19.1.1', '198.19.2.1')]);
    await overlay!.until(() => h1.macEntries().length > 0 && h2.macEntries().some((m) => m.port === 'vm2'));
    const route = traceRoute(await fetchTopology(o.source, { forwarding: true }), { src: '02:00:c6:13:01:01', dst: '02:00:c6:13:02:01' });
    expect(route.outcome).toBe('delivered');
    expect(route.hops.map((h) => `${h.host}(in ${h.inPort}):${h.step}:${h.outPort}→${h.next ?? ''}`)).toEqual(['h1(in vm1):rule:fp-h2→h2', 'h2(in fp-h1):learned:vm2→']);
    expect(route.hops[0]!.rule).toMatchObject({ owner: 'proxy:fastpath' });
  });

  it('refuses, changing nothing, when a rule of another owner blocks the description', async () => {
    overlay = await startOverlay(3);
    const o = overlay;
    await o.hosts[2]!.primitives.addRule({ src: 'any', dst: '02:00:c6:13:01:01', target: 'vm3', priority: 3 }, { name: 'cli' });
    const before = await snapshot(o.all);
    await expect(applyTopology(o.source, describe3(o))).rejects.toMatchObject({ name: 'TopologyConflictError', code: 'topology-conflict' });
    expect(await snapshot(o.all)).toEqual(before);
  });

  it('rolls every daemon back when one refuses mid-way', async () => {
    overlay = await startOverlay(3);
    const o = overlay;
    const before = await snapshot(o.all);
    const plan = await planTopology(o.source, describe3(o));
    expect(plan.conflicts).toEqual([]);
    // Between plan and apply, an operator adds an equal rule on h3 (the 6th and last change): h3 refuses it.
    await o.hosts[2]!.primitives.addRule({ src: 'any', dst: '02:00:c6:13:01:01', target: 'vm3', priority: 3 }, { name: 'cli' });
    const during = await snapshot(o.all);
    let caught: unknown;
    try {
      await applyChanges(plan.changes, (host) => (host === 'proxy' ? o.proxy.primitives : o.proxy.overlay!.host(host)));
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({
      name: 'ApplyFailedError',
      code: 'topology-apply-failed',
      failed: { change: 'h3: add rule src any dst 02:00:c6:13:01:01 via proxy priority 3', code: 'conflict' },
      rolledBack: 5,
      rollbackFailures: [],
    });
    expect(await snapshot(o.all)).toEqual(during);
    expect(during).not.toEqual(before); // only the operator's rule differs
  });

  it('reports syntax and meaning errors with file:line:column before fetching anything', async () => {
    const source = { proxyName: 'proxy', local: undefined as never, host: () => undefined, hostNames: (): string[] => { throw new Error('must not fetch'); } };
    await expect(applyTopology(source, 'link a', 'x.vnet')).rejects.toMatchObject({ code: 'topology-syntax', line: 1, column: 7 });
    await expect(applyTopology(source, 'link a b', 'x.vnet')).rejects.toMatchObject({ code: 'topology-invalid' });
  });
});

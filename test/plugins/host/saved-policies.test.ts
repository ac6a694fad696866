/**
 * HTTP policies across a restart of the Proxy's registry (a new PluginRegistry on the same saved state): the
 * registration, enabled state and lease come back with the token's digest only; the old token still authenticates,
 * and a webhook policy's deliveries — signed with its token — wait until it has shown that token once.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { snapshotOf } from '../../../plugins/host/overlay-watch.js';
import type { PluginContext } from '../../../plugins/host/plugin.js';
import { PluginRegistry } from '../../../plugins/host/registry.js';
import { decodePolicy } from '../../../plugins/host/saved-plugins.js';
import { PLUGIN_EVENT_TYPES } from '../../../plugins/host/plugin.js';
import { ManualClock } from '../../../switch/clock.js';
import { createLogger } from '../../../switch/log.js';
import { MemoryStateStore } from '../../../switch/state/memory-state-store.js';
import { RestoreReport, type DurableRecords } from '../../../switch/state/restore-report.js';
import { StateCorruptError } from '../../../switch/state/state-errors.js';
import { RelayError, type Primitives } from '../../../switch/overlay/primitives.js';

const none = async () => [];
const place = { links: none, rules: none } as unknown as Primitives;
const problem = (where: string, p: string) => new StateCorruptError('state.journal', where, p, '');

/** A host whose primitives fail while `down` (unreachable), holding one rule of policy "pin". */
function flakyHost() {
  const host = { down: true, rules: [{ id: 1, src: 'any', dst: '02:00:00:00:00:01', target: 'proxy', priority: 0, owner: 'proxy:policy:pin', hitFrames: 0, hitBytes: 0 }] };
  const reach = async () => {
    if (host.down) throw new RelayError('host-unreachable', 'no link to host h1');
  };
  const primitives = {
    links: async () => (await reach(), []),
    rules: async () => (await reach(), [...host.rules]),
    deleteRule: async (id: number) => {
      await reach();
      host.rules = host.rules.filter((r) => r.id !== id);
    },
    deleteLink: async () => reach(),
  } as unknown as Primitives;
  return { host, primitives };
}

function registryOn(store: MemoryStateStore, clock: ManualClock, posts: { body: string; signature: string }[], h1?: Primitives) {
  const state: DurableRecords = { saved: store.saved, write: (c) => store.write(c), report: new RestoreReport(), problem };
  const registry = new PluginRegistry({
    clock,
    wallClock: () => Date.UTC(2030, 0, 1),
    log: createLogger({ write: () => {} }),
    context: (name, actor) => ({ name, actor }) as unknown as PluginContext,
    places: { proxy: place, hostNames: () => (h1 ? ['h1'] : []), host: (n) => (n === 'h1' ? h1 : undefined) },
    countOwned: async (actors) => new Map(actors.map((a) => [a, { links: 0, rules: 0 }])),
    snapshot: () => snapshotOf([], []),
    post: async (_url, body, headers) => {
      posts.push({ body, signature: headers['x-vswitch-signature']! });
      return 200;
    },
    state,
  });
  return { registry, state };
}

const settle = async (clock: ManualClock, ms: number) => {
  await clock.advanceUntil(() => false, ms);
};

describe('HTTP policies in the saved state', () => {
  it('come back after a restart: registration, enabled state, a whole lease — and the token works, though only its digest was saved', async () => {
    const store = new MemoryStateStore();
    const clock = new ManualClock();
    const first = registryOn(store, clock, []);
    const { token } = await first.registry.register({ name: 'pin', events: ['host'], leaseSeconds: 60, description: 'pins pairs' }, { name: 'ops' });
    const { token: other } = await first.registry.register({ name: 'off', events: [], leaseSeconds: 60 }, { name: 'ops' });
    await first.registry.setEnabled('off', false);
    expect(JSON.stringify(store.saved.records())).not.toContain(token);
    await first.registry.stop();

    const again = registryOn(store, clock, []);
    await again.registry.restorePolicies();
    expect((await again.registry.list()).map((p) => [p.name, p.enabled, p.registeredBy, p.description])).toEqual([
      ['pin', true, 'ops', 'pins pairs'],
      ['off', false, 'ops', undefined],
    ]);
    expect(again.registry.policyByToken(token)?.name).toBe('pin');
    expect(again.registry.policyByToken(other)?.name).toBe('off');
    expect(again.registry.policyByToken('a-guess')).toBeUndefined();
    expect(again.state.report.outcomes()).toEqual([
      { kind: 'policy', key: 'pin', outcome: 'restored', reason: 'enabled, lease 60 s from the restart' },
      { kind: 'policy', key: 'off', outcome: 'restored', reason: 'disabled, lease 60 s from the restart' },
    ]);
    // Unregistering is saved too.
    await again.registry.unregister('pin');
    expect([...store.saved.kind('policy').keys()]).toEqual(['off']);
    await again.registry.stop();
  });

  it("a restored webhook policy's deliveries wait for its token, then are signed with it", async () => {
    const store = new MemoryStateStore();
    const clock = new ManualClock();
    const first = registryOn(store, clock, []);
    const { token } = await first.registry.register({ name: 'hook', events: ['host'], delivery: { type: 'webhook', url: 'http://127.0.0.1:9/hook' }, leaseSeconds: 600 }, { name: 'ops' });
    await first.registry.stop();

    const posts: { body: string; signature: string }[] = [];
    const again = registryOn(store, clock, posts);
    await again.registry.restorePolicies();
    again.registry.start();
    again.registry.publish({ type: 'host', host: { name: 'h1', change: 'joined' } });
    await settle(clock, 3000);
    expect(posts).toEqual([]);
    expect((await again.registry.get('hook')).lastError).toMatch(/wait for the policy to make a request with its token/);

    again.registry.policyByToken(token); // the policy's first request after the restart
    await settle(clock, 3000);
    expect(posts.length).toBeGreaterThan(0);
    expect(posts[0]!.signature).toBe(`sha256=${createHmac('sha256', token).update(posts[0]!.body).digest('hex')}`);
    expect(JSON.parse(posts[0]!.body)).toMatchObject({ events: [{ type: 'host', host: { name: 'h1', change: 'joined' } }] });
    await again.registry.stop();
  });

  it('a cleanup owed to a host that was down is saved, and after a restart it is retried and done', async () => {
    const store = new MemoryStateStore();
    const clock = new ManualClock();
    const { host, primitives } = flakyHost();
    const first = registryOn(store, clock, [], primitives);
    await first.registry.register({ name: 'pin', events: [], leaseSeconds: 30 }, { name: 'ops' });
    await first.registry.unregister('pin');
    expect(first.registry.pendingCleanups().map((p) => `${p.actor} ${p.host}`)).toEqual(['policy:pin h1']);
    expect(store.saved.get('cleanup', 'policy:pin h1')).toEqual({ plugin: 'pin', actor: 'policy:pin', host: 'h1' });
    await first.registry.stop();

    const again = registryOn(store, clock, [], primitives);
    await again.registry.restorePolicies();
    expect(again.registry.pendingCleanups()).toMatchObject([{ plugin: 'pin', host: 'h1', lastError: 'saved before the Proxy restarted' }]);
    host.down = false;
    again.registry.tick();
    await again.registry.cleanupsSettled();
    expect(host.rules).toEqual([]);
    expect(again.registry.pendingCleanups()).toEqual([]);
    await clock.advanceUntil(() => false, 10);
    expect(store.saved.kind('cleanup').size).toBe(0);
    await again.registry.stop();
  });

  it('a saved policy that is not what the registry writes is refused, naming the field', () => {
    const good = { registration: { name: 'pin', events: ['host'] }, registeredBy: 'ops', registeredAt: '2030-01-01T00:00:00.000Z', tokenDigest: 'a'.repeat(64), enabled: true, expired: false };
    expect(decodePolicy('pin', good, problem)).toMatchObject({ registration: { name: 'pin', events: ['host'] }, registeredAtWall: Date.UTC(2030, 0, 1) });
    expect(() => decodePolicy('pin', { ...good, tokenDigest: 'x' }, problem)).toThrow(expect.objectContaining({ where: 'policy "pin"', problem: expect.stringMatching(/^tokenDigest: /) }));
    expect(() => decodePolicy('pin', { ...good, registration: { name: 'pin', events: ['everything'] } }, problem)).toThrow(expect.objectContaining({ problem: expect.stringMatching(/^registration\.events: /) }));
    // Every event type the API takes (6, matrix-delta among them) is restored, not refused.
    const all = { ...good, registration: { name: 'pin', events: [...PLUGIN_EVENT_TYPES] } };
    expect(decodePolicy('pin', all, problem).registration.events).toEqual(PLUGIN_EVENT_TYPES);
    expect(() => decodePolicy('other', good, problem)).toThrow(expect.objectContaining({ problem: expect.stringMatching(/^registration\.name: /) }));
  });
});

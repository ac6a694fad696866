/**
 * Removing what a plugin owned (disable, unregister, lease expiry) on a host that does not answer is not given up:
 * the registry keeps it as a pending cleanup, retries it with backoff on its tick, and at once when the host
 * comes back; the pending cleanups are a bounded set (the oldest dropped, and said so). A hand-driven clock and
 * tick, primitives doubles for the Proxy and its hosts: no sleeps.
 */
import { describe, expect, it } from 'vitest';
import { snapshotOf } from '../../../plugins/host/overlay-watch.js';
import type { PluginContext, VswitchPlugin } from '../../../plugins/host/plugin.js';
import { CLEANUP_BACKOFF, MAX_PENDING_CLEANUPS, PluginRegistry } from '../../../plugins/host/registry.js';
import { ManualClock } from '../../../switch/clock.js';
import { createLogger } from '../../../switch/log.js';
import type { SwitchEvent } from '../../../switch/events.js';
import { RelayError, type LinkInput, type Primitives, type RuleView } from '../../../switch/overlay/primitives.js';

/** A daemon's primitives as a plain list of links and rules; `down` makes every call fail as an unreachable host. */
class FakeDaemon {
  down = false;
  calls = 0;
  links: { name: string; owner: string }[] = [];
  rules: RuleView[] = [];
  private nextId = 1;

  constructor(readonly name: string) {}

  own(owner: string): this {
    this.rules.push({ id: this.nextId++, src: 'any', dst: '02:00:00:00:00:01', target: 'proxy', priority: 1, owner, hitFrames: 0, hitBytes: 0 });
    this.links.push({ name: `l${this.nextId++}`, owner });
    return this;
  }

  owners(): string[] {
    return [...this.rules.map((r) => `rule ${r.owner}`), ...this.links.map((l) => `link ${l.owner}`)];
  }

  primitives(): Primitives {
    const reach = async () => {
      this.calls++;
      if (this.down) throw new RelayError('host-unreachable', `no link to host ${this.name}`);
    };
    const nope = async (): Promise<never> => {
      throw new Error('not used');
    };
    return {
      interfaces: nope,
      ports: nope,
      addPort: nope,
      deletePort: nope,
      configTimeBound: nope,
      setConfigTimeBound: nope,
      addLink: nope as (input: LinkInput) => Promise<never>,
      addRule: nope,
      links: async () => (await reach(), this.links.map((l) => ({ ...l, publicKey: 'k', state: 'up' as const, mode: 'auto' as const, transport: 'udp' as const, rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0, transportSwitches: 0, drops: {} }))),
      rules: async () => (await reach(), [...this.rules]),
      deleteRule: async (id) => {
        await reach();
        this.rules = this.rules.filter((r) => r.id !== id);
      },
      deleteLink: async (name) => {
        await reach();
        this.links = this.links.filter((l) => l.name !== name);
      },
    };
  }
}

const plugin: VswitchPlugin = { events: [], start: () => {}, stop: () => {} };

function setup(hostNames = ['h1', 'h2']) {
  const clock = new ManualClock();
  const events: SwitchEvent[] = [];
  const proxy = new FakeDaemon('proxy');
  const hosts = new Map(hostNames.map((n) => [n, new FakeDaemon(n)]));
  const hostState = new Map(hostNames.map((n) => [n, 'up' as 'up' | 'down']));
  const registry = new PluginRegistry({
    clock,
    wallClock: () => 0,
    log: createLogger({ write: () => {} }),
    events: { emit: (e) => void events.push(e) },
    context: (name, actor) => ({ name, actor }) as unknown as PluginContext,
    places: { proxy: proxy.primitives(), hostNames: () => [...hosts.keys()], host: (n) => hosts.get(n)?.primitives() },
    countOwned: async (actors) => new Map(actors.map((a) => [a, { links: 0, rules: 0 }])),
    snapshot: () => snapshotOf([...hostState].map(([name, state]) => ({ name, state })), []),
  });
  /** h goes away (the Proxy no longer hears it) or comes back. */
  const setDown = (name: string, down: boolean) => {
    hosts.get(name)!.down = down;
    hostState.set(name, down ? 'down' : 'up');
  };
  /** One housekeeping step at `ms`, and whatever cleanup it started, settled. */
  const tickAt = async (ms: number) => {
    await clock.advance(ms - clock.now());
    registry.tick();
    await registry.cleanupsSettled();
  };
  /** The registry's own events of `name`, with their fields. */
  const raised = (name: string) => events.flatMap((e) => (e.type === 'plugin-event' && e.name === name ? [e.fields] : []));
  return { clock, raised, proxy, hosts, registry, setDown, tickAt };
}

describe('plugin cleanup on a host that does not answer', () => {
  it('is retried with backoff, and at once when the host comes back: what the plugin owned goes there too', async () => {
    const { hosts, raised, registry, setDown, tickAt } = setup();
    const [h1, h2] = [hosts.get('h1')!.own('proxy:policy:mod').own('proxy:ops'), hosts.get('h2')!.own('proxy:policy:mod')];
    await registry.addInProcess('mod', 'module', plugin, { enabled: true });
    setDown('h1', true);
    await tickAt(0);

    await registry.setEnabled('mod', false);
    expect(h2.owners()).toEqual([]);
    expect(h1.owners()).toContain('rule proxy:policy:mod'); // h1 did not answer

    // Backoff: 1 s, then 2 s, 4 s… while h1 stays away.
    const callsAt = async (ms: number) => (await tickAt(ms), h1.calls);
    const first = h1.calls;
    expect(await callsAt(CLEANUP_BACKOFF.firstMs - 1)).toBe(first);
    expect(await callsAt(CLEANUP_BACKOFF.firstMs)).toBe(first + 1);
    expect(await callsAt(CLEANUP_BACKOFF.firstMs + 2 * CLEANUP_BACKOFF.firstMs - 1)).toBe(first + 1);
    expect(await callsAt(CLEANUP_BACKOFF.firstMs + 2 * CLEANUP_BACKOFF.firstMs)).toBe(first + 2);

    // h1 comes back before the next retry is due: its cleanup runs on the next tick.
    setDown('h1', false);
    await tickAt(CLEANUP_BACKOFF.firstMs * 3 + 10);
    expect(h1.owners()).toEqual(['rule proxy:ops', 'link proxy:ops']);
    expect(registry.pendingCleanups()).toEqual([]);
    expect(raised('plugin-cleanup-done')).toEqual([{ plugin: 'mod', host: 'h1', attempts: 4, linksRemoved: 1, rulesRemoved: 1 }]);
  });

  it('keeps what is pending visible, oldest first, with its attempts and last error; backoff is capped', async () => {
    const { hosts, registry, setDown, tickAt } = setup();
    hosts.get('h1')!.own('proxy:policy:mod');
    await registry.addInProcess('mod', 'module', plugin, { enabled: true });
    setDown('h1', true);
    await tickAt(0);
    await registry.setEnabled('mod', false);
    expect(registry.pendingCleanups()).toEqual([
      { plugin: 'mod', actor: 'policy:mod', host: 'h1', attempts: 1, sinceMs: 0, nextAttemptMs: CLEANUP_BACKOFF.firstMs, lastError: expect.stringContaining('no link to host h1') },
    ]);
    let t = 0;
    for (let i = 0; i < 20; i++) await tickAt((t = registry.pendingCleanups()[0]!.nextAttemptMs));
    const [pending] = registry.pendingCleanups();
    expect(pending!.attempts).toBe(21);
    expect(pending!.nextAttemptMs - t).toBe(CLEANUP_BACKOFF.maxMs);
  });

  it('covers unregister and lease expiry of an HTTP policy too', async () => {
    const { hosts, registry, setDown, tickAt } = setup();
    const h1 = hosts.get('h1')!.own('proxy:policy:gone').own('proxy:policy:brief');
    await registry.register({ name: 'gone', events: [], leaseSeconds: 30 }, { name: 'ops' });
    await registry.register({ name: 'brief', events: [], leaseSeconds: 5 }, { name: 'ops' });
    setDown('h1', true);
    await tickAt(0);
    await registry.unregister('gone');
    await tickAt(6000); // brief's lease runs out: it expires, and h1 does not answer
    expect(registry.pendingCleanups().map((p) => `${p.plugin}@${p.host}`)).toEqual(['gone@h1', 'brief@h1']);
    setDown('h1', false);
    await tickAt(6500);
    expect(h1.owners()).toEqual([]);
    expect(registry.pendingCleanups()).toEqual([]);
  });

  it('is called off when the plugin is enabled again: it owns those again', async () => {
    const { hosts, registry, setDown, tickAt } = setup();
    const h1 = hosts.get('h1')!.own('proxy:policy:mod');
    await registry.addInProcess('mod', 'module', plugin, { enabled: true });
    setDown('h1', true);
    await tickAt(0);
    await registry.setEnabled('mod', false);
    await registry.setEnabled('mod', true);
    expect(registry.pendingCleanups()).toEqual([]);
    setDown('h1', false);
    await tickAt(5000);
    expect(h1.owners()).toEqual(['rule proxy:policy:mod', 'link proxy:policy:mod']);
  });

  it(`holds at most ${MAX_PENDING_CLEANUPS} pending cleanups: the oldest is dropped, and an event says which`, async () => {
    const names = Array.from({ length: MAX_PENDING_CLEANUPS + 2 }, (_, i) => `h${i + 1}`);
    const { hosts, raised, registry, setDown, tickAt } = setup(names);
    for (const n of names) hosts.get(n)!.own('proxy:policy:mod');
    await registry.addInProcess('mod', 'module', plugin, { enabled: true });
    for (const n of names) setDown(n, true);
    await tickAt(0);
    await registry.setEnabled('mod', false);
    const pending = registry.pendingCleanups();
    expect(pending).toHaveLength(MAX_PENDING_CLEANUPS);
    const dropped = raised('plugin-cleanup-dropped');
    expect(dropped).toHaveLength(2);
    expect(new Set([...pending.map((p) => p.host), ...dropped.map((d) => d.host)])).toEqual(new Set(names));
  });
});

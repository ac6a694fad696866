/**
 * The plugin registry raises its events (plugin-event, named as before: plugin-registered, -disabled, -enabled,
 * -expired, -unregistered, -failed, and plugin-loaded from the plugin host) on the sink it is given. Manual time.
 */
import { join } from 'node:path';
import { systemClock } from '../../../switch/clock.js';
import { describe, expect, it } from 'vitest';
import { startPluginHost } from '../../../plugins/host/on-proxy.js';
import { PluginRegistry } from '../../../plugins/host/registry.js';
import { EMPTY_SNAPSHOT } from '../../../plugins/host/overlay-watch.js';
import type { VswitchPlugin } from '../../../plugins/host/plugin.js';
import type { PluginOwnEvent, SwitchEvent } from '../../../switch/events.js';
import { createLogger } from '../../../switch/log.js';
import type { Primitives } from '../../../switch/overlay/primitives.js';

const nothing = { links: async () => [], rules: async () => [] } as unknown as Primitives;
/** Lets the entries' queues run (microtasks only: a plugin that throws at once never starts a timer). */
const drain = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function registry() {
  let nowMs = 0;
  const events: SwitchEvent[] = [];
  const log = createLogger({ write: () => {} });
  const clock = { ...systemClock, now: () => nowMs };
  const r = new PluginRegistry({
    clock,
    wallClock: () => 1_700_000_000_000 + nowMs,
    log,
    events: { emit: (e) => events.push(e) },
    context: (name, actor) => ({ name, actor, host: () => undefined, proxy: nothing, hosts: () => [], proxyLinks: () => [], proxyMacs: () => [], clock, log }),
    places: { proxy: nothing, hostNames: () => [], host: () => undefined },
    countOwned: async () => new Map(),
    snapshot: () => EMPTY_SNAPSHOT,
  });
  const named = () => (events as PluginOwnEvent[]).map((e) => [e.name, e.level, e.fields]);
  return { registry: r, named, advance: (ms: number) => (nowMs += ms) };
}

describe('the plugin registry raises its events', () => {
  it('a policy registered, disabled, enabled, expired; another unregistered', async () => {
    const { registry: r, named, advance } = registry();
    await r.register({ name: 'p', events: ['host'], leaseSeconds: 30 }, { name: 'admin' });
    await r.setEnabled('p', false);
    await r.setEnabled('p', true);
    await r.register({ name: 'q', events: ['link'], leaseSeconds: 300 }, { name: 'admin' });
    await r.unregister('q');
    advance(31_000);
    r.tick();
    await drain();
    expect(named()).toEqual([
      ['plugin-registered', 'info', { plugin: 'p', by: 'admin', events: 'host', delivery: 'sse' }],
      ['plugin-disabled', 'info', { plugin: 'p' }],
      ['plugin-enabled', 'info', { plugin: 'p' }],
      ['plugin-registered', 'info', { plugin: 'q', by: 'admin', events: 'link', delivery: 'sse' }],
      ['plugin-unregistered', 'info', { plugin: 'q', linksRemoved: 0, rulesRemoved: 0 }],
      ['plugin-expired', 'warn', { plugin: 'p', leaseSeconds: 30 }],
    ]);
    await r.stop();
  });

  it('plugin-failed (a warning) when an in-process plugin throws on too many events in a row', async () => {
    const { registry: r, named } = registry();
    const broken: VswitchPlugin = {
      events: ['host'],
      start: () => {},
      stop: () => {},
      onEvent: () => {
        throw new Error('bug');
      },
    };
    await r.addInProcess('broken', 'module', broken, { enabled: true });
    for (let i = 0; i < 12; i++) r.publish({ type: 'host', host: { name: `h${i}`, change: 'joined' } });
    await drain();
    expect(named()).toEqual([['plugin-failed', 'warn', { plugin: 'broken', errors: 10 }]]);
    await r.stop();
  });

  it('plugin-loaded when the plugin host loads a module from the config', async () => {
    const events: SwitchEvent[] = [];
    const module = join(import.meta.dirname, '../../../examples/log-events/plugin.mjs');
    const host = await startPluginHost({
      name: 'proxy',
      local: nothing,
      host: () => undefined,
      hosts: () => [],
      report: () => undefined,
      proxyLinks: () => [],
      proxyMacs: () => [],
      proxyRuleOwners: () => [],
      builtins: [],
      modules: [{ name: 'log-events', module, enabled: true, options: {} }],
      clock: { ...systemClock, now: () => 0 },
      wallClock: () => 0,
      log: createLogger({ write: () => {} }),
      events: { emit: (e) => events.push(e) },
    });
    await host.stop();
    expect(events).toEqual([{ type: 'plugin-event', name: 'plugin-loaded', level: 'info', message: expect.stringContaining('log-events'), fields: { plugin: 'log-events', module } }]);
  });
});

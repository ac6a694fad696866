/**
 * The fast-path plugin raises its own events (plugin-event, named as the dashboard shows them) on the sink it is
 * given: a link added, up (with the adaptation it completes), failed, refused. Manual time, primitives faked.
 */
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../switch/clock.js';
import { FastPath, type FastPathComponents } from '../../../plugins/fastpath/fastpath.js';
import type { PluginOwnEvent, SwitchEvent } from '../../../switch/events.js';
import type { LinkStatus } from '../../../switch/link/link-manager.js';
import { createLogger } from '../../../switch/log.js';
import type { LinkInput, Primitives } from '../../../switch/overlay/primitives.js';
import { linkStatus } from '../../support/link-status.js';

const MAC1 = '02:00:c6:13:01:01';
const MAC2 = '02:00:c6:13:02:01';
const key = (c: string) => `${c.repeat(42)}A=`;

const link = (name: string, state: 'up' | 'connecting', publicKey = key('B'), endpoint = 'udp:198.18.0.1:51820'): LinkStatus => linkStatus({ name, state, publicKey, endpoint });

function harness(opts: { refuse?: boolean } = {}) {
  let nowMs = 1000;
  const state = { up: false };
  const events: SwitchEvent[] = [];
  const made = new Map<string, string[]>();
  const primitivesOf = (host: string) =>
    ({
      addLink: async (l: LinkInput) => {
        if (opts.refuse) throw new Error('no route to host');
        made.set(host, [...(made.get(host) ?? []), l.name]);
        return link(l.name, 'connecting');
      },
      deleteLink: async () => undefined,
      links: async () => (made.get(host) ?? []).map((n) => link(n, state.up ? 'up' : 'connecting')),
      addRule: async () => ({ id: 1 }),
      deleteRule: async () => undefined,
    }) as unknown as Primitives;
  const components: FastPathComponents = {
    clock: { ...systemClock, now: () => nowMs },
    log: createLogger({ write: () => {} }),
    events: { emit: (e) => events.push(e) },
    subscribe: () => () => {},
    currentEdges: () => [{ a: MAC1, b: MAC2, intensity: 1 }],
    host: primitivesOf,
    proxyLinks: () => [link('h1', 'up', key('B'), 'udp:198.18.0.1:51820'), link('h2', 'up', key('C'), 'udp:198.18.0.2:51820')],
    listenPorts: () => ({ udp: 51820 }),
    proxyMacs: () => [
      { mac: MAC1, port: 'h1', static: false, ageS: 1 },
      { mac: MAC2, port: 'h2', static: false, ageS: 1 },
    ],
  };
  const named = () => (events as PluginOwnEvent[]).map((e) => [e.type, e.name, e.level, e.fields]);
  return { fastpath: new FastPath(components), state, named, advance: (ms: number) => (nowMs += ms) };
}

describe('the fast-path plugin raises its events', () => {
  it('fastpath-link-added, then fastpath-link-up and adaptation once both ends are up', async () => {
    const { fastpath, state, named, advance } = harness();
    await fastpath.reconcile();
    expect(named()).toEqual([['plugin-event', 'fastpath-link-added', 'info', { a: 'h1', b: 'h2' }]]);
    advance(500);
    state.up = true;
    await fastpath.tick();
    expect(named().slice(1)).toEqual([
      ['plugin-event', 'fastpath-link-up', 'info', { a: 'h1', b: 'h2', afterMs: 500 }],
      ['plugin-event', 'adaptation', 'info', { timeToAdaptMs: 500, links: 1 }],
    ]);
  });

  it('fastpath-link-failed (a warning) when a link never comes up', async () => {
    const { fastpath, named, advance } = harness();
    await fastpath.reconcile();
    advance(10_000);
    await fastpath.tick();
    expect(named()).toContainEqual(['plugin-event', 'fastpath-link-failed', 'warn', { a: 'h1', b: 'h2', reason: 'not up in time' }]);
  });

  it('fastpath-link-refused (a warning) when a host will not make the link', async () => {
    const { fastpath, named } = harness({ refuse: true });
    await fastpath.reconcile();
    expect(named()[0]).toEqual(['plugin-event', 'fastpath-link-refused', 'warn', { a: 'h1', b: 'h2', error: 'no route to host' }]);
  });
});

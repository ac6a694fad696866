/**
 * The fast-path plugin through NATs: a pair with a host behind a NAT (no endpoint in the Proxy's config) is a punch.
 * Both ends are given the other's observed endpoint; the link has 5 s to come up (an open pair 10 s); a failed punch
 * keeps the pair on the star with both NAT kinds said (status, event), backing off twice as long per failure in a row.
 * Manual time; the hosts' primitives faked (their links come up when the test says so).
 */
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../switch/clock.js';
import { FastPath, type FastPathComponents } from '../../../plugins/fastpath/fastpath.js';
import type { PluginOwnEvent, SwitchEvent } from '../../../switch/events.js';
import type { LinkStatus } from '../../../switch/link/link-manager.js';
import { createLogger } from '../../../switch/log.js';
import type { NatKind } from '../../../switch/overlay/nat-kind.js';
import type { LinkInput, Primitives } from '../../../switch/overlay/primitives.js';
import { linkStatus } from '../../support/link-status.js';

const MAC1 = '02:00:c6:13:01:01';
const MAC2 = '02:00:c6:13:02:01';
const key = (c: string) => `${c.repeat(42)}A=`;
const BACKOFF_MS = 30_000;

function harness(nat: Record<string, NatKind> | undefined, observed: Record<string, string>, slowAddMs = 0) {
  let nowMs = 1000;
  const state = { up: false };
  const events: SwitchEvent[] = [];
  const added: { host: string; link: LinkInput }[] = [];
  const made = new Map<string, string[]>();
  const link = (name: string, up: boolean, publicKey = key('B'), endpoint?: string): LinkStatus => linkStatus({ name, state: up ? 'up' : 'connecting', publicKey, ...(endpoint ? { endpoint } : {}) });
  const primitivesOf = (host: string) =>
    ({
      addLink: async (l: LinkInput) => {
        nowMs += slowAddMs; // a relayed add-link over a busy star link
        added.push({ host, link: l });
        made.set(host, [...(made.get(host) ?? []), l.name]);
        return link(l.name, false);
      },
      deleteLink: async (name: string) => void made.set(host, (made.get(host) ?? []).filter((n) => n !== name)),
      links: async () => (made.get(host) ?? []).map((n) => link(n, state.up)),
      addRule: async () => ({ id: 1 }),
      deleteRule: async () => undefined,
      rules: async () => [],
    }) as unknown as Primitives;
  const components: FastPathComponents = {
    clock: { ...systemClock, now: () => nowMs },
    log: createLogger({ write: () => {} }),
    events: { emit: (e) => events.push(e) },
    subscribe: () => () => {},
    currentEdges: () => [{ a: MAC1, b: MAC2, intensity: 1 }],
    host: primitivesOf,
    proxyLinks: () => [link('h1', true, key('B'), observed['h1']), link('h2', true, key('C'), observed['h2'])],
    listenPorts: () => ({ udp: 51820 }),
    proxyMacs: () => [
      { mac: MAC1, port: 'h1', static: false, ageS: 1 },
      { mac: MAC2, port: 'h2', static: false, ageS: 1 },
    ],
    ...(nat ? { reachability: (host: string) => (nat[host] ? { nat: nat[host], ...(observed[host] ? { observedEndpoint: observed[host] } : {}) } : undefined) } : {}),
  };
  const named = (name: string) => (events as PluginOwnEvent[]).filter((e) => e.name === name).map((e) => e.fields);
  const fastpath = new FastPath(components, { unreachableBackoffMs: BACKOFF_MS });
  return { fastpath, state, added, named, advance: (ms: number) => (nowMs += ms), now: () => nowMs };
}

const CONE = { h1: 'udp:198.18.0.1:51820', h2: 'udp:198.18.0.2:51820' };

describe('fast paths through NATs', () => {
  it('dials each end at the other end’s observed endpoint, and says the punch worked once both ends are up', async () => {
    const { fastpath, state, added, named, advance } = harness({ h1: 'port-preserving', h2: 'port-preserving' }, CONE);
    await fastpath.reconcile();
    expect(added.map((a) => [a.host, a.link.endpoint]).sort()).toEqual([
      ['h1', '198.18.0.2:51820'],
      ['h2', '198.18.0.1:51820'],
    ]);
    expect(fastpath.status().punches).toEqual([{ a: 'h1', b: 'h2', natA: 'port-preserving', natB: 'port-preserving', state: 'punching', attempts: 1, failures: 0 }]);
    advance(800);
    state.up = true;
    await fastpath.tick();
    expect(named('fastpath-punched')).toEqual([{ a: 'h1', b: 'h2', natA: 'port-preserving', natB: 'port-preserving', afterMs: 800, attempts: 1 }]);
    const status = fastpath.status();
    expect(status.punches[0]).toMatchObject({ state: 'direct', lastTimeToDirectMs: 800 });
    expect(status.counters).toMatchObject({ punches: 1, punchFailures: 0 });
    expect(status.links[0]).toMatchObject({ state: 'up', rules: 2 });

    // The NAT forgets the mapping later (the link goes down): the pair is no longer direct, and is not a failed punch.
    state.up = false;
    advance(1000);
    await fastpath.tick();
    expect(named('fastpath-link-failed')).toEqual([{ a: 'h1', b: 'h2', reason: 'down' }]);
    expect(fastpath.status().punches).toEqual([]);
    expect(fastpath.status().counters.punchFailures).toBe(0);
  });

  it('a punch with no handshake in 5 s fails: the pair stays on the star, the NAT kinds said, the backoff doubling', async () => {
    const { fastpath, named, advance, now } = harness({ h1: 'port-changing', h2: 'port-changing' }, { h1: 'udp:198.18.0.1:27860', h2: 'udp:198.18.0.2:15109' });
    await fastpath.reconcile();
    advance(4000);
    await fastpath.tick();
    expect(named('fastpath-punch-failed')).toEqual([]);
    advance(1000);
    await fastpath.tick();
    expect(named('fastpath-punch-failed')).toEqual([{ a: 'h1', b: 'h2', natA: 'port-changing', natB: 'port-changing', attempts: 1, failures: 1, retryInMs: BACKOFF_MS }]);
    expect(named('fastpath-link-failed')).toEqual([{ a: 'h1', b: 'h2', reason: 'punch-failed' }]);
    let status = fastpath.status();
    expect(status.links).toEqual([]);
    expect(status.unreachable).toEqual([{ a: 'h1', b: 'h2', untilMs: now() + BACKOFF_MS }]);
    expect(status.punches).toEqual([{ a: 'h1', b: 'h2', natA: 'port-changing', natB: 'port-changing', state: 'punch-failed', attempts: 1, failures: 1, retryAtMs: now() + BACKOFF_MS }]);
    expect(status.counters).toMatchObject({ rulesAdded: 0, punches: 0, punchFailures: 1 });

    // Not retried inside the backoff; retried after it, and a second failure backs off twice as long.
    advance(BACKOFF_MS - 1000);
    await fastpath.tick();
    expect(fastpath.status().punches[0]?.attempts).toBe(1);
    advance(1000);
    await fastpath.tick();
    expect(fastpath.status().punches[0]).toMatchObject({ state: 'punching', attempts: 2 });
    advance(5000);
    await fastpath.tick();
    status = fastpath.status();
    expect(status.punches[0]).toMatchObject({ state: 'punch-failed', attempts: 2, failures: 2, retryAtMs: now() + 2 * BACKOFF_MS });
    expect(status.unreachable).toEqual([{ a: 'h1', b: 'h2', untilMs: now() + 2 * BACKOFF_MS }]);
  });

  it('the 5 s count from both ends made, not from the reconcile (relayed add-links may be slow)', async () => {
    const { fastpath, named, advance } = harness({ h1: 'port-preserving', h2: 'port-preserving' }, CONE, 1500);
    await fastpath.reconcile(); // both ends added 3 s after the reconcile began
    advance(4000);
    await fastpath.tick();
    expect(named('fastpath-punch-failed')).toEqual([]);
    advance(1000);
    await fastpath.tick();
    expect(named('fastpath-punch-failed')).toHaveLength(1);
  });

  it('an open pair is no punch: 10 s to come up, as before', async () => {
    const { fastpath, named, advance } = harness({ h1: 'open', h2: 'open' }, CONE);
    await fastpath.reconcile();
    advance(5000);
    await fastpath.tick();
    expect(fastpath.status().links).toHaveLength(1);
    expect(fastpath.status().punches).toEqual([]);
    advance(5000);
    await fastpath.tick();
    expect(named('fastpath-link-failed')).toEqual([{ a: 'h1', b: 'h2', reason: 'not up in time' }]);
    expect(named('fastpath-punch-failed')).toEqual([]);
  });

  it('without reachability (no hosts view) every host counts as open', async () => {
    const { fastpath } = harness(undefined, CONE);
    await fastpath.reconcile();
    expect(fastpath.status().punches).toEqual([]);
  });

  it('one NATed end is enough to make it a punch (open ↔ port-changing)', async () => {
    const { fastpath, state, named, advance } = harness({ h1: 'open', h2: 'port-changing' }, { h1: 'udp:198.18.0.1:51820', h2: 'udp:198.18.0.2:15109' });
    await fastpath.reconcile();
    advance(1200);
    state.up = true;
    await fastpath.tick();
    expect(named('fastpath-punched')).toEqual([{ a: 'h1', b: 'h2', natA: 'open', natB: 'port-changing', afterMs: 1200, attempts: 1 }]);
  });
});

/**
 * Only the active Proxy's plugins act (issue 19 part 3): the fast-path plugin plans (its reconciles) and the
 * registry delivers events (a probe plugin hears them) on the active Proxy only; a standby's are idle until it
 * wins, and go idle again when it steps down. Real Daemons in memory, a memory etcd, one ManualClock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BUILTIN_PLUGINS } from '../../plugins/builtin.js';
import type { FastPath } from '../../plugins/fastpath/fastpath.js';
import type { PluginEvent, VswitchPlugin } from '../../plugins/host/plugin.js';
import type { AnyDaemonPlugin } from '../../plugins/plugin.js';
import { HOSTS, haOverlay, type HaOverlay } from '../support/ha-overlay.js';

/** An in-process plugin that only notes the events it is handed. */
class Probe implements VswitchPlugin {
  readonly events = ['host', 'link'] as const;
  readonly heard: PluginEvent[] = [];
  start(): void {}
  stop(): void {}
  onEvent(event: PluginEvent): void {
    this.heard.push(event);
  }
}

const probePlugin: AnyDaemonPlugin = {
  name: 'probe',
  description: 'notes the events it hears',
  start(ctx) {
    if (ctx.proxy === undefined) return undefined;
    const probe = new Probe();
    return { exports: probe, adaptation: { plugin: probe, enabled: true }, stop() {} };
  },
};

let current: HaOverlay | undefined;
afterEach(async () => {
  await current?.stop();
  current = undefined;
});

const probe = (o: HaOverlay, p: string) => o.daemons.get(p)!.pluginExports('probe') as Probe;
const reconciles = (o: HaOverlay, p: string) => (o.daemons.get(p)!.pluginExports('fastpath') as FastPath).status().counters.reconciles;
const role = (o: HaOverlay, p: string) => o.daemons.get(p)!.status().ha?.election?.role;

describe('Proxy HA: a standby\'s plugins are idle', () => {
  it('the active one\'s plugins plan and hear events, the standby\'s do not; after a takeover the reverse', async () => {
    const o = (current = await haOverlay({ plugins: [...BUILTIN_PLUGINS, probePlugin] }));
    await o.until(() => HOSTS.every((h) => o.daemons.get(h)!.status().ha?.following?.active === 'p1'), 3000, 'hosts follow p1');
    await o.clock.advance(3000);
    expect([role(o, 'p1'), role(o, 'p2')]).toEqual(['active', 'standby']);
    // The active one: the hosts joining were events, and its fast path plans every second.
    expect(probe(o, 'p1').heard.some((e) => e.type === 'host')).toBe(true);
    expect(reconciles(o, 'p1')).toBeGreaterThan(2);
    // The standby saw the same hosts join (they link to both) and heard nothing of it; it planned nothing.
    expect(probe(o, 'p2').heard).toEqual([]);
    expect(reconciles(o, 'p2')).toBe(0);

    // p1 is cut from etcd: p2 wins. p1 keeps believing (no election without etcd), and acts on.
    o.etcd.get('p1')!.cut = true;
    await o.until(() => role(o, 'p2') === 'active', 5000, 'p2 wins');
    await o.clock.advance(10);
    // Winning, p2's plugins hear what is now (the hosts, the links) and its fast path plans at once.
    expect(probe(o, 'p2').heard.filter((e) => e.type === 'host').map((e) => (e as { host?: { name: string } }).host?.name).sort()).toEqual(HOSTS);
    expect(reconciles(o, 'p2')).toBeGreaterThan(0);

    // p1 reaches etcd again and steps down: its plugins go idle.
    o.etcd.get('p1')!.cut = false;
    await o.until(() => role(o, 'p1') === 'standby', 2000, 'p1 steps down');
    await o.clock.advance(10);
    const p1Heard = probe(o, 'p1').heard.length;
    const p1Reconciles = reconciles(o, 'p1');
    const p2Heard = probe(o, 'p2').heard.length;
    const p2Reconciles = reconciles(o, 'p2');
    // Something happens that both Proxies see: h2 goes away (its links to both go down).
    await o.daemons.get('h2')!.stop();
    o.daemons.delete('h2');
    await o.clock.advance(15_000);
    expect(probe(o, 'p1').heard.length).toBe(p1Heard);
    expect(reconciles(o, 'p1')).toBe(p1Reconciles);
    expect(probe(o, 'p2').heard.length).toBeGreaterThan(p2Heard);
    expect(reconciles(o, 'p2')).toBeGreaterThan(p2Reconciles + 10);
  });
});

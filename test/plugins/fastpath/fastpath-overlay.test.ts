/**
 * The fast-path plugin across real Daemons over in-memory ports and transports: a Proxy and three hosts. VM
 * traffic between h1 and h2 → VTTIF (fast settings) → the plugin adds the h1–h2 link and a rule on each end
 * (owner proxy:fastpath) → frames take the fast link (rule hits) → an operator deletes one end of the link → the
 * plugin removes the rules at once and frames flow via the Proxy again. Also: ownership of links and rules.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { apiRequest } from '../../../api/cli/client.js';
import type { FastPathStatus } from '../../../plugins/fastpath/fastpath.js';
import type { Daemon } from '../../../daemon/daemon.js';
import { ethernetFrame } from '../../support/frames.js';
import { startMemoryOverlay, vmMac, type MemoryOverlay } from '../../support/memory-overlay.js';

const running: MemoryOverlay[] = [];
afterEach(async () => {
  while (running.length) await running.pop()!.stop();
});

const VTTIF = 'vttif: { updateRateHz: 20, smoothingMs: 200, threshold: 0.1 }';

async function overlay(fastpathYaml = 'fastpath: { enabled: true, removeAfterMs: 2000 }'): Promise<MemoryOverlay> {
  const started = await startMemoryOverlay({ proxyYaml: `${VTTIF}\n${fastpathYaml}`, hostYaml: VTTIF });
  running.push(started);
  return started;
}

/** h1's VM and h2's VM talk both ways; h3 is silent. */
function talk(o: MemoryOverlay): () => void {
  const timer = o.clock.every(10, () => {
    o.ports.get('tap-h1v1')!.inject([ethernetFrame({ src: vmMac('h1'), dst: vmMac('h2'), payloadBytes: 1000 })]);
    o.ports.get('tap-h2v1')!.inject([ethernetFrame({ src: vmMac('h2'), dst: vmMac('h1'), payloadBytes: 1000 })]);
  });
  return () => timer.cancel();
}

const fastRules = async (d: Daemon) => (await d.primitives.rules()).filter((r) => r.owner === 'proxy:fastpath');

describe('the fast-path plugin in the daemons', () => {
  it('adds a fast link for talking VMs, moves their frames onto it, and falls back to the star when it breaks', async () => {
    const o = await overlay();
    const { proxy, hosts, ports, api, until } = o;
    const h1 = hosts.get('h1')!;
    const h2 = hosts.get('h2')!;
    const stop = talk(o);
    try {
      await until(async () => (await fastRules(h1)).length === 1 && (await fastRules(h2)).length === 1, 8000);
      expect(await fastRules(h1)).toEqual([expect.objectContaining({ src: vmMac('h1'), dst: vmMac('h2'), target: 'fp-h2' })]);
      expect((await h1.primitives.links()).find((l) => l.name === 'fp-h2')).toMatchObject({ owner: 'proxy:fastpath', state: 'up' });
      expect(await fastRules(hosts.get('h3')!)).toEqual([]);
      const status = await apiRequest<FastPathStatus>(api, 'GET', '/v1/plugins/fastpath/status');
      expect(status.links).toEqual([expect.objectContaining({ a: 'h1', b: 'h2', state: 'up', rules: 2 })]);
      expect(status.timings.lastTimeToAdaptMs).toBeGreaterThanOrEqual(0);

      // Frames take the fast link: its rule counts them, the Proxy stops seeing them.
      await until(async () => ((await fastRules(h1))[0]?.hitFrames ?? 0) > 20, 2000);
      const proxyRx = () => proxy.portStatuses().find((p) => p.name === 'h1')!.rxFrames;
      const before = proxyRx();
      await o.clock.advance(300);
      expect(proxyRx() - before).toBeLessThan(10); // heartbeats and reports only, ~30 frames of VM traffic went by

      // An operator deletes h2's end: the plugin sees it at its next watch, removes the rules, then the link.
      await h2.primitives.deleteLink('fp-h1', { name: 'local' });
      await until(async () => (await fastRules(h1)).length === 0, 3000);
      await until(async () => !(await h1.primitives.links()).some((l) => l.name === 'fp-h2'), 2000);
      const reached = ports.get('tap-h2v1')!.sent.length;
      await until(() => ports.get('tap-h2v1')!.sent.length > reached + 10, 2000); // via the Proxy
      const after = await apiRequest<FastPathStatus>(api, 'GET', '/v1/plugins/fastpath/status');
      expect(after.counters.linkFailures).toBe(1);
      expect(after.unreachable).toEqual([expect.objectContaining({ a: 'h1', b: 'h2' })]);
      expect(after.links).toEqual([]);
    } finally {
      stop();
    }
  }, 20_000);

  it('dials the fast path of a host whose star runs over TCP at the UDP port that host listens on', async () => {
    // h2 listens for links on UDP 51999 and reaches the Proxy over TCP: the Proxy hears it from an ephemeral TCP port.
    const started = await startMemoryOverlay({
      proxyYaml: `${VTTIF}\nfastpath: { enabled: true, removeAfterMs: 2000 }`,
      hostYaml: (h) => `${VTTIF}${h === 'h2' ? '\nlisten: { udp: "0.0.0.0:51999" }' : ''}`,
      proxyPeerYaml: (h) => (h === 'h2' ? 'transport: tcp' : 'transport: auto'),
    });
    running.push(started);
    const { proxy, hosts, until } = started;
    const h1 = hosts.get('h1')!;
    const h1Udp = started.transports('h1').find((t) => t.kind === 'udp')!;
    expect(proxy.linkStatuses().find((l) => l.name === 'h2')?.endpoint).toMatch(/^tcp:198\.18\.0\.2:/);
    await until(() => proxy.overlay?.report('h2')?.listen?.udp === 51999, 3000, 'h2 reports its listen ports');
    expect(proxy.overlay!.report('h1')!.listen).toEqual({ udp: 51820, tcp: 51820 });
    const stop = talk(started);
    try {
      await until(async () => (await fastRules(h1)).length === 1 && (await fastRules(hosts.get('h2')!)).length === 1, 8000);
      expect((await h1.primitives.links()).find((l) => l.name === 'fp-h2')).toMatchObject({ state: 'up', transport: 'udp', endpoint: 'udp:198.18.0.2:51999' });
      // h1 dialed h2 where it listens: nothing it sent went to a UDP port nobody listens on (h2's answer to a
      // handshake of h2's own would bring the link up anyway, by roaming, hiding a wrong dial).
      expect(h1Udp.stats().drops.unreachable ?? 0).toBe(0);
    } finally {
      stop();
    }
  }, 20_000);

  it('removes its links once the traffic has gone (hysteresis), and all of them when disabled', async () => {
    const o = await overlay('fastpath: { enabled: true, removeAfterMs: 500 }');
    const { hosts, api, until } = o;
    const h1 = hosts.get('h1')!;
    const stop = talk(o);
    await until(async () => (await fastRules(h1)).length === 1, 8000);
    stop();
    await until(async () => !(await h1.primitives.links()).some((l) => l.name === 'fp-h2'), 6000);
    expect(await fastRules(h1)).toEqual([]);

    const stop2 = talk(o);
    try {
      await until(async () => (await fastRules(h1)).length === 1, 8000);
      const disabled = await apiRequest<FastPathStatus>(api, 'PUT', '/v1/plugins/fastpath/settings', { enabled: false });
      expect(disabled.settings.enabled).toBe(false);
      expect(disabled.links).toEqual([]);
      expect(await fastRules(h1)).toEqual([]);
      expect((await h1.primitives.links()).map((l) => l.name)).toEqual(['proxy']);
    } finally {
      stop2();
    }
  }, 25_000);

  it('a policy may delete only its own links and rules; an operator may delete anything', async () => {
    const { hosts } = await overlay('fastpath: { enabled: false }');
    const h1 = hosts.get('h1')!;
    const star = (await h1.primitives.rules())[0]!;
    await expect(h1.primitives.deleteRule(star.id, { name: 'proxy:fastpath' })).rejects.toMatchObject({ code: 'conflict' });
    await expect(h1.primitives.deleteLink('proxy', { name: 'fastpath' })).rejects.toMatchObject({ code: 'conflict' });
    const own = await h1.primitives.addRule({ src: vmMac('h1'), dst: vmMac('h3'), target: 'proxy' }, { name: 'proxy:fastpath' });
    await h1.primitives.deleteRule(own.id, { name: 'proxy:fastpath' });
    const theirs = await h1.primitives.addRule({ src: vmMac('h1'), dst: vmMac('h3'), target: 'proxy' }, { name: 'proxy:fastpath' });
    await h1.primitives.deleteRule(theirs.id, { name: 'local' });
    expect((await h1.primitives.links())[0]).toMatchObject({ name: 'proxy', owner: 'config' });
  });

  it('says 400 for a bad parameter and changes nothing', async () => {
    const { api } = await overlay('fastpath: { enabled: false }');
    await expect(apiRequest(api, 'PUT', '/v1/plugins/fastpath/settings', { maxLinksPerHost: -1 })).rejects.toMatchObject({ status: 400 });
    await expect(apiRequest(api, 'PUT', '/v1/plugins/fastpath/settings', { bogus: 1 })).rejects.toMatchObject({ status: 400 });
    const status = await apiRequest<FastPathStatus>(api, 'GET', '/v1/plugins/fastpath/status');
    expect(status.settings).toMatchObject({ enabled: false, maxLinksPerHost: 7 });
  });
});

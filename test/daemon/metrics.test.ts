/**
 * GET /metrics of real Daemons (a Proxy and a host in one process, over memory ports and transports): each serves
 * its own series from its own registry, and the counters follow the traffic at the next scrape.
 */
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { apiRequest } from '../../api/cli/client.js';
import { arpRequest, mac } from '../support/frames.js';
import { startMemoryOverlay, type MemoryOverlay } from '../support/memory-overlay.js';

const parsePrometheus = createRequire(import.meta.url)('parse-prometheus-text-format') as (
  text: string,
) => { name: string; metrics: { value: string; labels?: Record<string, string> }[] }[];

const running: MemoryOverlay[] = [];
afterEach(async () => {
  while (running.length) await running.pop()!.stop();
});

async function scrape(o: MemoryOverlay, daemon: string) {
  const text = await apiRequest<string>({ base: `unix:${o.dir}/${daemon}.sock` }, 'GET', '/metrics');
  const families = parsePrometheus(text);
  return (name: string, labels: Record<string, string> = {}) =>
    families.find((f) => f.name === name)?.metrics.filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v)) ?? [];
}

describe('GET /metrics of a daemon', () => {
  it("shows each daemon's own identity, links and ports, though both run in one process", async () => {
    const o = await startMemoryOverlay({ hosts: ['h1'] });
    running.push(o);
    await o.until(() => o.proxy.overlay!.hosts().every((h) => h.state === 'up') && o.hosts.get('h1')!.status().star?.alive === true, 5000, 'star up');
    const [proxy, host] = [await scrape(o, 'proxy'), await scrape(o, 'h1')];
    expect(proxy('vswitch_info').map((m) => m.labels)).toEqual([{ name: 'proxy', role: 'proxy', version: expect.any(String) }]);
    expect(host('vswitch_info').map((m) => m.labels?.['name'])).toEqual(['h1']);
    expect(proxy('vswitch_link_up').map((m) => [m.labels?.['link'], m.value])).toEqual([['h1', '1']]);
    expect(host('vswitch_link_up').map((m) => [m.labels?.['link'], m.value])).toEqual([['proxy', '1']]);
    expect(host('vswitch_port_up', { port: 'tap-h1v1' }).map((m) => m.value)).toEqual(['1']);
    expect(proxy('vswitch_port_up', { port: 'tap-h1v1' })).toEqual([]);
    expect(proxy('vswitch_host_up').map((m) => [m.labels?.['host'], m.value])).toEqual([['h1', '1']]);
    expect(host('vswitch_star_up').map((m) => [m.labels?.['link'], m.value])).toEqual([['proxy', '1']]);
    expect(proxy('vswitch_star_up')).toEqual([]);
  });

  it('tells a silent Proxy from a current session: star down on the host while its link is still up', async () => {
    const o = await startMemoryOverlay({ hosts: ['h1'] });
    running.push(o);
    await o.until(() => o.hosts.get('h1')!.status().star?.alive === true, 5000, 'star up');
    await o.proxy.stop();
    await o.until(() => o.hosts.get('h1')!.status().star?.alive === false, 10_000, 'the host notices');
    const host = await scrape(o, 'h1');
    expect(host('vswitch_star_up', { link: 'proxy' }).map((m) => m.value)).toEqual(['0']);
    expect(host('vswitch_link_up', { link: 'proxy' }).map((m) => m.value)).toEqual(['1']); // the session is still current
    expect(Number(host('vswitch_star_silent_seconds', { link: 'proxy' })[0]?.value)).toBeGreaterThanOrEqual(3);
  });

  it('moves the port, link and rule counters with the traffic, at the next scrape', async () => {
    const o = await startMemoryOverlay({ hosts: ['h1'] });
    running.push(o);
    await o.until(() => o.proxy.status().links.every((l) => l.state === 'up'), 5000, 'star up');
    const figures = async () => {
      const host = await scrape(o, 'h1');
      const proxy = await scrape(o, 'proxy');
      return {
        vmRx: Number(host('vswitch_port_rx_frames_total', { port: 'tap-h1v1' })[0]?.value),
        hostLinkTx: Number(host('vswitch_link_tx_bytes_total', { link: 'proxy' })[0]?.value),
        proxyLinkRx: Number(proxy('vswitch_link_rx_bytes_total', { link: 'h1' })[0]?.value),
        defaultRule: Number(host('vswitch_rule_hit_frames_total', { owner: 'star' })[0]?.value),
      };
    };
    const before = await figures();
    o.ports.get('tap-h1v1')!.inject(Array.from({ length: 5 }, () => arpRequest(mac('02:00:c6:13:01:01'), '198.19.1.1', '198.19.2.1')));
    await o.clock.advance(20);
    const after = await figures();
    expect(after.vmRx - before.vmRx).toBe(5);
    expect(after.hostLinkTx - before.hostLinkTx).toBeGreaterThanOrEqual(5 * 42);
    expect(after.proxyLinkRx - before.proxyLinkRx).toBeGreaterThanOrEqual(5 * 42);
    expect(after.defaultRule).toBeGreaterThanOrEqual(before.defaultRule);
  });
});

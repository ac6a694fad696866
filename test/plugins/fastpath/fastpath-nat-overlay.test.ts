/**
 * The fast-path plugin's punch across real Daemons (memory ports and transports, manual clock): the Proxy's config
 * gives h1 and h2 no endpoint, as for hosts behind NAT, so it only hears them; their VMs talk, and the plugin makes
 * their fast link a punch (both NAT kinds port-preserving, from the hosts view), each end dialed at the other's
 * observed endpoint. The memory transport has no NAT, so this shows the wiring and the success path; the NATs
 * themselves are test/e2e/nat-traversal.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { apiRequest } from '../../../api/cli/client.js';
import type { FastPathStatus } from '../../../plugins/fastpath/fastpath.js';
import { ethernetFrame } from '../../support/frames.js';
import { startMemoryOverlay, vmMac, type MemoryOverlay } from '../../support/memory-overlay.js';

const running: MemoryOverlay[] = [];
afterEach(async () => {
  while (running.length) await running.pop()!.stop();
});

const VTTIF = 'vttif: { updateRateHz: 20, smoothingMs: 200, threshold: 0.1 }';

describe('fast paths between dial-out hosts', () => {
  it('are punches: each end dialed at the other’s observed endpoint, direct once both are up', async () => {
    const o = await startMemoryOverlay({ proxyYaml: `${VTTIF}\nfastpath: { enabled: true }`, hostYaml: VTTIF, dialOutHosts: ['h1', 'h2'] });
    running.push(o);
    // The NAT kinds need each host's first report (its listen port): a link added before it counts them unknown.
    const hosts = () => apiRequest<{ hosts: { nat?: string }[] }>(o.api, 'GET', '/v1/hosts');
    await o.until(async () => (await hosts()).hosts.every((h) => h.nat !== 'unknown'), 10_000, 'every host reported');
    const timer = o.clock.every(10, () => {
      o.ports.get('tap-h1v1')!.inject([ethernetFrame({ src: vmMac('h1'), dst: vmMac('h2'), payloadBytes: 500 })]);
      o.ports.get('tap-h2v1')!.inject([ethernetFrame({ src: vmMac('h2'), dst: vmMac('h1'), payloadBytes: 500 })]);
    });
    try {
      const status = () => apiRequest<FastPathStatus>(o.api, 'GET', '/v1/plugins/fastpath/status');
      await o.until(async () => (await status()).punches.some((p) => p.state === 'direct'), 10_000, 'h1–h2 direct');
      const s = await status();
      expect(s.punches).toEqual([expect.objectContaining({ a: 'h1', b: 'h2', natA: 'port-preserving', natB: 'port-preserving', state: 'direct', attempts: 1, failures: 0 })]);
      expect(s.counters).toMatchObject({ punches: 1, punchFailures: 0 });
      const h1Link = (await o.hosts.get('h1')!.primitives.links()).find((l) => l.name === 'fp-h2');
      expect(h1Link).toMatchObject({ state: 'up', endpoint: 'udp:198.18.0.2:51820' });
    } finally {
      timer.cancel();
    }
  }, 20_000);
});

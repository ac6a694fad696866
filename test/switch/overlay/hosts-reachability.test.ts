/**
 * The Proxy's hosts view says where it hears each host (its star link's endpoint) and what that says of reaching
 * it: a host its config gives an endpoint is open; one it gives none (a host behind NAT dials out) is heard at the
 * port it listens on, so port-preserving — real daemons over memory transports, on a manual clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { apiRequest } from '../../../api/cli/client.js';
import type { HostSummary } from '../../../switch/overlay/overlay.js';
import { startMemoryOverlay, type MemoryOverlay } from '../../support/memory-overlay.js';

const running: MemoryOverlay[] = [];
afterEach(async () => {
  while (running.length) await running.pop()!.stop();
});

describe("the Proxy's hosts view", () => {
  it('says open for a host with a configured endpoint, port-preserving for one heard where it listens', async () => {
    const overlay = await startMemoryOverlay({ hosts: ['h1', 'h2'], dialOutHosts: ['h2'] });
    running.push(overlay);
    const hostsNow = async () => new Map((await apiRequest<{ hosts: HostSummary[] }>(overlay.api, 'GET', '/v1/hosts')).hosts.map((h) => [h.name, h]));
    // The NAT kind needs the host's first report (its listen port); until then it is unknown.
    await overlay.until(async () => (await hostsNow()).get('h2')?.nat !== 'unknown', 10_000, "h2's report");
    const hosts = await hostsNow();
    expect(hosts.get('h1')).toMatchObject({ nat: 'open', observedEndpoint: expect.stringMatching(/^udp:198\.18\.0\.1:51820$/) });
    expect(hosts.get('h2')).toMatchObject({ nat: 'port-preserving', observedEndpoint: expect.stringMatching(/^udp:198\.18\.0\.2:51820$/) });
  });
});

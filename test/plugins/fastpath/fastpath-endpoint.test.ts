/**
 * Where the fast-path plugin dials a fast path: the Proxy's link to each host gives its underlay address, and the
 * host's report its listen ports. Over a TCP star the Proxy hears the host from an ephemeral TCP port, which says
 * nothing about the host's UDP port: the fast path must go to the UDP port the host listens on (`listen.udp`),
 * not to 51820.
 */
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../switch/clock.js';
import { FastPath, underlayEndpoint, type FastPathComponents } from '../../../plugins/fastpath/fastpath.js';
import type { LinkStatus, ListenPorts } from '../../../switch/link/link-manager.js';
import { createLogger } from '../../../switch/log.js';
import type { LinkInput, Primitives } from '../../../switch/overlay/primitives.js';
import { linkStatus } from '../../support/link-status.js';

const MAC1 = '02:00:c6:13:01:01';
const MAC2 = '02:00:c6:13:02:01';
const key = (c: string) => `${c.repeat(42)}A=`;

const proxyLink = (name: string, publicKey: string, endpoint: string): LinkStatus => linkStatus({ name, publicKey, endpoint });

/** h1's star runs over UDP (default port), h2's over TCP (heard from an ephemeral port); `listen` is what each reported. */
function harness(listen: Record<string, ListenPorts | undefined>) {
  const added: { host: string; link: LinkInput }[] = [];
  const primitivesOf = (host: string) =>
    ({
      addLink: async (link: LinkInput) => {
        added.push({ host, link });
        return proxyLink(link.name, link.publicKey, `udp:${link.endpoint}`);
      },
      deleteLink: async () => undefined,
      links: async () => [],
      addRule: async () => ({ id: 1 }),
      deleteRule: async () => undefined,
    }) as unknown as Primitives;
  const components: FastPathComponents = {
    clock: { ...systemClock, now: () => 1000 },
    log: createLogger({ write: () => {} }),
    subscribe: () => () => {},
    currentEdges: () => [{ a: MAC1, b: MAC2, intensity: 1 }],
    host: primitivesOf,
    proxyLinks: () => [proxyLink('h1', key('B'), 'udp:198.18.0.1:51820'), proxyLink('h2', key('C'), 'tcp:198.18.0.2:49153#4')],
    listenPorts: (host) => listen[host],
    proxyMacs: () => [
      { mac: MAC1, port: 'h1', static: false, ageS: 1 },
      { mac: MAC2, port: 'h2', static: false, ageS: 1 },
    ],
  };
  return { fastpath: new FastPath(components), added };
}

describe('the fast-path endpoint of a host whose star runs over TCP', () => {
  it('is its reported UDP listen port, not 51820', async () => {
    const { fastpath, added } = harness({ h1: { udp: 51820 }, h2: { udp: 51999 } });
    await fastpath.reconcile();
    expect(added.map((a) => [a.host, a.link.name, a.link.endpoint, a.link.tcpEndpoint])).toEqual([
      ['h1', 'fp-h2', '198.18.0.2:51999', undefined],
      ['h2', 'fp-h1', '198.18.0.1:51820', undefined],
    ]);
    expect(fastpath.status().counters.linksAdded).toBe(1);
  });

  it('falls back to TCP at its reported TCP listen port, when it listens on one', async () => {
    const { fastpath, added } = harness({ h1: { udp: 51820 }, h2: { udp: 51999, tcp: 8443 } });
    await fastpath.reconcile();
    expect(added.find((a) => a.host === 'h1')?.link).toMatchObject({ endpoint: '198.18.0.2:51999', tcpEndpoint: '198.18.0.2:8443' });
  });

  it('keeps the address as heard over UDP (a NAT may map the port), and 51820 when the host has not reported yet', () => {
    expect(underlayEndpoint('udp:203.0.113.5:40001#2', { udp: 51999 })).toBe('203.0.113.5:40001');
    expect(underlayEndpoint('tcp:198.18.0.2:49153#4', undefined)).toBe('198.18.0.2:51820');
    expect(underlayEndpoint('tcp:[fd00::2]:49153', { udp: 51999 })).toBe('[fd00::2]:51999');
  });
});

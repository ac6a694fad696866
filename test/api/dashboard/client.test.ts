import { describe, expect, it } from 'vitest';
import { edgesOf, formatRate, layoutOverlay, RING_RX, RING_RY } from '../../../api/dashboard/client.js';
import type { DashboardHost, DashboardLink, DashboardSnapshot } from '../../../api/dashboard/snapshot.js';

const link = (peer: string, extra: Partial<DashboardLink> = {}): DashboardLink => ({
  peer,
  state: 'up',
  transport: 'udp',
  mode: 'auto',
  rxBytes: 100,
  txBytes: 50,
  ...extra,
});

const host = (name: string, links: DashboardLink[], vms = 1): DashboardHost => ({
  name,
  state: 'up',
  vms: Array.from({ length: vms }, (_, i) => ({ port: `tap-${name}v${i + 1}`, kind: 'tap', state: 'up' as const, macs: [], rxBytes: 0, txBytes: 0 })),
  links,
  rules: [],
});

/** A Proxy and 4 hosts on the star, with one fast path h1–h2 (over TCP). */
const proxySnapshot: DashboardSnapshot = {
  at: '2026-01-01T00:00:00.000Z',
  self: { name: 'proxy', role: 'proxy', version: '0.1.0', uptimeS: 10 },
  links: ['h1', 'h2', 'h3', 'h4'].map((h) => link(h)),
  hosts: [
    host('h1', [link('proxy'), link('h2', { transport: 'tcp' })]),
    host('h2', [link('proxy'), link('h1', { transport: 'tcp' })]),
    host('h3', [link('proxy')]),
    host('h4', [link('proxy', { state: 'connecting' })], 2),
  ],
  truncated: false,
};

// The SSE parser the client uses is the CLI's too: tested in test/api/wire/sse-parser.test.ts.
describe('the dashboard client: pure parts', () => {
  it('edgesOf: every link once; links to the centre are star links, host-to-host ones fast paths', () => {
    const edges = edgesOf(proxySnapshot);
    expect(edges).toHaveLength(5);
    expect(edges.filter((e) => e.kind === 'star').map((e) => e.b).sort()).toEqual(['h1', 'h2', 'h3', 'h4']);
    const fast = edges.filter((e) => e.kind === 'fastpath');
    expect(fast).toEqual([expect.objectContaining({ key: 'h1|h2', transport: 'tcp', state: 'up', bytes: 150 })]);
  });

  it('layoutOverlay: the Proxy in the centre, 4 hosts on a circle, each host\'s VMs beside it', () => {
    const nodes = layoutOverlay(proxySnapshot);
    const proxy = nodes.find((n) => n.kind === 'proxy')!;
    expect(proxy).toMatchObject({ id: 'proxy', x: 500, y: 320 });
    const hosts = nodes.filter((n) => n.kind === 'host');
    expect(hosts.map((n) => n.id)).toEqual(['h1', 'h2', 'h3', 'h4']);
    const dist = hosts.map((h) => Math.hypot((h.x - proxy.x) / RING_RX, (h.y - proxy.y) / RING_RY));
    for (const d of dist) expect(d).toBeCloseTo(1, 6);
    const vms = nodes.filter((n) => n.kind === 'vm');
    expect(vms.map((v) => v.id)).toEqual(['h1/tap-h1v1', 'h2/tap-h2v1', 'h3/tap-h3v1', 'h4/tap-h4v1', 'h4/tap-h4v2']);
    for (const n of nodes) {
      expect(n.x).toBeGreaterThanOrEqual(0);
      expect(n.x).toBeLessThanOrEqual(1000);
      expect(n.y).toBeGreaterThanOrEqual(0);
      expect(n.y).toBeLessThanOrEqual(640);
    }
  });

  it('formatRate: bits per second with SI units', () => {
    expect(formatRate(0)).toBe('0 b/s');
    expect(formatRate(999)).toBe('999 b/s');
    expect(formatRate(1_500)).toBe('1.5 kb/s');
    expect(formatRate(250_000_000)).toBe('250 Mb/s');
  });
});

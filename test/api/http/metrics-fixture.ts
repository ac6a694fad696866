/**
 * A daemon snapshot with something in every family of /metrics (ports, drops, links with and without a handshake,
 * the star, refusals, the offload, rules, plugins, hosts): what test/api/http/metrics.test.ts scrapes.
 */
import type { MetricsSnapshot } from '../../../api/http/metrics.js';
import type { Status } from '../../../api/wire/schemas.js';

export const STATUS: Status = {
  name: 'h1',
  role: 'host',
  version: '0.1.0',
  uptimeS: 12.5,
  ports: [
    { name: 'tap-h1v1', kind: 'tap', state: 'up', rxFrames: 10, rxBytes: 1000, txFrames: 9, txBytes: 900, drops: { runt: 2, 'source-zero': 1 }, owner: 'config' },
    { name: 'proxy', kind: 'link', state: 'down', lastError: 'x', rxFrames: 0, rxBytes: 0, txFrames: 0, txBytes: 0, drops: {}, owner: 'config' },
  ],
  links: [
    {
      name: 'proxy',
      publicKey: 'k',
      state: 'up',
      mode: 'auto',
      transport: 'tcp',
      endpoint: 'tcp:198.18.1.1:51820#3',
      lastHandshakeAt: '2026-11-25T10:00:00.000Z',
      rxBytes: 5,
      txBytes: 6,
      rxPackets: 1,
      txPackets: 2,
      transportSwitches: 1,
      drops: { 'bad-packet-auth': 4 },
    },
    { name: 'h2', publicKey: 'k2', state: 'connecting', mode: 'udp', transport: 'udp', rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0, transportSwitches: 0, drops: {} },
  ],
  macTable: { entries: 2, learned: 3, expired: 1, evicted: 0, moved: 1 },
  star: { proxy: 'proxy', alive: false, silentS: 4.2, reconnects: 2 },
  refused: { underlay: { 'bad-mac1': 3, 'tcp:tcp-per-ip-limit': 1 }, control: { 'report-invalid': 2 } },
  offload: { enabled: true, txHits: 40, txMisses: 3, txPunts: 1, rxHits: 38, rxPunts: 2, installs: 2, flushes: 1, flows: 2 },
};

export const SNAPSHOT: MetricsSnapshot = {
  status: STATUS,
  rules: [{ id: 7, src: 'any', dst: 'none', target: 'proxy', priority: 0, owner: 'star', hitFrames: 4, hitBytes: 400 }],
  nowMs: Date.parse('2026-11-25T10:00:30.000Z'),
  hosts: [{ name: 'h2', state: 'up', interfaces: 1, links: 1, rules: 1 }, { name: 'h3', state: 'down', interfaces: 0, links: 0, rules: 0 }],
  plugins: [{ name: 'pin', kind: 'http', state: 'running', counters: { delivered: 12, dropped: 1, errors: 0, requests: 40, rateLimited: 3 } }],
};

import { describe, expect, it } from 'vitest';
import { formatAgo, formatDrops, formatHosts, formatLinks, formatRules } from '../../../api/cli/tables.js';

const NOW = Date.parse('2030-01-01T00:00:10Z');

describe('CLI tables', () => {
  it('aligns rule columns', () => {
    const text = formatRules([
      { id: 1, src: 'any', dst: 'none', target: 'uplink', priority: 0, owner: 'config', hitFrames: 12, hitBytes: 900 },
      { id: 12, src: '02:00:00:00:00:0a', dst: 'any', target: 'p2', priority: -5, owner: 'ops', hitFrames: 0, hitBytes: 0 },
    ]);
    const lines = text.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]!.indexOf('DST')).toBe(lines[2]!.indexOf('any'));
    expect(lines[2]).toMatch(/^12\s+02:00:00:00:00:0a\s+any\s+p2\s+-5\s+ops\s+0\s+0$/);
  });

  it('shows link transport, endpoint and handshake age', () => {
    const text = formatLinks(
      [
        { name: 'h2', publicKey: 'k', state: 'up', mode: 'auto', transport: 'tcp', endpoint: 'tcp:198.18.0.2:443', lastHandshakeAt: '2030-01-01T00:00:07Z', rxBytes: 1, txBytes: 2, rxPackets: 1, txPackets: 1, transportSwitches: 1, drops: { 'bad-mac': 2, replay: 0 } },
        { name: 'h3', publicKey: 'k', state: 'connecting', mode: 'udp', transport: 'udp', rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0, transportSwitches: 0, drops: {} },
      ],
      NOW,
    );
    expect(text).toMatch(/h2\s+up\s+tcp \(auto\)\s+tcp:198\.18\.0\.2:443\s+3 s ago\s+1\s+2\s+bad-mac=2/);
    expect(text).toMatch(/h3\s+connecting\s+udp\s+-\s+never/);
  });

  it('lists hosts with report ages', () => {
    expect(formatHosts([{ name: 'h1', state: 'down', lastReportAt: '2030-01-01T00:00:00Z', interfaces: 2, links: 1, rules: 4 }], NOW)).toMatch(/h1\s+down\s+never\s+10 s ago\s+2\s+1\s+4/);
  });

  it('formats drops and ages', () => {
    expect(formatDrops({})).toBe('-');
    expect(formatDrops({ runt: 1, oversize: 0, 'no-route': 3 })).toBe('runt=1,no-route=3');
    expect(formatAgo(undefined, NOW)).toBe('never');
  });
});

describe('formatPlugins', () => {
  it('shows kind, state, actor, events, what it owns and its counters', async () => {
    const { formatPlugins } = await import('../../../api/cli/plugins.js');
    const text = formatPlugins([
      { name: 'fastpath', kind: 'builtin', enabled: true, state: 'running', actor: 'fastpath', events: ['app-topology'], counters: { delivered: 3, dropped: 0, errors: 0, requests: 0, rateLimited: 0 }, owns: { links: 2, rules: 4 }, lastError: null },
      { name: 'pin', kind: 'http', delivery: { type: 'webhook', url: 'http://x' }, enabled: false, state: 'disabled', actor: 'policy:pin', events: [], counters: { delivered: 0, dropped: 1, errors: 2, requests: 5, rateLimited: 0 }, owns: { links: 0, rules: 0 }, lastError: 'webhook answered HTTP 500' },
    ]);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^PLUGIN\s+KIND\s+STATE\s+ACTOR\s+EVENTS\s+OWNS/);
    expect(lines[1]).toMatch(/^fastpath\s+builtin\s+running\s+fastpath\s+app-topology\s+2 links, 4 rules\s+3\s+0\s+0\s+-$/);
    expect(lines[2]).toMatch(/^pin\s+http \(webhook\)\s+disabled\s+policy:pin\s+-\s+0 links, 0 rules\s+0\s+1\s+2\s+webhook answered HTTP 500$/);
  });
});

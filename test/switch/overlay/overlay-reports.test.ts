/**
 * The Proxy's side of hosts' reports, on one Overlay with a stand-in for its LinkManager: a malformed report is
 * refused and counted, and the host's last good report stays.
 */
import { describe, expect, it } from 'vitest';
import type { LinkManager } from '../../../switch/link/link-manager.js';
import { ManualClock } from '../../../switch/clock.js';
import { createLogger } from '../../../switch/log.js';
import type { LocalPrimitives } from '../../../switch/overlay/local-primitives.js';
import { Overlay } from '../../../switch/overlay/overlay.js';
import { linkStatus } from '../../support/link-status.js';

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

function proxyOverlay(hosts: string[]) {
  const links = {
    status: () => hosts.map((name) => ({ name, state: 'up' })),
    sendControl: () => true,
    connectPeer: () => {},
  } as unknown as LinkManager;
  return new Overlay({
    role: 'proxy',
    name: 'proxy',
    links,
    primitives: {} as LocalPrimitives,
    clock: new ManualClock(),
    wallClock: () => 1_700_000_000_000,
    log: createLogger({ write: () => {} }),
  });
}

const link = linkStatus({ name: 'proxy', rxBytes: 1, txBytes: 2, rxPackets: 3, txPackets: 4 });
const good = { t: 'report', name: 'h1', interfaces: [], links: [link], rules: [] };

describe('Overlay (Proxy): hosts reports', () => {
  it('refuses a report with a null link, a huge string or wrong types, counts it, and keeps the last good one', () => {
    const overlay = proxyOverlay(['h1']);
    overlay.onControl('h1', json(good));
    expect(overlay.report('h1')).toEqual(good);
    for (const bad of [
      { ...good, links: [null] },
      { ...good, links: [{ ...link, name: 'x'.repeat(40_000) }] },
      { ...good, rules: 'none' },
      { ...good, interfaces: [{ name: 1 }] },
    ]) {
      overlay.onControl('h1', json(bad));
    }
    expect(overlay.report('h1')).toEqual(good);
    expect(overlay.channel.malformed).toEqual({ 'report-invalid': 4 });
    // What the plugin registry reads every second stays safe to read.
    expect(overlay.report('h1')!.links.map((l) => l.name)).toEqual(['proxy']);
  });
});

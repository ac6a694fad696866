/**
 * Fast paths through NATs (issue 19) on the lab: 5 hosts × 1 VM; h1 open, h2 and h3 behind cone NATs (port-preserving
 * masquerade), h4 and h5 behind symmetric ones (a random port per destination). The Proxy hears each NATed host where
 * its NAT maps it, and says so in its hosts view. With the fast-path plugin enabled:
 *   - cone ↔ cone (h2–h3): both ends are given the other's observed endpoint and handshake at once: a direct link
 *     forms, and the Proxy's star links carry none of the pair's traffic afterwards;
 *   - open ↔ cone (h1–h2) and open ↔ symmetric (h1–h4): direct too (the NATed end's handshake reaches the open one);
 *   - symmetric ↔ symmetric (h4–h5) and cone ↔ symmetric (h3–h5): the punch fails (no port prediction), the plugin
 *     marks the pairs punch-failed with their NAT kinds and an event, and their VMs still talk over the star.
 * Run it with its own lab: VSWITCH_LAB_NS=vs-nt- VSWITCH_LAB_DIR=/run/vswitch-lab-nt.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastPathStatus } from '../../plugins/fastpath/fastpath.js';
import type { PunchView } from '../../plugins/fastpath/punch.js';
import type { HostSummary } from '../../switch/overlay/overlay.js';
import { lab, labApi, labDownSync, labExec, labNs, replayedEvents, requireRoot, vmIp } from './support/lab.js';
import { waitFor } from './support/netns.js';

const fastpath = (): FastPathStatus => labApi<FastPathStatus>('proxy', 'GET', '/v1/plugins/fastpath/status');
const punchOf = (a: string, b: string): PunchView | undefined => fastpath().punches.find((p) => p.a === a && p.b === b);
const fastLinkUp = (a: string, b: string): boolean => fastpath().links.some((l) => l.a === a && l.b === b && l.state === 'up' && l.rules === 2);

/** Frames the Proxy's switch received over its star links to these hosts. */
function starFrames(hosts: string[]): number {
  const { interfaces } = labApi<{ interfaces: { name: string; kind: string; rxFrames: number }[] }>('proxy', 'GET', '/v1/interfaces');
  return interfaces.filter((i) => i.kind === 'link' && hosts.includes(i.name)).reduce((sum, i) => sum + i.rxFrames, 0);
}

const starHosts = (): HostSummary[] => labApi<{ hosts: HostSummary[] }>('proxy', 'GET', '/v1/hosts').hosts;

/** Waits like waitFor; on a timeout the error carries the plugin's status and the hosts view (what went wrong). */
async function waitOrSay(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  try {
    await waitFor(check, timeoutMs, what);
  } catch (err) {
    const status = fastpath();
    throw new Error(`${(err as Error).message}: punches ${JSON.stringify(status.punches)} links ${JSON.stringify(status.links)} unreachable ${JSON.stringify(status.unreachable)} hosts ${JSON.stringify(starHosts())}`);
  }
}

const pingers: ChildProcess[] = [];
/** VM hAv1 pings hBv1 until the test ends. */
function keepPinging(a: number, b: number): void {
  pingers.push(spawn('ip', ['netns', 'exec', labNs(`h${a}v1`), 'ping', '-q', '-i', '0.05', vmIp(b, 1)], { stdio: 'ignore' }));
}

describe('fast paths through NATs', () => {
  beforeAll(async () => {
    requireRoot();
    labDownSync();
    await lab('up', '--hosts', '5', '--vms-per-host', '1', '--nat', 'h2,h3', '--nat-symmetric', 'h4,h5');
    // A star that came up over TCP (a loaded machine: the first UDP handshakes unanswered) moves back to UDP within a
    // probe or two; the Proxy hears a host's NAT mapping only over UDP.
    await waitFor(() => starHosts().every((h) => h.state === 'up' && h.observedEndpoint?.startsWith('udp:') && h.nat !== 'unknown'), 60_000, 'every star link up over UDP, reported');
    labApi('proxy', 'PUT', '/v1/plugins/fastpath/settings', { enabled: true });
  }, 180_000);
  afterAll(() => {
    for (const p of pingers) p.kill();
    labDownSync();
  });

  it('the Proxy hears each host where its NAT maps it, and says what that says of the NAT', () => {
    const hosts = new Map(starHosts().map((h) => [h.name, h]));
    expect(hosts.get('h1')).toMatchObject({ nat: 'open', observedEndpoint: 'udp:198.18.0.1:51820' });
    expect(hosts.get('h2')).toMatchObject({ nat: 'port-preserving', observedEndpoint: 'udp:198.18.0.2:51820' });
    expect(hosts.get('h3')).toMatchObject({ nat: 'port-preserving', observedEndpoint: 'udp:198.18.0.3:51820' });
    for (const h of ['h4', 'h5']) {
      expect(hosts.get(h)?.nat).toBe('port-changing');
      expect(hosts.get(h)?.observedEndpoint).toMatch(new RegExp(`^udp:198\\.18\\.0\\.${h.slice(1)}:\\d+$`));
    }
  });

  it('cone ↔ cone: a direct link forms, and the Proxy relays none of the pair’s traffic after it', async () => {
    const startMs = Date.now();
    keepPinging(2, 3);
    await waitOrSay(() => fastLinkUp('h2', 'h3'), 30_000, 'a fast link h2–h3 up with its rules');
    const toDirectMs = Date.now() - startMs;
    expect(punchOf('h2', 'h3')).toMatchObject({ natA: 'port-preserving', natB: 'port-preserving', state: 'direct', failures: 0 });
    // 20 pings a second each way: over 3 s the star would see ~120 frames of the pair; ARP may still go there.
    const before = starFrames(['h2', 'h3']);
    const h2Before = labApi<{ links: { name: string; rxPackets: number }[] }>('h2', 'GET', '/v1/links').links.find((l) => l.name === 'fp-h3')!.rxPackets;
    await new Promise((r) => setTimeout(r, 3000));
    const relayed = starFrames(['h2', 'h3']) - before;
    const h2After = labApi<{ links: { name: string; rxPackets: number }[] }>('h2', 'GET', '/v1/links').links.find((l) => l.name === 'fp-h3')!.rxPackets;
    expect(relayed).toBeLessThan(5);
    expect(h2After - h2Before).toBeGreaterThan(40);
    console.log(`nat-traversal: cone–cone direct after ${toDirectMs} ms from the first ping; the star relayed ${relayed} frames of the pair in 3 s`);
  }, 60_000);

  it('open ↔ cone and open ↔ symmetric: direct too', async () => {
    const startMs = Date.now();
    keepPinging(1, 2);
    keepPinging(1, 4);
    await waitOrSay(() => fastLinkUp('h1', 'h2') && fastLinkUp('h1', 'h4'), 30_000, 'fast links h1–h2 and h1–h4 up with their rules');
    expect(punchOf('h1', 'h2')).toMatchObject({ natA: 'open', natB: 'port-preserving', state: 'direct' });
    expect(punchOf('h1', 'h4')).toMatchObject({ natA: 'open', natB: 'port-changing', state: 'direct' });
    console.log(`nat-traversal: open–cone and open–symmetric direct after ${Date.now() - startMs} ms from the first ping`);
  }, 60_000);

  it('symmetric ↔ symmetric and cone ↔ symmetric: the punch fails, the pairs stay on the star, and still talk', async () => {
    keepPinging(4, 5);
    keepPinging(3, 5);
    await waitOrSay(() => punchOf('h4', 'h5')?.state === 'punch-failed' && punchOf('h3', 'h5')?.state === 'punch-failed', 40_000, 'h4–h5 and h3–h5 punch-failed');
    expect(punchOf('h4', 'h5')).toMatchObject({ natA: 'port-changing', natB: 'port-changing', failures: 1 });
    expect(punchOf('h3', 'h5')).toMatchObject({ natA: 'port-preserving', natB: 'port-changing', failures: 1 });
    const failed = replayedEvents('proxy').filter((e) => e.event === 'fastpath-punch-failed');
    expect(failed.length).toBeGreaterThanOrEqual(2);
    // No fast-path rule toward h5 anywhere: the pairs are on the star, and their VMs still reach each other.
    for (const h of ['h3', 'h4', 'h5']) {
      const { rules } = labApi<{ rules: { owner?: string; target: string }[] }>(h, 'GET', '/v1/rules');
      expect(rules.filter((r) => r.target === 'fp-h5' || (h === 'h5' && (r.target === 'fp-h4' || r.target === 'fp-h3')))).toEqual([]);
    }
    for (const [a, b] of [
      [4, 5],
      [3, 5],
    ] as const) {
      const r = labExec(`h${a}v1`, ['ping', '-c', '10', '-i', '0.1', '-W', '1', vmIp(b, 1)]);
      expect(r.code, r.stdout).toBe(0);
    }
  }, 90_000);
});

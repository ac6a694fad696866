/**
 * NoiseDevice.noteOffloadedTraffic: packets a keypair's slot sealed or opened outside the device (the
 * addon's flow offload) must leave the device's counters and timers where sending/receiving them through
 * the device would have: keepalive after data received with nothing sent, a new handshake after data sent
 * with nothing received, nothing when both flowed.
 */
import { describe, expect, it } from 'vitest';
import type { Peer } from '../../../../switch/link/noise/peer.js';
import { Pair } from './harness.js';

const INITIATION = 1;
const TRANSPORT = 4;
const KEEPALIVE_BYTES = 32;

function established(): { p: Pair; index: number } {
  const p = new Pair();
  p.establish();
  p.advance(30_000); // let the handshake's own keepalive timers run out
  p.clearLogs();
  const current = p.dev.a.keypairsOf(p.peer.a).current;
  if (current === undefined) throw new Error('no session');
  return { p, index: current.localIndex };
}

const none = { txPackets: 0, txBytes: 0, lastTxMs: 0, rxPackets: 0, rxBytes: 0, lastRxMs: 0 };

describe('NoiseDevice: traffic reported by an offloaded keypair', () => {
  it('counts it on the peer, and ignores an index with no keypair', () => {
    const { p, index } = established();
    const before = { ...p.peer.a.stats };
    const peer = p.dev.a.noteOffloadedTraffic(index, { ...none, txPackets: 3, txBytes: 300, lastTxMs: p.nowMs, rxPackets: 2, rxBytes: 224, lastRxMs: p.nowMs }, p.nowMs);
    expect(peer).toBe(p.peer.a);
    expect(p.peer.a.stats.txPackets - before.txPackets).toBe(3);
    expect(p.peer.a.stats.txBytes - before.txBytes).toBe(300);
    expect(p.peer.a.stats.rxPackets - before.rxPackets).toBe(2);
    expect(p.peer.a.stats.rxBytes - before.rxBytes).toBe(224);
    expect(p.dev.a.noteOffloadedTraffic(index ^ 1, { ...none, txPackets: 1, lastTxMs: p.nowMs }, p.nowMs)).toBeUndefined();
  });

  it('data sent with nothing received starts a new handshake after Keepalive + Rekey-Timeout (+ jitter)', () => {
    const { p, index } = established();
    p.linkUp.a = false; // watch the decision only
    p.dev.a.noteOffloadedTraffic(index, { ...none, txPackets: 5, txBytes: 500, lastTxMs: p.nowMs - 50 }, p.nowMs);
    p.advance(14_900);
    expect(p.sentOfType('a', INITIATION)).toHaveLength(0);
    p.advance(500);
    expect(p.sentOfType('a', INITIATION)).toHaveLength(1);
  });

  it('data received with nothing sent back is answered by a keepalive after Keepalive-Timeout (10 s)', () => {
    const { p, index } = established();
    p.dev.a.noteOffloadedTraffic(index, { ...none, rxPackets: 4, rxBytes: 400, lastRxMs: p.nowMs }, p.nowMs);
    p.advance(9_900);
    expect(p.sentOfType('a', TRANSPORT)).toHaveLength(0);
    p.advance(200);
    const sent = p.sentOfType('a', TRANSPORT);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.bytes.length).toBe(KEEPALIVE_BYTES);
  });

  it('a request sent and its answer received natively: a passive keepalive later, no new handshake', () => {
    const { p, index } = established();
    p.linkUp.a = false;
    const t = p.nowMs;
    // The order of the last events decides: sent at t − 80, answered at t − 79 (then nothing is sent back).
    p.dev.a.noteOffloadedTraffic(index, { txPackets: 1, txBytes: 100, lastTxMs: t - 80, rxPackets: 1, rxBytes: 112, lastRxMs: t - 79 }, t);
    p.advance(60_000);
    expect(p.sentOfType('a', INITIATION)).toHaveLength(0);
    expect(p.sentOfType('a', TRANSPORT).map((s) => s.bytes.length)).toEqual([KEEPALIVE_BYTES]);
  });

  it('arms the same timers as the device does for the same packets', () => {
    const armed = (p: Pair) => {
      const d = (p.peer.a as Peer).timers.deadlines;
      return Object.fromEntries(Object.entries(d).map(([k, v]) => [k, v !== undefined]));
    };
    for (const order of ['received-then-sent', 'sent-then-received'] as const) {
      const viaDevice = established();
      const viaOffload = established();
      const t = viaOffload.p.nowMs;
      if (order === 'received-then-sent') {
        viaDevice.p.send('b', new Uint8Array([1, 2, 3]));
        viaDevice.p.linkUp.a = false;
        viaDevice.p.send('a', new Uint8Array([4, 5, 6]));
        viaOffload.p.dev.a.noteOffloadedTraffic(viaOffload.index, { txPackets: 1, txBytes: 3, lastTxMs: t, rxPackets: 1, rxBytes: 16, lastRxMs: t - 1 }, t);
      } else {
        viaDevice.p.linkUp.b = false;
        viaDevice.p.send('a', new Uint8Array([4, 5, 6]));
        viaDevice.p.linkUp.b = true;
        viaDevice.p.linkUp.a = false;
        viaDevice.p.send('b', new Uint8Array([1, 2, 3]));
        viaOffload.p.dev.a.noteOffloadedTraffic(viaOffload.index, { txPackets: 1, txBytes: 3, lastTxMs: t - 1, rxPackets: 1, rxBytes: 16, lastRxMs: t }, t);
      }
      expect(armed(viaOffload.p), order).toEqual(armed(viaDevice.p));
    }
  });
});

import { describe, expect, it } from 'vitest';
import {
  createTransportSelector,
  FALLBACK_AFTER_MS,
  UDP_PROBE_INTERVAL_MS,
} from '../../../../switch/link/transport/transport-selector.js';

const auto = () => createTransportSelector({ mode: 'auto' });

/** Drives an auto selector onto TCP through unanswered UDP handshakes at t=0. */
function onTcp() {
  const selector = auto();
  selector.handshakeSent(0);
  selector.tick(FALLBACK_AFTER_MS);
  return selector;
}

describe('TransportSelector', () => {
  it('defaults: fallback within 5 s, probes every 10–15 s', () => {
    expect(FALLBACK_AFTER_MS).toBeLessThanOrEqual(5000);
    expect(UDP_PROBE_INTERVAL_MS).toBeGreaterThanOrEqual(10_000);
    expect(UDP_PROBE_INTERVAL_MS).toBeLessThanOrEqual(15_000);
  });

  it('fixed modes never move and never probe', () => {
    for (const mode of ['udp', 'tcp'] as const) {
      const selector = createTransportSelector({ mode });
      expect(selector.handshakeSent(0)).toBeUndefined();
      expect(selector.tick(60_000)).toBeUndefined();
      expect(selector.authenticatedPacket(mode === 'udp' ? 'tcp' : 'udp', 60_000)).toBeUndefined();
      expect(selector.handshakeAnswered(mode === 'udp' ? 'tcp' : 'udp', 60_000)).toBeUndefined();
      expect(selector.current()).toBe(mode);
      expect(selector.shouldProbeUdp(120_000)).toBe(false);
      expect(selector.nextDeadlineMs()).toBeUndefined();
    }
  });

  it('a cookie reply over UDP is an answer: the fallback clock starts again at the next initiation', () => {
    const selector = auto();
    selector.handshakeSent(0);
    expect(selector.cookieReplied('udp', 100)).toBeUndefined();
    expect(selector.nextDeadlineMs()).toBeUndefined();
    expect(selector.tick(FALLBACK_AFTER_MS)).toBeUndefined(); // busy, not silent: it stays on UDP
    expect(selector.current()).toBe('udp');
    selector.handshakeSent(5_000); // the retry with mac2 (Rekey-Timeout later)
    expect(selector.tick(5_000 + FALLBACK_AFTER_MS - 1)).toBeUndefined();
    expect(selector.tick(5_000 + FALLBACK_AFTER_MS)).toMatchObject({ to: 'tcp', reason: 'udp-unanswered' });
  });

  it('a cookie reply moves no link: not over TCP, not back from TCP', () => {
    const udp = auto();
    udp.handshakeSent(0);
    udp.cookieReplied('tcp', 100);
    expect(udp.tick(FALLBACK_AFTER_MS)).toMatchObject({ to: 'tcp', reason: 'udp-unanswered' });
    const tcp = onTcp();
    expect(tcp.cookieReplied('udp', FALLBACK_AFTER_MS + 1)).toBeUndefined();
    expect(tcp.current()).toBe('tcp');
  });

  it('auto starts on UDP with nothing pending', () => {
    const selector = auto();
    expect(selector.current()).toBe('udp');
    expect(selector.nextDeadlineMs()).toBeUndefined();
    expect(selector.tick(1e9)).toBeUndefined();
  });

  it('UDP → TCP when handshakes go unanswered for FALLBACK_AFTER_MS after the first one', () => {
    const selector = auto();
    selector.handshakeSent(1000);
    expect(selector.nextDeadlineMs()).toBe(1000 + FALLBACK_AFTER_MS);
    // Retransmissions do not restart the clock.
    selector.handshakeSent(3000);
    expect(selector.nextDeadlineMs()).toBe(1000 + FALLBACK_AFTER_MS);
    expect(selector.tick(1000 + FALLBACK_AFTER_MS - 1)).toBeUndefined();
    expect(selector.current()).toBe('udp');
    expect(selector.tick(1000 + FALLBACK_AFTER_MS)).toEqual({
      from: 'udp',
      to: 'tcp',
      reason: 'udp-unanswered',
      atMs: 1000 + FALLBACK_AFTER_MS,
    });
    expect(selector.current()).toBe('tcp');
    expect(selector.snapshot()).toMatchObject({ switches: 1, udpUnansweredSinceMs: undefined });
  });

  it('the fallback also fires from the next input when no tick came', () => {
    const selector = auto();
    selector.handshakeSent(0);
    expect(selector.handshakeSent(4500)).toMatchObject({ to: 'tcp', reason: 'udp-unanswered' });
    expect(selector.current()).toBe('tcp');
  });

  it('an answer over UDP stops the fallback clock; a later handshake starts it afresh', () => {
    const selector = auto();
    selector.handshakeSent(0);
    expect(selector.handshakeAnswered('udp', 100)).toBeUndefined();
    expect(selector.nextDeadlineMs()).toBeUndefined();
    expect(selector.tick(10_000)).toBeUndefined();
    selector.handshakeSent(120_000);
    expect(selector.tick(120_000 + FALLBACK_AFTER_MS)).toMatchObject({ to: 'tcp' });
  });

  it('an answer arriving after the deadline but before any tick keeps UDP', () => {
    const selector = auto();
    selector.handshakeSent(0);
    expect(selector.handshakeAnswered('udp', FALLBACK_AFTER_MS + 10)).toBeUndefined();
    expect(selector.current()).toBe('udp');
  });

  it('a new UDP endpoint alone does not stop the fallback clock; data over UDP does (the peer is alive there: load, not a firewall)', () => {
    const selector = auto();
    selector.handshakeSent(0);
    expect(selector.authenticatedPacket('udp', 1000)).toBeUndefined();
    expect(selector.tick(FALLBACK_AFTER_MS)).toMatchObject({ to: 'tcp' });

    const loaded = auto();
    loaded.handshakeSent(0);
    expect(loaded.dataOverUdp(1000)).toBeUndefined();
    expect(loaded.tick(FALLBACK_AFTER_MS)).toBeUndefined();
    expect(loaded.current()).toBe('udp');
    expect(loaded.nextDeadlineMs()).toBeUndefined();
    // The next unanswered initiation starts the clock afresh: data that stops coming does not hold UDP.
    loaded.handshakeSent(FALLBACK_AFTER_MS + 100);
    expect(loaded.tick(2 * FALLBACK_AFTER_MS + 100)).toMatchObject({ to: 'tcp', reason: 'udp-unanswered' });
  });

  it('data over UDP moves no link back from TCP (only an answer or a new endpoint does) and means nothing in fixed modes', () => {
    const selector = onTcp();
    expect(selector.dataOverUdp(FALLBACK_AFTER_MS + 10)).toBeUndefined();
    expect(selector.current()).toBe('tcp');
    const fixed = createTransportSelector({ mode: 'udp' });
    fixed.handshakeSent(0);
    expect(fixed.dataOverUdp(10)).toBeUndefined();
  });

  it('on TCP: probes UDP every UDP_PROBE_INTERVAL_MS, counted from entering TCP and then from each probe', () => {
    const selector = onTcp();
    const entered = FALLBACK_AFTER_MS;
    expect(selector.nextDeadlineMs()).toBe(entered + UDP_PROBE_INTERVAL_MS);
    expect(selector.shouldProbeUdp(entered + UDP_PROBE_INTERVAL_MS - 1)).toBe(false);
    expect(selector.shouldProbeUdp(entered + UDP_PROBE_INTERVAL_MS)).toBe(true);
    const probeAt = entered + UDP_PROBE_INTERVAL_MS + 5;
    expect(selector.handshakeSent(probeAt, 'udp')).toBeUndefined();
    expect(selector.shouldProbeUdp(probeAt + 1)).toBe(false);
    expect(selector.nextDeadlineMs()).toBe(probeAt + UDP_PROBE_INTERVAL_MS);
    // Handshakes over TCP do not move the probe.
    selector.handshakeSent(probeAt + 100);
    expect(selector.nextDeadlineMs()).toBe(probeAt + UDP_PROBE_INTERVAL_MS);
    // An unanswered probe leaves us on TCP.
    expect(selector.tick(probeAt + 60_000)).toBeUndefined();
    expect(selector.current()).toBe('tcp');
  });

  it('TCP → UDP when a UDP probe is answered', () => {
    const selector = onTcp();
    selector.handshakeSent(20_000, 'udp');
    expect(selector.handshakeAnswered('udp', 20_050)).toEqual({
      from: 'tcp',
      to: 'udp',
      reason: 'udp-answered',
      atMs: 20_050,
    });
    expect(selector.current()).toBe('udp');
    expect(selector.shouldProbeUdp(1e9)).toBe(false);
    expect(selector.nextDeadlineMs()).toBeUndefined();
    // Blocked again: falls back again.
    selector.handshakeSent(30_000);
    expect(selector.tick(30_000 + FALLBACK_AFTER_MS)).toMatchObject({ to: 'tcp', reason: 'udp-unanswered' });
    expect(selector.snapshot().switches).toBe(3);
  });

  it('a handshake answered over TCP on TCP changes nothing', () => {
    const selector = onTcp();
    expect(selector.handshakeAnswered('tcp', 5000)).toBeUndefined();
    expect(selector.current()).toBe('tcp');
  });

  it('follows the peer: authenticated data over TCP while on UDP moves to TCP', () => {
    const selector = auto();
    expect(selector.authenticatedPacket('tcp', 7000)).toEqual({ from: 'udp', to: 'tcp', reason: 'peer-moved', atMs: 7000 });
    expect(selector.nextDeadlineMs()).toBe(7000 + UDP_PROBE_INTERVAL_MS);
  });

  it('follows the peer: a handshake answered over TCP while on UDP moves to TCP', () => {
    const selector = auto();
    selector.handshakeSent(0);
    expect(selector.handshakeAnswered('tcp', 1000)).toMatchObject({ to: 'tcp', reason: 'peer-moved' });
  });

  it('follows the peer: authenticated data over UDP while on TCP moves back to UDP', () => {
    const selector = onTcp();
    expect(selector.authenticatedPacket('tcp', 6000)).toBeUndefined();
    expect(selector.authenticatedPacket('udp', 6100)).toMatchObject({ from: 'tcp', to: 'udp', reason: 'peer-moved' });
    expect(selector.snapshot()).toMatchObject({ current: 'udp', nextUdpProbeMs: undefined, udpUnansweredSinceMs: undefined });
  });

  it('honours custom timings and rejects a fallback beyond 5 s', () => {
    const selector = createTransportSelector({ mode: 'auto', fallbackAfterMs: 5000, udpProbeIntervalMs: 10_000 });
    selector.handshakeSent(0);
    expect(selector.tick(4999)).toBeUndefined();
    expect(selector.tick(5000)).toMatchObject({ to: 'tcp' });
    expect(selector.shouldProbeUdp(15_000)).toBe(true);
    for (const bad of [{ fallbackAfterMs: 5001 }, { fallbackAfterMs: 0 }, { udpProbeIntervalMs: -1 }]) {
      expect(() => createTransportSelector({ mode: 'auto', ...bad })).toThrow(
        expect.objectContaining({ code: 'transport-options', name: 'TransportOptionsError' }),
      );
    }
  });
});

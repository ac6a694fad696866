import { describe, expect, it } from 'vitest';
import { Pair, text } from './harness.js';

const INITIATION = 1;
const TRANSPORT = 4;

describe('NoiseDevice timers (clock advanced by hand)', () => {
  it('initiator rekeys on send once the session is older than Rekey-After-Time (120 s); responder does not', () => {
    const p = new Pair();
    p.establish();
    p.advance(119_000);
    p.send('a', text('still fresh'));
    p.send('b', text('still fresh'));
    expect(p.sentOfType('a', INITIATION)).toHaveLength(0);
    p.advance(1_500);
    p.linkUp.a = false; // observe the decision without completing it
    p.send('b', text('responder, old key'));
    expect(p.sentOfType('b', INITIATION)).toHaveLength(0);
    p.send('a', text('initiator, old key'));
    expect(p.sentOfType('a', TRANSPORT).length).toBeGreaterThan(0); // sent on the old key first
    expect(p.sentOfType('a', INITIATION)).toHaveLength(1);
  });

  it('initiator rekeys on receive after Reject-After-Time − Keepalive − Rekey-Timeout (165 s), once', () => {
    const p = new Pair();
    p.establish();
    p.advance(165_500);
    p.linkUp.a = false;
    p.send('b', text('one'));
    p.send('b', text('two'));
    expect(p.sentOfType('a', INITIATION)).toHaveLength(1);
  });

  it('refuses to send or receive on a session older than Reject-After-Time (180 s)', () => {
    const p = new Pair();
    p.establish();
    p.advance(179_000);
    const late = p.dev.a.send(p.peer.a, text('late'), p.nowMs, p.wallNowMs).find((x) => x.kind === 'send');
    if (late?.kind !== 'send') throw new Error('no packet');
    p.advance(1_000);
    expect(p.inject('b', late.bytes)).toContainEqual({ kind: 'drop', reason: 'expired-keypair', peer: p.peer.b });
    p.clearLogs();
    p.linkUp.a = false;
    p.send('a', text('after 180 s'));
    expect(p.sentOfType('a', TRANSPORT)).toHaveLength(0); // staged, waiting for a new session
    // (the 179 s send already started a rekey; its retransmit comes within Rekey-Timeout + jitter)
    p.advance(5_333);
    expect(p.sentOfType('a', INITIATION)).toHaveLength(1);
    expect(p.sentOfType('a', TRANSPORT)).toHaveLength(0);
  });

  it('retries the initiation every Rekey-Timeout + jitter (≤ 333 ms) and gives up after Rekey-Attempt-Time', () => {
    const p = new Pair();
    p.linkUp.a = false;
    p.send('a', text('never answered'));
    p.advance(200_000);
    const times = p.sentOfType('a', INITIATION).map((s) => s.atMs);
    // 1 attempt + 19 retries, as wireguard-go/kernel (attempts > 90 s / 5 s gives up).
    expect(times).toHaveLength(20);
    for (let i = 1; i < times.length; i++) {
      const gap = (times[i] ?? 0) - (times[i - 1] ?? 0);
      expect(gap).toBeGreaterThanOrEqual(5_000);
      expect(gap).toBeLessThanOrEqual(5_333);
    }
    expect(new Set(times.slice(1).map((t, i) => t - (times[i] ?? 0))).size).toBeGreaterThan(1); // jitter varies
    expect(p.drops('a')).toEqual(['handshake-gave-up']);
    expect(p.dev.a.stats().initiationsSent).toBe(20);
  });

  it('sends a passive keepalive Keepalive-Timeout (10 s) after receiving data without sending', () => {
    const p = new Pair();
    p.establish();
    p.send('a', text('ping'));
    p.clearLogs();
    p.advance(9_999);
    expect(p.sentOfType('b', TRANSPORT)).toHaveLength(0);
    p.advance(1);
    const keepalives = p.sentOfType('b', TRANSPORT);
    expect(keepalives).toHaveLength(1);
    expect(keepalives[0]?.bytes.length).toBe(32);
  });

  it('sends no passive keepalive when it answered with data in time', () => {
    const p = new Pair();
    p.establish();
    p.send('a', text('ping'));
    p.advance(3_000);
    p.send('b', text('pong'));
    p.clearLogs();
    p.advance(20_000);
    expect(p.sentOfType('b', TRANSPORT)).toHaveLength(0);
  });

  it('starts a new handshake when data sent got no reply for Keepalive + Rekey-Timeout (15 s)', () => {
    const p = new Pair();
    p.establish();
    p.linkUp.b = false; // b hears but cannot answer
    p.send('a', text('anyone?'));
    p.advance(14_999);
    expect(p.sentOfType('a', INITIATION)).toHaveLength(0);
    p.advance(334);
    expect(p.sentOfType('a', INITIATION)).toHaveLength(1);
  });

  it('zeroes the keys 3 × Reject-After-Time (540 s) after the last handshake', () => {
    const p = new Pair();
    p.establish();
    p.advance(539_999);
    expect(p.eventsOf('a', 'session-expired')).toHaveLength(0);
    p.advance(1);
    expect(p.eventsOf('a', 'session-expired')).toHaveLength(1);
    expect(p.eventsOf('b', 'session-expired')).toHaveLength(1);
    expect(p.dev.a.nextDeadlineMs()).toBeUndefined();
    // A new send starts over with a fresh handshake.
    p.send('a', text('again'));
    expect(p.delivered.b).toHaveLength(1);
  });

  it('sends persistent keepalives at the configured interval', () => {
    const p = new Pair({ persistentKeepaliveS: 25 });
    p.establish();
    p.advance(24_999);
    expect(p.sentOfType('a', TRANSPORT)).toHaveLength(0);
    p.advance(1);
    expect(p.sentOfType('a', TRANSPORT).length).toBeGreaterThanOrEqual(1);
    p.clearLogs();
    p.advance(50_000);
    expect(p.sentOfType('a', TRANSPORT).length).toBeGreaterThanOrEqual(2);
    expect(p.sentOfType('a', INITIATION)).toHaveLength(0);
  });

  it('reports the earliest deadline for one setTimeout at the edge', () => {
    const p = new Pair();
    expect(p.dev.a.nextDeadlineMs()).toBeUndefined();
    p.linkUp.a = false;
    p.send('a', text('x'));
    const deadline = p.dev.a.nextDeadlineMs() ?? 0;
    expect(deadline - p.nowMs).toBeGreaterThanOrEqual(5_000);
    expect(deadline - p.nowMs).toBeLessThanOrEqual(5_333);
  });
});

import { describe, expect, it } from 'vitest';
import { ADDRESS, Pair, text, type Sent } from './harness.js';

describe('NoiseDevice under load: cookies and rate limit', () => {
  it('answers an initiation without mac2 with a cookie reply; the retry with mac2 gets a response', () => {
    const p = new Pair();
    p.underLoad.b = true;
    p.send('a', text('busy?'));
    expect(p.sentOfType('b', 3)).toHaveLength(1);
    expect(p.sentOfType('b', 3)[0]?.bytes.length).toBe(64);
    expect(p.sentOfType('b', 2)).toHaveLength(0);
    expect(p.drops('b')).toEqual(['cookie-required']);
    expect(p.peer.a.stats.cookieRepliesReceived).toBe(1);
    expect(p.eventsOf('a', 'cookie-reply')).toEqual([{ kind: 'cookie-reply', peer: p.peer.a }]); // for the transport selector
    expect(p.dev.b.stats().cookieRepliesSent).toBe(1);
    // The next initiation (Rekey-Timeout later) carries a valid mac2.
    p.advance(5_400);
    expect(p.sentOfType('b', 2)).toHaveLength(1);
    expect(p.delivered.b).toHaveLength(1);
    const init = p.sentOfType('a', 1)[1] as Sent;
    expect(init.bytes.subarray(132).some((x) => x !== 0)).toBe(true);
  });

  it('a cookie is bound to the source address', () => {
    const p = new Pair();
    p.underLoad.b = true;
    p.send('a', text('x'));
    p.linkUp.a = false;
    p.advance(5_400);
    const retry = p.sentOfType('a', 1)[1] as Sent;
    const elsewhere = p.dev.b.receive(retry.bytes, '198.18.0.99:1', p.nowMs, p.wallNowMs, true);
    expect(elsewhere.map((x) => x.kind)).toEqual(['send', 'drop']);
    expect(elsewhere[0]).toMatchObject({ kind: 'send', to: '198.18.0.99:1' });
    const right = p.dev.b.receive(retry.bytes, ADDRESS.a, p.nowMs, p.wallNowMs, true);
    expect(right.some((x) => x.kind === 'send' && x.bytes[0] === 2)).toBe(true);
  });

  it('rate-limits handshakes per source IP (burst 5) once mac2 is valid', () => {
    const p = new Pair();
    p.underLoad.b = true;
    p.send('a', text('x'));
    p.linkUp.a = false;
    p.advance(5_400);
    const retry = p.sentOfType('a', 1)[1] as Sent;
    const reasons: string[] = [];
    for (let i = 0; i < 7; i++) {
      for (const a of p.dev.b.receive(retry.bytes, ADDRESS.a, p.nowMs, p.wallNowMs, true)) if (a.kind === 'drop') reasons.push(a.reason);
    }
    // 1st accepted, 2nd–5th pass the limiter but replay the timestamp, 6th and 7th are limited.
    expect(reasons).toEqual(['replayed-timestamp', 'replayed-timestamp', 'replayed-timestamp', 'replayed-timestamp', 'rate-limited', 'rate-limited']);
    // Not under load: no cookie, no limit.
    expect(p.dev.b.receive(retry.bytes, ADDRESS.a, p.nowMs, p.wallNowMs, false).map((x) => x.kind)).toEqual(['drop']);
  });
});

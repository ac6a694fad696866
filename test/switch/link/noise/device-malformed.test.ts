import { describe, expect, it } from 'vitest';
import { CookieGenerator } from '../../../../switch/link/noise/cookie.js';
import { createInitiation, createStaticIdentity, HandshakeState } from '../../../../switch/link/noise/handshake.js';
import { Pair, seededRandom, text, type Sent } from './harness.js';

const dropReasons = (actions: { kind: string; reason?: string }[]): string[] =>
  actions.filter((a) => a.kind === 'drop').map((a) => a.reason ?? '');

/** An initiation from a's identity with a chosen wall time, macs valid for b. */
function craftInitiation(p: Pair, wallNowMs: number, tamper?: (b: Uint8Array) => void): Uint8Array {
  const identity = createStaticIdentity(p.privateKey.a);
  const hs = new HandshakeState(identity, p.dev.b.publicKey, new Uint8Array(32));
  const bytes = createInitiation(hs, identity, 0x1234, seededRandom(77), wallNowMs);
  if (bytes === null) throw new Error('no initiation');
  tamper?.(bytes);
  new CookieGenerator(p.dev.b.publicKey).addMacs(bytes, 0);
  return bytes;
}

describe('NoiseDevice drops bad input by reason and keeps the good session', () => {
  it('covers every malformed kind, then data still flows both ways', () => {
    const p = new Pair();
    p.send('a', text('first'));
    const initiation = p.sentOfType('a', 1)[0] as Sent;
    const response = p.sentOfType('b', 2)[0] as Sent;
    const transport = p.sentOfType('a', 4)[0] as Sent;
    p.clearLogs();
    const at = (bytes: Uint8Array): string[] => dropReasons(p.inject('b', bytes));

    expect(at(Uint8Array.of(1, 0))).toEqual(['truncated']);
    expect(at(initiation.bytes.subarray(0, 100))).toEqual(['truncated']);
    expect(at(new Uint8Array([...initiation.bytes, 0]))).toEqual(['oversized']);
    expect(at(new Uint8Array(70_000).fill(4))).toEqual(['oversized']);
    expect(at(Uint8Array.of(9, 0, 0, 0, 1, 2, 3))).toEqual(['unknown-type']);

    const badMac = new Uint8Array(initiation.bytes);
    badMac[120] = (badMac[120] ?? 0) ^ 1;
    expect(at(badMac)).toEqual(['bad-mac1']);
    expect(at(craftInitiation(p, p.wallNowMs + 1000, (b) => (b[50] = (b[50] ?? 0) ^ 1)))).toEqual(['handshake-decrypt-failed']);
    expect(at(craftInitiation(p, p.wallNowMs, (b) => b.fill(0, 8, 40)))).toEqual(['low-order-point']);
    p.advance(30);
    expect(at(initiation.bytes)).toEqual(['replayed-timestamp']);
    expect(at(craftInitiation(p, p.wallNowMs - 60_000))).toEqual(['replayed-timestamp']);

    expect(at(response.bytes)).toEqual(['bad-mac1']); // mac1 is keyed to a, not b
    expect(dropReasons(p.inject('a', response.bytes))).toEqual(['unknown-receiver']); // its index is a session now

    const badAuth = new Uint8Array(transport.bytes);
    badAuth[20] = (badAuth[20] ?? 0) ^ 1;
    expect(at(badAuth)).toEqual(['bad-packet-auth']);
    expect(at(transport.bytes)).toEqual(['replayed-counter']);
    const unknownIndex = new Uint8Array(transport.bytes);
    unknownIndex[4] = (unknownIndex[4] ?? 0) ^ 0xff;
    expect(at(unknownIndex)).toEqual(['unknown-receiver']);
    const huge = new Uint8Array(transport.bytes);
    huge.fill(0xff, 8, 16);
    expect(at(huge)).toEqual(['counter-limit']);

    const cookieGarbage = new Uint8Array(64);
    cookieGarbage[0] = 3;
    cookieGarbage.set(transport.bytes.subarray(4, 8), 4); // a live index, garbage content
    expect(at(cookieGarbage)).toEqual(['bad-cookie-reply']);

    expect(p.peer.b.stats.drops['replayed-counter']).toBe(1);
    expect(p.dev.b.stats().drops['truncated']).toBe(2);

    p.clearLogs();
    p.send('a', text('still works'));
    p.send('b', text('both ways'));
    expect(p.delivered.b).toHaveLength(1);
    expect(p.delivered.a).toHaveLength(1);
    expect(p.sentOfType('a', 1)).toHaveLength(0); // no new handshake was needed
  });

  it('rejects a second initiation within 20 ms (flood) but accepts it later', () => {
    const p = new Pair();
    p.establish();
    p.advance(10);
    const next = craftInitiation(p, p.wallNowMs + 1_000);
    expect(dropReasons(p.inject('b', next))).toEqual(['handshake-flood']);
    p.advance(20);
    expect(dropReasons(p.inject('b', next))).toEqual([]);
  });

  it('drops counters that fall out of the replay window', () => {
    const p = new Pair();
    p.establish();
    p.linkUp.a = false;
    p.send('a', text('0'));
    const old = p.sentOfType('a', 4)[0] as Sent;
    for (let i = 0; i < 8_200; i++) p.send('a', text('x'));
    const newest = p.sentOfType('a', 4).at(-1) as Sent;
    expect(dropReasons(p.inject('b', newest.bytes))).toEqual([]);
    expect(dropReasons(p.inject('b', old.bytes))).toEqual(['out-of-window']);
  });

  it('refuses plaintexts that cannot fit a message', () => {
    const p = new Pair();
    p.establish();
    const actions = p.dev.a.send(p.peer.a, new Uint8Array(65_600), p.nowMs, p.wallNowMs);
    expect(actions).toEqual([{ kind: 'drop', reason: 'plaintext-too-large', peer: p.peer.a }]);
  });
});

import { describe, expect, it } from 'vitest';
import { NoiseDevice } from '../../../../switch/link/noise/device.js';
import { generatePrivateKey } from '../../../../switch/link/noise/crypto.js';
import { ADDRESS, Pair, seededRandom, text } from './harness.js';

describe('NoiseDevice handshake between two devices in memory', () => {
  it('completes a handshake started by send(), then carries data both ways', () => {
    const p = new Pair();
    p.send('a', text('hello'));
    // a: initiation; b: response; a: the staged data confirms the session to b.
    expect(p.sentOfType('a', 1)).toHaveLength(1);
    expect(p.sentOfType('b', 2)).toHaveLength(1);
    expect(p.sentOfType('a', 4)).toHaveLength(1);
    expect(p.delivered.b).toHaveLength(1);
    // Padded to 16: the upper layer gets the padding too.
    expect(p.delivered.b[0]?.length).toBe(16);
    expect(new TextDecoder().decode(p.delivered.b[0]?.subarray(0, 5))).toBe('hello');
    expect(p.eventsOf('a', 'handshake-complete')).toHaveLength(1);
    expect(p.eventsOf('b', 'handshake-complete')).toHaveLength(1);

    p.send('b', text('world, 17 bytes!!'));
    expect(p.delivered.a).toHaveLength(1);
    expect(p.delivered.a[0]?.length).toBe(32);
    expect(p.sentOfType('b', 4)[0]?.bytes.length).toBe(16 + 32 + 16);
    expect(p.dev.a.stats().drops).toEqual(p.dev.b.stats().drops);
    expect(Object.values(p.dev.a.stats().drops).every((n) => n === 0)).toBe(true);
    expect(p.peer.a.stats.handshakesCompleted).toBe(1);
    expect(p.peer.b.stats.initiationsReceived).toBe(1);
    expect(p.peer.a.stats.lastHandshakeWallMs).toBe(p.wallNowMs);
  });

  it('sends a keepalive to confirm the session when nothing is staged (initiator confirmation rule)', () => {
    const p = new Pair();
    p.send('a', new Uint8Array(0));
    const transports = p.sentOfType('a', 4);
    expect(transports).toHaveLength(1);
    expect(transports[0]?.bytes.length).toBe(32); // empty payload: header + tag
    expect(p.delivered.b).toHaveLength(0); // keepalives are not delivered
    expect(p.peer.b.stats.keepalivesReceived).toBe(1);
  });

  it('responder holds its data until the initiator confirms the session', () => {
    const p = new Pair();
    p.linkUp.a = true;
    // Only the initiation reaches b: cut a after it so the confirmation is lost.
    const actions = p.dev.a.send(p.peer.a, text('x'), p.nowMs, p.wallNowMs);
    const initiation = actions.find((x) => x.kind === 'send');
    if (initiation?.kind !== 'send') throw new Error('no initiation');
    const bActions = p.dev.b.receive(initiation.bytes, ADDRESS.a, p.nowMs, p.wallNowMs, false);
    expect(bActions.filter((x) => x.kind === 'send')).toHaveLength(1); // the response
    const early = p.dev.b.send(p.peer.b, text('early'), p.nowMs, p.wallNowMs);
    // b has no confirmed session: it stages, and does not start its own handshake within Rekey-Timeout.
    expect(early.filter((x) => x.kind === 'send')).toHaveLength(0);
    const response = bActions.find((x) => x.kind === 'send');
    if (response?.kind !== 'send') throw new Error('no response');
    const aActions = p.dev.a.receive(response.bytes, ADDRESS.b, p.nowMs, p.wallNowMs, false);
    const data = aActions.find((x) => x.kind === 'send');
    if (data?.kind !== 'send') throw new Error('no data');
    const confirm = p.dev.b.receive(data.bytes, ADDRESS.a, p.nowMs, p.wallNowMs, false);
    // Confirmation: b delivers a's data, completes, and now flushes its staged packet.
    expect(confirm.map((x) => x.kind)).toEqual(['handshake-complete', 'send', 'deliver']);
  });

  it('both roles: b can initiate too, and a second handshake replaces the first', () => {
    const p = new Pair();
    p.send('b', text('from b'));
    expect(p.delivered.a).toHaveLength(1);
    p.advance(6_000); // past Rekey-Timeout so a new initiation is allowed
    p.send('a', text('from a'));
    expect(p.delivered.b).toHaveLength(1);
    // a's current keypair is b's (a is responder there) and usable: no new handshake was needed.
    expect(p.sentOfType('a', 1)).toHaveLength(0);
  });

  it('supports a preshared key, and mismatched keys fail the handshake', () => {
    const psk = new Uint8Array(32).fill(7);
    const p = new Pair({ presharedKey: psk });
    p.send('a', text('psk'));
    expect(p.delivered.b).toHaveLength(1);

    const q = new Pair({ seed: 5 });
    q.dev.b.removePeer(q.peer.b);
    q.peer.b = q.dev.b.addPeer({ publicKey: q.dev.a.publicKey, presharedKey: psk });
    q.send('a', text('no'));
    expect(q.delivered.b).toHaveLength(0);
    expect(q.drops('a')).toContain('handshake-decrypt-failed');
  });

  it('follows the peer to a new endpoint (roaming) on authenticated packets only', () => {
    const p = new Pair();
    p.establish();
    const bytes = p.dev.a.send(p.peer.a, text('moved'), p.nowMs, p.wallNowMs).find((x) => x.kind === 'send');
    if (bytes?.kind !== 'send') throw new Error('no send');
    const actions = p.dev.b.receive(bytes.bytes, '198.18.9.9:4000', p.nowMs, p.wallNowMs, false);
    expect(actions).toContainEqual({ kind: 'peer-endpoint', peer: p.peer.b, endpoint: '198.18.9.9:4000' });
    expect(p.peer.b.endpoint).toBe('198.18.9.9:4000');
    // A forged packet from elsewhere does not move it.
    const forged = new Uint8Array(bytes.bytes);
    forged[20] = (forged[20] ?? 0) ^ 1;
    p.dev.b.receive(forged, '198.18.6.6:1', p.nowMs, p.wallNowMs, false);
    expect(p.peer.b.endpoint).toBe('198.18.9.9:4000');
  });

  it('drops an initiation from an unknown key and counts it', () => {
    const p = new Pair();
    const stranger = new NoiseDevice({ staticPrivateKey: generatePrivateKey(seededRandom(99)), randomBytes: seededRandom(98) });
    const peer = stranger.addPeer({ publicKey: p.dev.b.publicKey });
    const out = stranger.send(peer, text('hi'), p.nowMs, p.wallNowMs).find((x) => x.kind === 'send');
    if (out?.kind !== 'send') throw new Error('no initiation');
    expect(p.inject('b', out.bytes, '198.18.7.7:1')).toEqual([{ kind: 'drop', reason: 'unknown-peer' }]);
    expect(p.dev.b.stats().drops['unknown-peer']).toBe(1);
  });

  it('rejects configuration errors with typed errors', () => {
    const p = new Pair();
    expect(() => p.dev.a.addPeer({ publicKey: p.dev.b.publicKey })).toThrow(expect.objectContaining({ code: 'noise-peer-exists' }));
    expect(() => p.dev.a.addPeer({ publicKey: new Uint8Array(31) })).toThrow(expect.objectContaining({ code: 'noise-key-invalid' }));
    p.dev.a.removePeer(p.peer.a);
    expect(() => p.dev.a.send(p.peer.a, text('x'), 0, 0)).toThrow(expect.objectContaining({ code: 'noise-peer-unknown' }));
  });

  it('stages while handshaking, and drops the oldest beyond 128', () => {
    const p = new Pair();
    p.linkUp.a = false;
    for (let i = 0; i < 130; i++) p.send('a', text(`m${i}`));
    expect(p.drops('a').filter((r) => r === 'queue-full')).toHaveLength(2);
    p.linkUp.a = true;
    p.advance(5_400); // retransmit reaches b this time
    expect(p.delivered.b).toHaveLength(128);
    expect(new TextDecoder().decode(p.delivered.b[0]?.subarray(0, 2))).toBe('m2');
  });
});

import { describe, expect, it } from 'vitest';
import { parsePacket, writeCookieReply, writeInitiation, writeResponse } from '../../../../switch/link/noise/messages.js';
import { isTai64nAfter, tai64n } from '../../../../switch/link/noise/tai64n.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('message parsing matches type and size together', () => {
  const init = writeInitiation(0x11223344, new Uint8Array(32).fill(1), new Uint8Array(48).fill(2), new Uint8Array(28).fill(3));
  const resp = writeResponse(7, 8, new Uint8Array(32).fill(4), new Uint8Array(16).fill(5));
  const cookie = writeCookieReply(9, new Uint8Array(24).fill(6), new Uint8Array(32).fill(7));

  it('has the WireGuard sizes and little-endian header', () => {
    expect(init.length).toBe(148);
    expect(resp.length).toBe(92);
    expect(cookie.length).toBe(64);
    expect(hex(init.subarray(0, 8))).toBe('0100000044332211');
  });

  it('parses each type into its fields', () => {
    const i = parsePacket(init);
    expect(i.ok && i.msg.type === 1 && i.msg.senderIndex === 0x11223344 && i.msg.encryptedTimestamp[0] === 3).toBe(true);
    const r = parsePacket(resp);
    expect(r.ok && r.msg.type === 2 && r.msg.senderIndex === 7 && r.msg.receiverIndex === 8).toBe(true);
    const c = parsePacket(cookie);
    expect(c.ok && c.msg.type === 3 && c.msg.receiverIndex === 9 && c.msg.encryptedCookie.length === 32).toBe(true);
    const t = parsePacket(new Uint8Array([4, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, ...new Uint8Array(16)]));
    expect(t.ok && t.msg.type === 4 && t.msg.counterLo === 2 && t.msg.counterHi === 3 && t.msg.encrypted.length === 16).toBe(true);
  });

  it('rejects truncated, oversized and unknown types by reason', () => {
    const reason = (b: Uint8Array): string => {
      const r = parsePacket(b);
      return r.ok ? 'ok' : r.reason;
    };
    expect(reason(new Uint8Array(0))).toBe('truncated');
    expect(reason(Uint8Array.of(1, 0, 0))).toBe('truncated');
    expect(reason(init.subarray(0, 147))).toBe('truncated');
    expect(reason(new Uint8Array([...init, 0]))).toBe('oversized');
    expect(reason(new Uint8Array([...resp, 0]))).toBe('oversized');
    expect(reason(cookie.subarray(0, 63))).toBe('truncated');
    expect(reason(Uint8Array.of(4, 0, 0, 0, ...new Uint8Array(27)))).toBe('truncated');
    expect(reason(Uint8Array.of(4, 0, 0, 0, ...new Uint8Array(65_532)))).toBe('oversized');
    expect(reason(Uint8Array.of(5, 0, 0, 0, ...new Uint8Array(60)))).toBe('unknown-type');
    const reserved = new Uint8Array(init);
    reserved[1] = 1;
    expect(reason(reserved)).toBe('unknown-type');
  });
});

describe('TAI64N', () => {
  it('encodes 2^62 + 10 + seconds big-endian, then whitened nanoseconds', () => {
    expect(hex(tai64n(0))).toBe('400000000000000a00000000');
    expect(hex(tai64n(1_000))).toBe('400000000000000b00000000');
    // 500 ms = 500 000 000 ns, rounded down to a multiple of 2^24
    expect(hex(tai64n(500)).slice(16)).toBe(((500_000_000 & ~0xffffff) >>> 0).toString(16).padStart(8, '0'));
  });

  it('orders timestamps; equal is not newer', () => {
    expect(isTai64nAfter(tai64n(2_000), tai64n(1_000))).toBe(true);
    expect(isTai64nAfter(tai64n(1_000), tai64n(2_000))).toBe(false);
    expect(isTai64nAfter(tai64n(1_000), tai64n(1_000))).toBe(false);
    expect(isTai64nAfter(tai64n(1_000), tai64n(1_001))).toBe(false); // within one whitening step
  });
});

import { describe, expect, it } from 'vitest';
import {
  decodePayload,
  encodeControl,
  encodeEthernet,
  ethernetPayloadBytes,
} from '../../../switch/link/link-payload.js';

const padded = (bytes: Uint8Array): Uint8Array => {
  const out = new Uint8Array(Math.ceil(bytes.length / 16) * 16);
  out.set(bytes);
  return out;
};

describe('link payload', () => {
  it('carries an Ethernet frame and strips the padding', () => {
    const frame = Uint8Array.from({ length: 60 }, (_, i) => i);
    const out = new Uint8Array(ethernetPayloadBytes(frame.length));
    encodeEthernet(frame, out);
    const decoded = decodePayload(padded(out));
    expect(decoded).toEqual({ kind: 'ethernet', frame });
  });

  it('carries a versioned control message', () => {
    const body = new TextEncoder().encode('{"type":"hello"}');
    expect(decodePayload(padded(encodeControl(body)))).toEqual({ kind: 'control', version: 1, body });
  });

  it('passes raw IPv4 through for WireGuard peers, trimmed to the IP length', () => {
    const ip = new Uint8Array(28);
    ip[0] = 0x45;
    ip[3] = 28;
    const decoded = decodePayload(padded(ip));
    expect(decoded).toMatchObject({ kind: 'ip' });
    expect((decoded as { packet: Uint8Array }).packet.length).toBe(28);
  });

  it.each([
    ['empty', new Uint8Array(0), 'payload-empty'],
    ['unknown type', Uint8Array.of(0x99, 0, 0), 'payload-unknown-type'],
    ['ethernet length beyond the payload', Uint8Array.of(0x01, 0x05, 0xdc, 1, 2), 'payload-truncated'],
    ['control from a future version', Uint8Array.of(0x02, 9, 0, 0), 'control-version'],
    ['control header cut', Uint8Array.of(0x02, 1), 'payload-truncated'],
    ['IPv4 shorter than its header', Uint8Array.of(0x45, 0, 0), 'payload-truncated'],
  ])('drops %s', (_name, bytes, reason) => {
    expect(decodePayload(bytes)).toEqual({ kind: 'drop', reason });
  });
});

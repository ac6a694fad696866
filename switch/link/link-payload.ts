/**
 * What a link carries inside WireGuard's encrypted transport payload.
 *
 * WireGuard peers put a raw IP packet there (first nibble 4 or 6) and strip the
 * zero padding using the IP header's length. vswitch keeps that meaning, so a
 * plain WireGuard peer (wireguard-go) interoperates, and uses first bytes an IP
 * packet can never start with for its own messages:
 *
 *   0x01 len(2, BE) frame          an Ethernet frame
 *   0x02 version(1) len(2, BE) msg a control message (typed, versioned JSON)
 *   0x4_ / 0x6_ …                  a raw IPv4 / IPv6 packet (WireGuard interop)
 *
 * The explicit length is what lets padding be stripped for non-IP payloads.
 */
export const PAYLOAD_ETHERNET = 0x01;
export const PAYLOAD_CONTROL = 0x02;
export const CONTROL_VERSION = 1;
const ETHERNET_HEADER_BYTES = 3;
const CONTROL_HEADER_BYTES = 4;

export type LinkPayload =
  | { kind: 'ethernet'; frame: Uint8Array }
  | { kind: 'control'; version: number; body: Uint8Array }
  | { kind: 'ip'; packet: Uint8Array };

export type PayloadDropReason = 'payload-empty' | 'payload-unknown-type' | 'payload-truncated' | 'control-version';

export type DecodedPayload = LinkPayload | { kind: 'drop'; reason: PayloadDropReason };

/** Writes an Ethernet frame's payload header and body into `out` (≥ frame.length + 3); returns the length used. */
export function encodeEthernet(frame: Uint8Array, out: Uint8Array): number {
  out[0] = PAYLOAD_ETHERNET;
  out[1] = frame.length >>> 8;
  out[2] = frame.length & 0xff;
  out.set(frame, ETHERNET_HEADER_BYTES);
  return frame.length + ETHERNET_HEADER_BYTES;
}

export function ethernetPayloadBytes(frameBytes: number): number {
  return frameBytes + ETHERNET_HEADER_BYTES;
}

export function encodeControl(body: Uint8Array, version = CONTROL_VERSION): Uint8Array {
  const out = new Uint8Array(body.length + CONTROL_HEADER_BYTES);
  out[0] = PAYLOAD_CONTROL;
  out[1] = version;
  out[2] = body.length >>> 8;
  out[3] = body.length & 0xff;
  out.set(body, CONTROL_HEADER_BYTES);
  return out;
}

/** Splits a decrypted payload (padding included) into what it carries; views, no copies. */
export function decodePayload(plain: Uint8Array): DecodedPayload {
  if (plain.length === 0) return { kind: 'drop', reason: 'payload-empty' };
  const type = plain[0]!;
  if (type === PAYLOAD_ETHERNET) {
    if (plain.length < ETHERNET_HEADER_BYTES) return { kind: 'drop', reason: 'payload-truncated' };
    const length = (plain[1]! << 8) | plain[2]!;
    if (ETHERNET_HEADER_BYTES + length > plain.length) return { kind: 'drop', reason: 'payload-truncated' };
    return { kind: 'ethernet', frame: plain.subarray(ETHERNET_HEADER_BYTES, ETHERNET_HEADER_BYTES + length) };
  }
  if (type === PAYLOAD_CONTROL) {
    if (plain.length < CONTROL_HEADER_BYTES) return { kind: 'drop', reason: 'payload-truncated' };
    const version = plain[1]!;
    if (version !== CONTROL_VERSION) return { kind: 'drop', reason: 'control-version' };
    const length = (plain[2]! << 8) | plain[3]!;
    if (CONTROL_HEADER_BYTES + length > plain.length) return { kind: 'drop', reason: 'payload-truncated' };
    return { kind: 'control', version, body: plain.subarray(CONTROL_HEADER_BYTES, CONTROL_HEADER_BYTES + length) };
  }
  const ipVersion = type >>> 4;
  if (ipVersion === 4 && plain.length >= 20) {
    const total = (plain[2]! << 8) | plain[3]!;
    if (total < 20 || total > plain.length) return { kind: 'drop', reason: 'payload-truncated' };
    return { kind: 'ip', packet: plain.subarray(0, total) };
  }
  if (ipVersion === 6 && plain.length >= 40) {
    const total = 40 + ((plain[4]! << 8) | plain[5]!);
    if (total > plain.length) return { kind: 'drop', reason: 'payload-truncated' };
    return { kind: 'ip', packet: plain.subarray(0, total) };
  }
  return { kind: 'drop', reason: ipVersion === 4 || ipVersion === 6 ? 'payload-truncated' : 'payload-unknown-type' };
}

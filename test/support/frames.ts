/**
 * Frame builders for tests (cf. wireguard-go tuntest.Ping): real wire bytes,
 * no FCS, no padding unless asked — as a TAP device delivers them.
 */
import { BROADCAST_MAC, parseMac, writeMac, type Mac } from '../../switch/frame/mac.js';

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;

export type MacLike = Mac | string;

/** A Mac from text or number; throws on bad text (test input, not frame data). */
export function mac(value: MacLike): Mac {
  if (typeof value === 'number') return value;
  const parsed = parseMac(value);
  if (parsed === undefined) throw new Error(`test mac: not a MAC address: ${value}`);
  return parsed;
}

/** A locally administered unicast MAC 02:00:00:00:hh:ll for index n (n < 65536). */
export function testMac(n: number): Mac {
  return 0x02_00_00_00_00_00 + n;
}

export interface EthernetFrameSpec {
  dst: MacLike;
  src: MacLike;
  /** EtherType or 802.3 length, after the tags. Default IPv4. */
  etherType?: number;
  /** Payload size when `payload` is not given (filled with a counting pattern). Default 46. */
  payloadBytes?: number;
  payload?: Uint8Array;
  /** Adds one tag (TPID `tpid`, default 0x8100) with this VID. */
  vlanId?: number;
  tpid?: number;
  /** Adds a second (inner) 802.1Q tag with this VID. */
  innerVlanId?: number;
}

export function ethernetFrame(spec: EthernetFrameSpec): Uint8Array {
  const payload = spec.payload ?? countingBytes(spec.payloadBytes ?? 46);
  const tags = (spec.vlanId !== undefined ? 1 : 0) + (spec.innerVlanId !== undefined ? 1 : 0);
  const header = 14 + 4 * tags;
  const frame = new Uint8Array(header + payload.length);
  writeMac(frame, 0, mac(spec.dst));
  writeMac(frame, 6, mac(spec.src));
  const view = new DataView(frame.buffer);
  let offset = 12;
  if (spec.vlanId !== undefined) {
    view.setUint16(offset, spec.tpid ?? 0x8100);
    view.setUint16(offset + 2, spec.vlanId & 0x0fff);
    offset += 4;
  }
  if (spec.innerVlanId !== undefined) {
    view.setUint16(offset, 0x8100);
    view.setUint16(offset + 2, spec.innerVlanId & 0x0fff);
    offset += 4;
  }
  view.setUint16(offset, spec.etherType ?? ETHERTYPE_IPV4);
  frame.set(payload, header);
  return frame;
}

/** Broadcast ARP who-has (RFC 826), 42 bytes: no padding. */
export function arpRequest(srcMac: MacLike, srcIp: string, targetIp: string): Uint8Array {
  return ethernetFrame({
    dst: BROADCAST_MAC,
    src: srcMac,
    etherType: ETHERTYPE_ARP,
    payload: arpPayload(1, mac(srcMac), srcIp, 0, targetIp),
  });
}

/** Unicast ARP is-at from `srcMac` to `dstMac`. */
export function arpReply(srcMac: MacLike, srcIp: string, dstMac: MacLike, dstIp: string): Uint8Array {
  return ethernetFrame({
    dst: dstMac,
    src: srcMac,
    etherType: ETHERTYPE_ARP,
    payload: arpPayload(2, mac(srcMac), srcIp, mac(dstMac), dstIp),
  });
}

function arpPayload(op: number, senderMac: Mac, senderIp: string, targetMac: Mac, targetIp: string): Uint8Array {
  const payload = new Uint8Array(28);
  const view = new DataView(payload.buffer);
  view.setUint16(0, 1); // hardware type: Ethernet
  view.setUint16(2, ETHERTYPE_IPV4); // protocol type
  payload[4] = 6;
  payload[5] = 4;
  view.setUint16(6, op);
  writeMac(payload, 8, senderMac);
  payload.set(ipv4Bytes(senderIp), 14);
  writeMac(payload, 18, targetMac);
  payload.set(ipv4Bytes(targetIp), 24);
  return payload;
}

export function ipv4Bytes(text: string): Uint8Array {
  const parts = text.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`test ipv4: not an address: ${text}`);
  }
  return Uint8Array.from(parts);
}

function countingBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = i & 0xff;
  return bytes;
}

/**
 * The slow, obvious twin of the addon's segmentation and coalescing (switch/port/addon/gso.h), for oracle tests
 * (cf. the linear classifier of OVS tests/test-classifier.c): it builds TCP/UDP flows from first principles —
 * every wire frame written field by field, its checksums summed 16 bits at a time as RFC 1071 says — and the
 * super-frame the kernel would hand a TAP reader for the same bytes (the TCP/UDP checksum field holding the
 * pseudo-header's sum, NEEDS_CSUM). Nothing here shares code with the addon: the addon's output is checked
 * against these bytes.
 */
import { seededRandom } from '../../scripts/lib/seeded-random.js';

export const VNET_NEEDS_CSUM = 1;
export const GSO_TCPV4 = 1;
export const GSO_TCPV6 = 4;
export const GSO_UDP_L4 = 5;
export const GSO_ECN = 0x80;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

export interface FlowSpec {
  dst: Uint8Array;
  src: Uint8Array;
  /** TCIs of 802.1Q tags, outer first (two: 802.1ad outer 0x88a8, then 0x8100). */
  vlanTags: readonly number[];
  isIpv6: boolean;
  protocol: 'tcp' | 'udp';
  srcIp: Uint8Array;
  dstIp: Uint8Array;
  srcPort: number;
  dstPort: number;
  /** IPv4: identification of the first segment, TOS, DF; IPv6: traffic class (tos) and flow label. */
  ipId: number;
  tos: number;
  isDf: boolean;
  flowLabel: number;
  ttl: number;
  /** IPv4 options (a multiple of 4 bytes). */
  ipOptions?: Uint8Array;
  seq: number;
  ack: number;
  window: number;
  /** TCP flags of the super-frame (ACK, plus PSH/FIN/CWR/ECE…). */
  tcpFlags: number;
  /** TCP options bytes (a multiple of 4): timestamps are NOP NOP 8 10 tsval tsecr. */
  tcpOptions?: Uint8Array;
}

/** RFC 1071, the obvious way: 16-bit big-endian words, an odd byte padded, carries folded at the end. */
export function onesComplementSum(bytes: Uint8Array, initial = 0): number {
  let sum = initial;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i]! << 8) | (i + 1 < bytes.length ? bytes[i + 1]! : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

export function timestampOptions(tsval: number, tsecr: number): Uint8Array {
  const o = new Uint8Array(12);
  o.set([1, 1, 8, 10]);
  new DataView(o.buffer).setUint32(4, tsval >>> 0);
  new DataView(o.buffer).setUint32(8, tsecr >>> 0);
  return o;
}

export function l2Bytes(spec: FlowSpec): number {
  return 14 + 4 * spec.vlanTags.length;
}
export function l3HeaderBytes(spec: FlowSpec): number {
  return spec.isIpv6 ? 40 : 20 + (spec.ipOptions?.length ?? 0);
}
export function l4HeaderBytes(spec: FlowSpec): number {
  return spec.protocol === 'udp' ? 8 : 20 + (spec.tcpOptions?.length ?? 0);
}
export function headerBytes(spec: FlowSpec): number {
  return l2Bytes(spec) + l3HeaderBytes(spec) + l4HeaderBytes(spec);
}

function pseudoSum(spec: FlowSpec, l4Length: number): number {
  let sum = onesComplementSum(spec.srcIp);
  sum = onesComplementSum(spec.dstIp, sum);
  const protocol = spec.protocol === 'tcp' ? 6 : 17;
  return sum + protocol + (l4Length >>> 16) + (l4Length & 0xffff);
}

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

export interface PacketFields {
  seq: number;
  ipId: number;
  tcpFlags: number;
  /** The L4 checksum: 'full' (a wire frame) or 'partial' (the pseudo-header's sum, as a CHECKSUM_PARTIAL super-frame). */
  checksum: 'full' | 'partial';
}

/** One Ethernet frame of the flow carrying `payload`, every field written here. */
export function buildPacket(spec: FlowSpec, payload: Uint8Array, fields: PacketFields): Uint8Array {
  const l2 = l2Bytes(spec);
  const l3 = l3HeaderBytes(spec);
  const l4 = l4HeaderBytes(spec);
  const frame = new Uint8Array(l2 + l3 + l4 + payload.length);
  const view = new DataView(frame.buffer);
  frame.set(spec.dst, 0);
  frame.set(spec.src, 6);
  let at = 12;
  spec.vlanTags.forEach((tci, i) => {
    view.setUint16(at, spec.vlanTags.length === 2 && i === 0 ? 0x88a8 : 0x8100);
    view.setUint16(at + 2, tci);
    at += 4;
  });
  view.setUint16(at, spec.isIpv6 ? 0x86dd : 0x0800);
  const ip = l2;
  const ipLength = l3 + l4 + payload.length;
  if (spec.isIpv6) {
    view.setUint32(ip, ((6 << 28) | ((spec.tos & 0xff) << 20) | (spec.flowLabel & 0xfffff)) >>> 0);
    view.setUint16(ip + 4, ipLength - 40);
    frame[ip + 6] = spec.protocol === 'tcp' ? 6 : 17;
    frame[ip + 7] = spec.ttl;
    frame.set(spec.srcIp, ip + 8);
    frame.set(spec.dstIp, ip + 24);
  } else {
    frame[ip] = 0x40 | (l3 / 4);
    frame[ip + 1] = spec.tos;
    view.setUint16(ip + 2, ipLength);
    view.setUint16(ip + 4, fields.ipId & 0xffff);
    view.setUint16(ip + 6, spec.isDf ? 0x4000 : 0);
    frame[ip + 8] = spec.ttl;
    frame[ip + 9] = spec.protocol === 'tcp' ? 6 : 17;
    frame.set(spec.srcIp, ip + 12);
    frame.set(spec.dstIp, ip + 16);
    if (spec.ipOptions) frame.set(spec.ipOptions, ip + 20);
    view.setUint16(ip + 10, ~onesComplementSum(frame.subarray(ip, ip + l3)) & 0xffff);
  }
  const t = l2 + l3;
  view.setUint16(t, spec.srcPort);
  view.setUint16(t + 2, spec.dstPort);
  const l4Length = l4 + payload.length;
  if (spec.protocol === 'tcp') {
    view.setUint32(t + 4, fields.seq >>> 0);
    view.setUint32(t + 8, spec.ack >>> 0);
    frame[t + 12] = (l4 / 4) << 4;
    frame[t + 13] = fields.tcpFlags;
    view.setUint16(t + 14, spec.window);
    if (spec.tcpOptions) frame.set(spec.tcpOptions, t + 20);
  } else {
    view.setUint16(t + 4, l4Length);
  }
  frame.set(payload, t + l4);
  const checkAt = t + (spec.protocol === 'tcp' ? 16 : 6);
  if (fields.checksum === 'partial') {
    view.setUint16(checkAt, fold(pseudoSum(spec, l4Length)));
  } else {
    let value = ~onesComplementSum(frame.subarray(t), pseudoSum(spec, l4Length)) & 0xffff;
    if (value === 0 && spec.protocol === 'udp') value = 0xffff;
    view.setUint16(checkAt, value);
  }
  return frame;
}

export interface SuperFrame {
  /** The virtio-net header as the kernel writes it (hdr_len: `kernelHdrLen`, not trusted). */
  header: Uint8Array;
  /** The header as the addon must normalize it (hdr_len = the real header length). */
  normalized: Uint8Array;
  frame: Uint8Array;
}

export function vnetHeader(fields: {
  flags: number;
  gsoType: number;
  hdrLen: number;
  gsoSize: number;
  csumStart: number;
  csumOffset: number;
}): Uint8Array {
  const h = new Uint8Array(10);
  const view = new DataView(h.buffer);
  h[0] = fields.flags;
  h[1] = fields.gsoType;
  view.setUint16(2, fields.hdrLen, true);
  view.setUint16(4, fields.gsoSize, true);
  view.setUint16(6, fields.csumStart, true);
  view.setUint16(8, fields.csumOffset, true);
  return h;
}

/** The super-frame a TAP reader gets for `payload` sent at `mss` (kernelHdrLen: what the kernel put in hdr_len). */
export function superFrame(spec: FlowSpec, payload: Uint8Array, mss: number, kernelHdrLen?: number): SuperFrame {
  const frame = buildPacket(spec, payload, { seq: spec.seq, ipId: spec.ipId, tcpFlags: spec.tcpFlags, checksum: 'partial' });
  const csumStart = l2Bytes(spec) + l3HeaderBytes(spec);
  const isTcp = spec.protocol === 'tcp';
  const gsoType = isTcp ? (spec.isIpv6 ? GSO_TCPV6 : GSO_TCPV4) : GSO_UDP_L4;
  const common = { flags: VNET_NEEDS_CSUM, gsoType, gsoSize: mss, csumStart, csumOffset: isTcp ? 16 : 6 };
  return {
    header: vnetHeader({ ...common, hdrLen: kernelHdrLen ?? headerBytes(spec) }),
    normalized: vnetHeader({ ...common, hdrLen: headerBytes(spec) }),
    frame,
  };
}

/**
 * The wire frames the kernel's GSO cuts that super-frame into (tcp_gso_segment / __udp_gso_segment): sequence
 * numbers advanced by the payload before, IPv4 ids incremented, FIN and PSH only on the last, CWR only on the
 * first, every checksum complete.
 */
export function wireSegments(spec: FlowSpec, payload: Uint8Array, mss: number): Uint8Array[] {
  const count = Math.max(1, Math.ceil(payload.length / mss));
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const isLast = i === count - 1;
    let flags = spec.tcpFlags;
    if (!isLast) flags &= ~(TCP_FIN | TCP_PSH);
    if (i > 0) flags &= ~TCP_CWR;
    out.push(
      buildPacket(spec, payload.subarray(i * mss, Math.min(payload.length, (i + 1) * mss)), {
        seq: (spec.seq + i * mss) >>> 0,
        ipId: (spec.ipId + i) & 0xffff,
        tcpFlags: flags,
        checksum: 'full',
      }),
    );
  }
  return out;
}

/** A random flow (seeded): addresses, ports, tags, IP version, options. */
export function randomFlow(random: () => number, overrides: Partial<FlowSpec> = {}): FlowSpec {
  const int = (n: number): number => Math.floor(random() * n);
  const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => int(256));
  const isIpv6 = overrides.isIpv6 ?? random() < 0.5;
  const tagCount = [0, 0, 1, 2][int(4)]!;
  const src = bytes(6);
  src[0] = (src[0]! & 0xfe) | 0x02;
  const dst = bytes(6);
  dst[0] = (dst[0]! & 0xfe) | 0x02;
  return {
    dst,
    src,
    vlanTags: Array.from({ length: tagCount }, () => int(0x10000)),
    isIpv6,
    protocol: 'tcp',
    srcIp: bytes(isIpv6 ? 16 : 4),
    dstIp: bytes(isIpv6 ? 16 : 4),
    srcPort: 1 + int(65535),
    dstPort: 1 + int(65535),
    ipId: int(65536),
    tos: int(256),
    isDf: random() < 0.7,
    flowLabel: int(0x100000),
    ttl: 1 + int(255),
    seq: int(2 ** 32),
    ack: int(2 ** 32),
    window: int(65536),
    tcpFlags: TCP_ACK | (random() < 0.5 ? TCP_PSH : 0),
    ...(random() < 0.6 ? { tcpOptions: timestampOptions(int(2 ** 32), int(2 ** 32)) } : {}),
    ...overrides,
  };
}

export function randomPayload(random: () => number, length: number): Uint8Array {
  return Uint8Array.from({ length }, () => Math.floor(random() * 256));
}

export { seededRandom };

/** Checks one wire frame's IPv4 header and L4 checksums with the oracle's sum: true when both verify. */
export function checksumsVerify(spec: FlowSpec, frame: Uint8Array): boolean {
  const ip = l2Bytes(spec);
  const l3 = l3HeaderBytes(spec);
  if (!spec.isIpv6 && onesComplementSum(frame.subarray(ip, ip + l3)) !== 0xffff) return false;
  const l4 = frame.subarray(ip + l3);
  return onesComplementSum(l4, pseudoSum(spec, l4.length)) === 0xffff;
}

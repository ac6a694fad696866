/**
 * Ethernet frame inspection: the first stage of the forwarding pipeline.
 *
 * Frames come from TAP devices and links, so they carry no preamble and no
 * FCS and are NOT padded to the 60-byte minimum: a 42-byte ARP request is a
 * legal frame here. Layout (IEEE 802.3 §3.1, 802.1Q §9.3):
 *
 *   dst(6) src(6) [TPID(2) TCI(2)]{0,2} etherType-or-length(2) payload…
 *
 * `inspectFrame` validates in this order and stops at the first failure:
 *   1. 'runt'               shorter than the 14-byte header;
 *   2. 'oversize'           longer than maxFrameBytes (default 1518 = 1514 + one tag);
 *   3. 'truncated-vlan-tag' a TPID says a tag follows but the frame ends inside it
 *                           (needs 18 bytes for one tag, 22 for two);
 *   4. 'source-multicast'   the source has the I/G bit (includes broadcast);
 *   5. 'source-zero'        the source is 00:00:00:00:00:00;
 *   6. 'length-mismatch'    an 802.3 length field (< 0x0600) larger than the payload present.
 *
 * Up to two tags are parsed (802.1ad S-tag then 802.1Q C-tag, or two 0x8100);
 * `vlanId` is the OUTER tag's VID and `etherType` the type after the last tag.
 *
 * Hot path: success writes into a caller-owned FrameInfo (`into`), failures
 * return a shared frozen FrameDrop per reason, so nothing is allocated.
 */
import { isMulticast, isZeroMac, readMac, type Mac } from './mac.js';

/* Specification constants */
export const ETHERNET_HEADER_BYTES = 14;
export const VLAN_TAG_BYTES = 4;
export const TPID_8021Q = 0x8100;
export const TPID_8021AD = 0x88a8;
/** Pre-standard QinQ TPID still seen on some gear. */
export const TPID_QINQ_LEGACY = 0x9100;
/** Type/length field values below this are 802.3 lengths (IEEE 802.3 §3.2.6). */
export const ETHERTYPE_MIN = 0x0600;
const VID_MASK = 0x0fff;

/* Implementation constants */
/** 1500-byte payload + 14-byte header + one 802.1Q tag, no FCS. */
export const DEFAULT_MAX_FRAME_BYTES = 1518;
const MAX_TAGS = 2;

const DST_OFFSET = 0;
const SRC_OFFSET = 6;
const TYPE_OFFSET = 12;

export type FrameDropReason =
  | 'runt'
  | 'truncated-vlan-tag'
  | 'oversize'
  | 'source-multicast'
  | 'source-zero'
  | 'length-mismatch';

export const FRAME_DROP_REASONS: readonly FrameDropReason[] = [
  'runt',
  'truncated-vlan-tag',
  'oversize',
  'source-multicast',
  'source-zero',
  'length-mismatch',
];

export interface FrameInfo {
  kind: 'frame';
  dst: Mac;
  src: Mac;
  /** EtherType (or 802.3 length) after any VLAN tags. */
  etherType: number;
  /** VID of the outer tag, or -1 when untagged. */
  vlanId: number;
  /** 14 + 4 per tag: where the payload starts. */
  headerBytes: number;
}

export interface FrameDrop {
  readonly kind: 'drop';
  readonly reason: FrameDropReason;
}

const DROPS: Readonly<Record<FrameDropReason, FrameDrop>> = Object.freeze({
  runt: Object.freeze({ kind: 'drop', reason: 'runt' }),
  'truncated-vlan-tag': Object.freeze({ kind: 'drop', reason: 'truncated-vlan-tag' }),
  oversize: Object.freeze({ kind: 'drop', reason: 'oversize' }),
  'source-multicast': Object.freeze({ kind: 'drop', reason: 'source-multicast' }),
  'source-zero': Object.freeze({ kind: 'drop', reason: 'source-zero' }),
  'length-mismatch': Object.freeze({ kind: 'drop', reason: 'length-mismatch' }),
});

export function createFrameInfo(): FrameInfo {
  return { kind: 'frame', dst: 0, src: 0, etherType: 0, vlanId: -1, headerBytes: ETHERNET_HEADER_BYTES };
}

function isTpid(value: number): boolean {
  return value === TPID_8021Q || value === TPID_8021AD || value === TPID_QINQ_LEGACY;
}

/**
 * Validates `bytes` as one Ethernet frame. On success returns `into` (filled
 * in; a fresh object when omitted); on failure a shared frozen drop.
 */
export function inspectFrame(
  bytes: Uint8Array,
  maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES,
  into: FrameInfo = createFrameInfo(),
): FrameInfo | FrameDrop {
  const length = bytes.length;
  if (length < ETHERNET_HEADER_BYTES) return DROPS.runt;
  if (length > maxFrameBytes) return DROPS.oversize;

  let typeOffset = TYPE_OFFSET;
  let etherType = (bytes[typeOffset]! << 8) | bytes[typeOffset + 1]!;
  let vlanId = -1;
  for (let tags = 0; tags < MAX_TAGS && isTpid(etherType); tags++) {
    if (length < typeOffset + VLAN_TAG_BYTES + 2) return DROPS['truncated-vlan-tag'];
    if (tags === 0) vlanId = ((bytes[typeOffset + 2]! << 8) | bytes[typeOffset + 3]!) & VID_MASK;
    typeOffset += VLAN_TAG_BYTES;
    etherType = (bytes[typeOffset]! << 8) | bytes[typeOffset + 1]!;
  }

  const src = readMac(bytes, SRC_OFFSET);
  if (isMulticast(src)) return DROPS['source-multicast'];
  if (isZeroMac(src)) return DROPS['source-zero'];

  const headerBytes = typeOffset + 2;
  if (etherType < ETHERTYPE_MIN && etherType > length - headerBytes) return DROPS['length-mismatch'];

  into.dst = readMac(bytes, DST_OFFSET);
  into.src = src;
  into.etherType = etherType;
  into.vlanId = vlanId;
  into.headerBytes = headerBytes;
  return into;
}

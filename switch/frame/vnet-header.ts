/**
 * The virtio-net header (include/uapi/linux/virtio_net.h, struct virtio_net_hdr: 10 bytes, little-endian) that a
 * TAP opened with IFF_VNET_HDR puts before every frame it reads and wants before every frame it is written. It
 * says what the VM's stack left undone: a TCP/UDP "super-frame" to cut into wire frames (gso_type, gso_size) and
 * a checksum to complete (NEEDS_CSUM at csum_start + csum_offset). The addon (switch/port/addon/gso.h) validates
 * and normalizes every header it reads — a VM writes them, so they are never trusted — and drops a frame whose
 * header it refuses, counted under one of VNET_DROP_REASONS on its port. What reaches TypeScript is therefore a
 * normalized header: hdr_len is the real length of the frame's headers, flags is NEEDS_CSUM or nothing, and all
 * ten bytes are zero for a frame with nothing pending.
 *
 * The helpers here read the wire frames a header stands for, for the counters and the size checks (the switch
 * counts what the VM sent: wire frames and their bytes, and checks maxFrameBytes against the segments).
 */

/* Specification constants (virtio_net.h) */
export const VNET_HEADER_BYTES = 10;
export const VNET_FLAG_NEEDS_CSUM = 1;
export const VNET_GSO_NONE = 0;
export const VNET_GSO_TCPV4 = 1;
export const VNET_GSO_TCPV6 = 4;
export const VNET_GSO_UDP_L4 = 5;
export const VNET_GSO_ECN = 0x80;

/** Why the addon refused a header (gso.h Reason, in its order: code 1 is the first). */
export type VnetDropReason =
  | 'vnet-short'
  | 'vnet-flags'
  | 'vnet-gso-type'
  | 'vnet-checksum'
  | 'vnet-gso-headers'
  | 'vnet-gso-size';

export const VNET_DROP_REASONS: readonly VnetDropReason[] = [
  'vnet-short',
  'vnet-flags',
  'vnet-gso-type',
  'vnet-checksum',
  'vnet-gso-headers',
  'vnet-gso-size',
];

const HDR_LEN = 2;
const GSO_SIZE = 4;

function u16(headers: Uint8Array, at: number): number {
  return headers[at]! | (headers[at + 1]! << 8);
}

/** Whether the header at `at` says the frame is a super-frame (has a GSO type). */
export function isSuperFrame(headers: Uint8Array, at: number): boolean {
  return (headers[at + 1]! & ~VNET_GSO_ECN) !== VNET_GSO_NONE;
}

/** Whether the frame needs work before a port without offloads takes it: a cut, or a checksum to complete. */
export function hasPendingWork(headers: Uint8Array, at: number): boolean {
  return headers[at] !== 0 || headers[at + 1] !== 0;
}

/** Wire frames a frame of `length` bytes with the (normalized) header at `at` stands for: 1 unless a super-frame. */
export function wireFrames(headers: Uint8Array, at: number, length: number): number {
  if (!isSuperFrame(headers, at)) return 1;
  const headerBytes = u16(headers, at + HDR_LEN);
  const gsoSize = u16(headers, at + GSO_SIZE);
  if (gsoSize === 0 || length <= headerBytes) return 1;
  return Math.ceil((length - headerBytes) / gsoSize);
}

/** Their bytes: every wire frame repeats the headers. */
export function wireBytes(headers: Uint8Array, at: number, length: number): number {
  return length + (wireFrames(headers, at, length) - 1) * u16(headers, at + HDR_LEN);
}

/** The largest wire frame it stands for (what a maxFrameBytes check applies to). */
export function largestWireFrame(headers: Uint8Array, at: number, length: number): number {
  if (!isSuperFrame(headers, at)) return length;
  return Math.min(length, u16(headers, at + HDR_LEN) + u16(headers, at + GSO_SIZE));
}

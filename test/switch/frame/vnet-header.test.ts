import { describe, expect, it } from 'vitest';
import {
  VNET_GSO_ECN,
  VNET_GSO_NONE,
  VNET_GSO_TCPV4,
  VNET_GSO_UDP_L4,
  hasPendingWork,
  isSuperFrame,
  largestWireFrame,
  wireBytes,
  wireFrames,
} from '../../../switch/frame/vnet-header.js';

/** Headers packed as the addon hands them over: 10 bytes each, at 10·i. */
function headers(...list: { flags?: number; gsoType?: number; hdrLen?: number; gsoSize?: number }[]): Uint8Array {
  const out = new Uint8Array(10 * list.length);
  const view = new DataView(out.buffer);
  list.forEach((h, i) => {
    out[10 * i] = h.flags ?? 0;
    out[10 * i + 1] = h.gsoType ?? VNET_GSO_NONE;
    view.setUint16(10 * i + 2, h.hdrLen ?? 0, true);
    view.setUint16(10 * i + 4, h.gsoSize ?? 0, true);
  });
  return out;
}

describe('vnet-header', () => {
  const packed = headers(
    {},
    { flags: 1 },
    { flags: 1, gsoType: VNET_GSO_TCPV4, hdrLen: 66, gsoSize: 1448 },
    { flags: 1, gsoType: VNET_GSO_TCPV4 | VNET_GSO_ECN, hdrLen: 66, gsoSize: 1448 },
    { flags: 1, gsoType: VNET_GSO_UDP_L4, hdrLen: 42, gsoSize: 1000 },
  );

  it('tells super-frames and pending work apart', () => {
    expect([0, 1, 2, 3, 4].map((i) => isSuperFrame(packed, 10 * i))).toEqual([false, false, true, true, true]);
    expect([0, 1, 2, 3, 4].map((i) => hasPendingWork(packed, 10 * i))).toEqual([false, true, true, true, true]);
  });

  it('counts the wire frames and bytes a super-frame stands for, headers repeated', () => {
    // 66 + 3 × 1448 + 100 bytes of payload: four segments.
    const length = 66 + 3 * 1448 + 100;
    expect(wireFrames(packed, 20, length)).toBe(4);
    expect(wireBytes(packed, 20, length)).toBe(length + 3 * 66);
    expect(largestWireFrame(packed, 20, length)).toBe(66 + 1448);
    expect(wireFrames(packed, 30, length)).toBe(4);
    // Exactly full segments, and one that fits in one.
    expect(wireFrames(packed, 40, 42 + 5000)).toBe(5);
    expect(wireFrames(packed, 20, 66 + 1448)).toBe(1);
    expect(largestWireFrame(packed, 20, 66 + 700)).toBe(66 + 700);
  });

  it('counts a frame without GSO as itself, whatever its length', () => {
    expect(wireFrames(packed, 0, 9000)).toBe(1);
    expect(wireBytes(packed, 10, 9000)).toBe(9000);
    expect(largestWireFrame(packed, 10, 9000)).toBe(9000);
  });
});

import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_FRAME_BYTES,
  createFrameInfo,
  inspectFrame,
  type FrameDropReason,
} from '../../../switch/frame/ethernet.js';
import { BROADCAST_MAC } from '../../../switch/frame/mac.js';
import { arpRequest, ethernetFrame, ETHERTYPE_ARP, ETHERTYPE_IPV4, mac } from '../../support/frames.js';

const A = mac('02:00:c6:13:01:01');
const B = mac('02:00:c6:13:01:02');

function reasonOf(bytes: Uint8Array, max?: number): FrameDropReason | 'ok' {
  const result = inspectFrame(bytes, max);
  return result.kind === 'drop' ? result.reason : 'ok';
}

describe('inspectFrame', () => {
  it('parses an untagged frame', () => {
    const info = inspectFrame(ethernetFrame({ dst: B, src: A, payloadBytes: 46 }));
    expect(info).toEqual({ kind: 'frame', dst: B, src: A, etherType: ETHERTYPE_IPV4, vlanId: -1, headerBytes: 14 });
  });

  it('accepts a 42-byte ARP: TAP frames are not padded', () => {
    const frame = arpRequest(A, '198.19.0.1', '198.19.0.2');
    expect(frame.length).toBe(42);
    expect(inspectFrame(frame)).toMatchObject({ kind: 'frame', dst: BROADCAST_MAC, src: A, etherType: ETHERTYPE_ARP });
  });

  it('accepts a bare 14-byte header', () => {
    expect(reasonOf(ethernetFrame({ dst: B, src: A, payloadBytes: 0 }))).toBe('ok');
  });

  it('parses one 802.1Q tag: inner EtherType and VID', () => {
    const info = inspectFrame(ethernetFrame({ dst: B, src: A, vlanId: 42, etherType: ETHERTYPE_ARP }));
    expect(info).toMatchObject({ kind: 'frame', etherType: ETHERTYPE_ARP, vlanId: 42, headerBytes: 18 });
  });

  it('parses 802.1ad + 802.1Q (QinQ): outer VID, inner EtherType', () => {
    const frame = ethernetFrame({ dst: B, src: A, vlanId: 100, tpid: 0x88a8, innerVlanId: 7 });
    expect(inspectFrame(frame, 1522)).toMatchObject({
      kind: 'frame',
      etherType: ETHERTYPE_IPV4,
      vlanId: 100,
      headerBytes: 22,
    });
  });

  it('writes into the FrameInfo it is given and returns it', () => {
    const into = createFrameInfo();
    const result = inspectFrame(ethernetFrame({ dst: B, src: A }), DEFAULT_MAX_FRAME_BYTES, into);
    expect(result).toBe(into);
    expect(into.src).toBe(A);
  });

  describe('drops every malformed kind', () => {
    it('runt: shorter than 14 bytes', () => {
      expect(reasonOf(new Uint8Array(0))).toBe('runt');
      expect(reasonOf(ethernetFrame({ dst: B, src: A, payloadBytes: 0 }).subarray(0, 13))).toBe('runt');
    });

    it('truncated-vlan-tag: a TPID with fewer than 18 bytes', () => {
      const tagged = ethernetFrame({ dst: B, src: A, vlanId: 5, payloadBytes: 0 }); // exactly 18
      expect(reasonOf(tagged)).toBe('ok');
      for (const length of [14, 15, 16, 17]) expect(reasonOf(tagged.subarray(0, length))).toBe('truncated-vlan-tag');
    });

    it('truncated-vlan-tag: a second tag cut short', () => {
      const qinq = ethernetFrame({ dst: B, src: A, vlanId: 5, tpid: 0x88a8, innerVlanId: 6, payloadBytes: 0 });
      expect(reasonOf(qinq.subarray(0, 21))).toBe('truncated-vlan-tag');
    });

    it('oversize: longer than maxFrameBytes (default 1518)', () => {
      expect(reasonOf(ethernetFrame({ dst: B, src: A, vlanId: 1, payloadBytes: 1500 }))).toBe('ok'); // 1518
      expect(reasonOf(ethernetFrame({ dst: B, src: A, payloadBytes: 1505 }))).toBe('oversize'); // 1519
      expect(reasonOf(ethernetFrame({ dst: B, src: A, payloadBytes: 100 }), 100)).toBe('oversize');
      expect(reasonOf(ethernetFrame({ dst: B, src: A, payloadBytes: 8986 }), 9000)).toBe('ok');
    });

    it('source-multicast: the source has the group bit (broadcast included)', () => {
      expect(reasonOf(ethernetFrame({ dst: B, src: '01:00:5e:00:00:01' }))).toBe('source-multicast');
      expect(reasonOf(ethernetFrame({ dst: B, src: BROADCAST_MAC }))).toBe('source-multicast');
    });

    it('source-zero: 00:00:00:00:00:00', () => {
      expect(reasonOf(ethernetFrame({ dst: B, src: 0 }))).toBe('source-zero');
    });

    it('length-mismatch: 802.3 length larger than the payload present', () => {
      expect(reasonOf(ethernetFrame({ dst: B, src: A, etherType: 46, payloadBytes: 46 }))).toBe('ok');
      expect(reasonOf(ethernetFrame({ dst: B, src: A, etherType: 40, payloadBytes: 46 }))).toBe('ok'); // padded
      expect(reasonOf(ethernetFrame({ dst: B, src: A, etherType: 47, payloadBytes: 46 }))).toBe('length-mismatch');
      const tagged = ethernetFrame({ dst: B, src: A, vlanId: 3, etherType: 10, payloadBytes: 9 });
      expect(reasonOf(tagged)).toBe('length-mismatch');
      expect(reasonOf(ethernetFrame({ dst: B, src: A, etherType: 0x0600, payloadBytes: 0 }))).toBe('ok'); // a type
    });

    it('returns shared frozen drop objects (no allocation per drop)', () => {
      const first = inspectFrame(new Uint8Array(3));
      expect(inspectFrame(new Uint8Array(5))).toBe(first);
      expect(Object.isFrozen(first)).toBe(true);
    });
  });
});

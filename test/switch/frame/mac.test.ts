import { describe, expect, it } from 'vitest';
import {
  BROADCAST_MAC,
  formatMac,
  isBroadcast,
  isMac,
  isMulticast,
  isZeroMac,
  parseMac,
  readMac,
  writeMac,
} from '../../../switch/frame/mac.js';

describe('mac', () => {
  it('reads the first octet as the most significant byte', () => {
    const bytes = Uint8Array.from([0xff, 0x02, 0x00, 0xc6, 0x13, 0x01, 0x01, 0xff]);
    expect(readMac(bytes, 1)).toBe(0x0200c6130101);
  });

  it('round-trips write/read across the whole 48-bit range', () => {
    const bytes = new Uint8Array(8);
    for (const mac of [0, 1, 0xffffffff, 0x1_0000_0000, 0x80_0000_0000, 0xfe_dc_ba_98_76_54, BROADCAST_MAC]) {
      writeMac(bytes, 2, mac);
      expect(readMac(bytes, 2)).toBe(mac);
    }
  });

  it('formats lower-case with colons and zero padding', () => {
    expect(formatMac(0x0200c6130101)).toBe('02:00:c6:13:01:01');
    expect(formatMac(0)).toBe('00:00:00:00:00:00');
    expect(formatMac(BROADCAST_MAC)).toBe('ff:ff:ff:ff:ff:ff');
  });

  it('parses colon and dash forms in any case', () => {
    expect(parseMac('02:00:C6:13:01:01')).toBe(0x0200c6130101);
    expect(parseMac('02-00-c6-13-01-01')).toBe(0x0200c6130101);
    expect(parseMac('FF:FF:FF:FF:FF:FF')).toBe(BROADCAST_MAC);
  });

  it.each([
    '',
    '02:00:c6:13:01',
    '02:00:c6:13:01:01:05',
    '02:00-c6:13:01:01',
    '0g:00:c6:13:01:01',
    '2:0:c6:13:1:1',
    ' 02:00:c6:13:01:01',
  ])(
    'rejects %j',
    (text) => {
      expect(parseMac(text)).toBeUndefined();
    },
  );

  it('classifies group, broadcast and zero addresses', () => {
    expect(isMulticast(BROADCAST_MAC)).toBe(true);
    expect(isMulticast(0x01005e000001)).toBe(true); // IPv4 multicast
    expect(isMulticast(0x333300000001)).toBe(true); // IPv6 multicast
    expect(isMulticast(0x0200c6130101)).toBe(false);
    expect(isMulticast(0xfe0000000000)).toBe(false);
    expect(isBroadcast(BROADCAST_MAC)).toBe(true);
    expect(isZeroMac(0)).toBe(true);
    expect(isZeroMac(1)).toBe(false);
  });

  it('isMac accepts only integers in [0, 2^48)', () => {
    expect(isMac(0)).toBe(true);
    expect(isMac(BROADCAST_MAC)).toBe(true);
    expect(isMac(BROADCAST_MAC + 1)).toBe(false);
    expect(isMac(-1)).toBe(false);
    expect(isMac(1.5)).toBe(false);
    expect(isMac('02:00:00:00:00:01')).toBe(false);
  });
});

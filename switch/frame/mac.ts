/**
 * MAC addresses as plain numbers.
 *
 * A 48-bit address fits exactly in a double (integers are exact up to 2^53),
 * so a Mac is a `number`: Map lookups hash it as a Smi/HeapNumber with no
 * string building, and comparing two MACs is `===`. The first octet on the
 * wire is the most significant byte (02:00:00:00:00:01 = 0x020000000001).
 *
 * The I/G bit (individual/group, IEEE 802-2014 §8.2) is the least significant
 * bit of the first octet: set for multicast, and therefore for broadcast.
 */
export type Mac = number;

/** 2^40: the weight of the first octet. */
const OCTET0_WEIGHT = 0x100_0000_0000;
/** 2^32: splits a Mac into a 16-bit high part and a 32-bit low part. */
const LOW32_WEIGHT = 0x1_0000_0000;

export const MAC_BYTES = 6;
export const BROADCAST_MAC: Mac = 0xffff_ffff_ffff;
export const ZERO_MAC: Mac = 0;

/** Reads the 6 bytes at `offset`. The caller guarantees offset + 6 <= length. */
export function readMac(bytes: Uint8Array, offset: number): Mac {
  const high16 = (bytes[offset]! << 8) | bytes[offset + 1]!;
  const low32 =
    ((bytes[offset + 2]! << 24) | (bytes[offset + 3]! << 16) | (bytes[offset + 4]! << 8) | bytes[offset + 5]!) >>> 0;
  return high16 * LOW32_WEIGHT + low32;
}

export function writeMac(bytes: Uint8Array, offset: number, mac: Mac): void {
  const high16 = Math.floor(mac / LOW32_WEIGHT);
  const low32 = mac % LOW32_WEIGHT;
  bytes[offset] = high16 >>> 8;
  bytes[offset + 1] = high16 & 0xff;
  bytes[offset + 2] = low32 >>> 24;
  bytes[offset + 3] = (low32 >>> 16) & 0xff;
  bytes[offset + 4] = (low32 >>> 8) & 0xff;
  bytes[offset + 5] = low32 & 0xff;
}

/** True for group addresses (multicast, including broadcast). */
export function isMulticast(mac: Mac): boolean {
  // mac / 2^40 < 256, so the int32 conversion of `|`/`&` truncates it to the first octet.
  return ((mac / OCTET0_WEIGHT) & 1) === 1;
}

export function isBroadcast(mac: Mac): boolean {
  return mac === BROADCAST_MAC;
}

export function isZeroMac(mac: Mac): boolean {
  return mac === ZERO_MAC;
}

/** True when `value` is an integer in [0, 2^48): a value that can be a Mac. */
export function isMac(value: unknown): value is Mac {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= BROADCAST_MAC;
}

/** Lower-case colon form, e.g. `02:00:c6:13:01:01`. */
export function formatMac(mac: Mac): string {
  let text = '';
  for (let shift = 5; shift >= 0; shift--) {
    const octet = Math.floor(mac / 2 ** (8 * shift)) & 0xff;
    text += (shift === 5 ? '' : ':') + (octet < 16 ? '0' : '') + octet.toString(16);
  }
  return text;
}

const MAC_TEXT = /^([0-9a-f]{2})([:-])([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})$/i;

/** Accepts `aa:bb:cc:dd:ee:ff` or `aa-bb-cc-dd-ee-ff` (one separator throughout), any case. */
export function parseMac(text: string): Mac | undefined {
  const match = MAC_TEXT.exec(text);
  if (!match) return undefined;
  let mac = 0;
  for (const index of [1, 3, 4, 5, 6, 7]) mac = mac * 256 + parseInt(match[index]!, 16);
  return mac;
}

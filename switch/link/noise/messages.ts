/**
 * WireGuard message formats (whitepaper §5.4.2–5.4.7): parse and serialize.
 *
 * Every message starts with a little-endian u32 type (1–4: the type byte then
 * three zero bytes). Handshake messages have one fixed size; a parse matches on
 * type AND length together (boringtun `parse_incoming_packet`, wireguard-go
 * `errMessageLengthMismatch`). Parsed fields are views into the datagram, not
 * copies: whoever keeps a field copies it.
 *
 *   initiation (148): type | sender | ephemeral 32 | static 32+16 | timestamp 12+16 | mac1 | mac2
 *   response    (92): type | sender | receiver | ephemeral 32 | empty 0+16 | mac1 | mac2
 *   cookie reply(64): type | receiver | nonce 24 | cookie 16+16
 *   transport (32+n): type | receiver | counter u64 | payload n (padded to 16) + tag 16
 */
import { AEAD_TAG_BYTES, COOKIE_NONCE_BYTES, KEY_BYTES, MAC_BYTES, MAX_MESSAGE_BYTES, TAI64N_BYTES } from './constants.js';

export const MESSAGE_INITIATION_TYPE = 1;
export const MESSAGE_RESPONSE_TYPE = 2;
export const MESSAGE_COOKIE_REPLY_TYPE = 3;
export const MESSAGE_TRANSPORT_TYPE = 4;

export const MESSAGE_INITIATION_SIZE = 148;
export const MESSAGE_RESPONSE_SIZE = 92;
export const MESSAGE_COOKIE_REPLY_SIZE = 64;
export const MESSAGE_TRANSPORT_HEADER_SIZE = 16;
/** A transport message with an empty payload (a keepalive): header + tag. */
export const MESSAGE_TRANSPORT_MIN_SIZE = MESSAGE_TRANSPORT_HEADER_SIZE + AEAD_TAG_BYTES;
/** Largest plaintext that fits in one transport message. */
export const MAX_TRANSPORT_PLAINTEXT_BYTES = MAX_MESSAGE_BYTES - MESSAGE_TRANSPORT_MIN_SIZE;

/* Field offsets */
export const INITIATION_SENDER = 4;
export const INITIATION_EPHEMERAL = 8;
export const INITIATION_STATIC = INITIATION_EPHEMERAL + KEY_BYTES; // 40
export const INITIATION_TIMESTAMP = INITIATION_STATIC + KEY_BYTES + AEAD_TAG_BYTES; // 88
export const INITIATION_MAC1 = INITIATION_TIMESTAMP + TAI64N_BYTES + AEAD_TAG_BYTES; // 116
export const INITIATION_MAC2 = INITIATION_MAC1 + MAC_BYTES; // 132

export const RESPONSE_SENDER = 4;
export const RESPONSE_RECEIVER = 8;
export const RESPONSE_EPHEMERAL = 12;
export const RESPONSE_EMPTY = RESPONSE_EPHEMERAL + KEY_BYTES; // 44
export const RESPONSE_MAC1 = RESPONSE_EMPTY + AEAD_TAG_BYTES; // 60
export const RESPONSE_MAC2 = RESPONSE_MAC1 + MAC_BYTES; // 76

export const COOKIE_RECEIVER = 4;
export const COOKIE_NONCE = 8;
export const COOKIE_ENCRYPTED = COOKIE_NONCE + COOKIE_NONCE_BYTES; // 32

export const TRANSPORT_RECEIVER = 4;
export const TRANSPORT_COUNTER = 8;

export interface MessageInitiation {
  readonly type: typeof MESSAGE_INITIATION_TYPE;
  readonly bytes: Uint8Array;
  readonly senderIndex: number;
  readonly ephemeral: Uint8Array;
  readonly encryptedStatic: Uint8Array;
  readonly encryptedTimestamp: Uint8Array;
  readonly mac1: Uint8Array;
  readonly mac2: Uint8Array;
}

export interface MessageResponse {
  readonly type: typeof MESSAGE_RESPONSE_TYPE;
  readonly bytes: Uint8Array;
  readonly senderIndex: number;
  readonly receiverIndex: number;
  readonly ephemeral: Uint8Array;
  readonly encryptedNothing: Uint8Array;
  readonly mac1: Uint8Array;
  readonly mac2: Uint8Array;
}

export interface MessageCookieReply {
  readonly type: typeof MESSAGE_COOKIE_REPLY_TYPE;
  readonly bytes: Uint8Array;
  readonly receiverIndex: number;
  readonly nonce: Uint8Array;
  readonly encryptedCookie: Uint8Array;
}

export interface MessageTransport {
  readonly type: typeof MESSAGE_TRANSPORT_TYPE;
  readonly bytes: Uint8Array;
  readonly receiverIndex: number;
  /** The 64-bit counter as two u32 halves (exact over the whole range, no bigint). */
  readonly counterLo: number;
  readonly counterHi: number;
  /** Encrypted payload ‖ tag. */
  readonly encrypted: Uint8Array;
}

export type Message = MessageInitiation | MessageResponse | MessageCookieReply | MessageTransport;

export type ParseResult =
  | { readonly ok: true; readonly msg: Message }
  | { readonly ok: false; readonly reason: 'truncated' | 'oversized' | 'unknown-type' };

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

function sizeCheck(length: number, expected: number): ParseResult | undefined {
  if (length < expected) return { ok: false, reason: 'truncated' };
  if (length > expected) return { ok: false, reason: 'oversized' };
  return undefined;
}

/** Classifies and splits a datagram. Never throws. */
export function parsePacket(bytes: Uint8Array): ParseResult {
  if (bytes.length < 4) return { ok: false, reason: 'truncated' };
  if (bytes.length > MAX_MESSAGE_BYTES) return { ok: false, reason: 'oversized' };
  const v = view(bytes);
  const type = v.getUint32(0, true);
  switch (type) {
    case MESSAGE_TRANSPORT_TYPE: {
      if (bytes.length < MESSAGE_TRANSPORT_MIN_SIZE) return { ok: false, reason: 'truncated' };
      return {
        ok: true,
        msg: {
          type: MESSAGE_TRANSPORT_TYPE,
          bytes,
          receiverIndex: v.getUint32(TRANSPORT_RECEIVER, true),
          counterLo: v.getUint32(TRANSPORT_COUNTER, true),
          counterHi: v.getUint32(TRANSPORT_COUNTER + 4, true),
          encrypted: bytes.subarray(MESSAGE_TRANSPORT_HEADER_SIZE),
        },
      };
    }
    case MESSAGE_INITIATION_TYPE:
      return (
        sizeCheck(bytes.length, MESSAGE_INITIATION_SIZE) ?? {
          ok: true,
          msg: {
            type: MESSAGE_INITIATION_TYPE,
            bytes,
            senderIndex: v.getUint32(INITIATION_SENDER, true),
            ephemeral: bytes.subarray(INITIATION_EPHEMERAL, INITIATION_STATIC),
            encryptedStatic: bytes.subarray(INITIATION_STATIC, INITIATION_TIMESTAMP),
            encryptedTimestamp: bytes.subarray(INITIATION_TIMESTAMP, INITIATION_MAC1),
            mac1: bytes.subarray(INITIATION_MAC1, INITIATION_MAC2),
            mac2: bytes.subarray(INITIATION_MAC2, MESSAGE_INITIATION_SIZE),
          },
        }
      );
    case MESSAGE_RESPONSE_TYPE:
      return (
        sizeCheck(bytes.length, MESSAGE_RESPONSE_SIZE) ?? {
          ok: true,
          msg: {
            type: MESSAGE_RESPONSE_TYPE,
            bytes,
            senderIndex: v.getUint32(RESPONSE_SENDER, true),
            receiverIndex: v.getUint32(RESPONSE_RECEIVER, true),
            ephemeral: bytes.subarray(RESPONSE_EPHEMERAL, RESPONSE_EMPTY),
            encryptedNothing: bytes.subarray(RESPONSE_EMPTY, RESPONSE_MAC1),
            mac1: bytes.subarray(RESPONSE_MAC1, RESPONSE_MAC2),
            mac2: bytes.subarray(RESPONSE_MAC2, MESSAGE_RESPONSE_SIZE),
          },
        }
      );
    case MESSAGE_COOKIE_REPLY_TYPE:
      return (
        sizeCheck(bytes.length, MESSAGE_COOKIE_REPLY_SIZE) ?? {
          ok: true,
          msg: {
            type: MESSAGE_COOKIE_REPLY_TYPE,
            bytes,
            receiverIndex: v.getUint32(COOKIE_RECEIVER, true),
            nonce: bytes.subarray(COOKIE_NONCE, COOKIE_ENCRYPTED),
            encryptedCookie: bytes.subarray(COOKIE_ENCRYPTED, MESSAGE_COOKIE_REPLY_SIZE),
          },
        }
      );
    default:
      return { ok: false, reason: 'unknown-type' };
  }
}

/** Offset of mac1 in a handshake message (initiation or response). */
export function mac1Offset(bytes: Uint8Array): number {
  return bytes.length === MESSAGE_INITIATION_SIZE ? INITIATION_MAC1 : RESPONSE_MAC1;
}

export function writeInitiation(
  senderIndex: number,
  ephemeral: Uint8Array,
  encryptedStatic: Uint8Array,
  encryptedTimestamp: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(MESSAGE_INITIATION_SIZE);
  const v = view(out);
  v.setUint32(0, MESSAGE_INITIATION_TYPE, true);
  v.setUint32(INITIATION_SENDER, senderIndex, true);
  out.set(ephemeral, INITIATION_EPHEMERAL);
  out.set(encryptedStatic, INITIATION_STATIC);
  out.set(encryptedTimestamp, INITIATION_TIMESTAMP);
  return out;
}

export function writeResponse(
  senderIndex: number,
  receiverIndex: number,
  ephemeral: Uint8Array,
  encryptedNothing: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(MESSAGE_RESPONSE_SIZE);
  const v = view(out);
  v.setUint32(0, MESSAGE_RESPONSE_TYPE, true);
  v.setUint32(RESPONSE_SENDER, senderIndex, true);
  v.setUint32(RESPONSE_RECEIVER, receiverIndex, true);
  out.set(ephemeral, RESPONSE_EPHEMERAL);
  out.set(encryptedNothing, RESPONSE_EMPTY);
  return out;
}

export function writeCookieReply(receiverIndex: number, nonce: Uint8Array, encryptedCookie: Uint8Array): Uint8Array {
  const out = new Uint8Array(MESSAGE_COOKIE_REPLY_SIZE);
  const v = view(out);
  v.setUint32(0, MESSAGE_COOKIE_REPLY_TYPE, true);
  v.setUint32(COOKIE_RECEIVER, receiverIndex, true);
  out.set(nonce, COOKIE_NONCE);
  out.set(encryptedCookie, COOKIE_ENCRYPTED);
  return out;
}

/** Writes a transport header into `out` (which the caller sized for payload + tag). */
export function writeTransportHeader(out: Uint8Array, receiverIndex: number, counterLo: number, counterHi: number): void {
  const v = view(out);
  v.setUint32(0, MESSAGE_TRANSPORT_TYPE, true);
  v.setUint32(TRANSPORT_RECEIVER, receiverIndex, true);
  v.setUint32(TRANSPORT_COUNTER, counterLo, true);
  v.setUint32(TRANSPORT_COUNTER + 4, counterHi, true);
}

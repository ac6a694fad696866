/**
 * MAC1, MAC2 and cookie replies (whitepaper §5.4.4, §5.4.7; wireguard-go
 * `device/cookie.go`).
 *
 * - Every handshake message carries mac1 = MAC(HASH("mac1----" ‖ Spub_receiver),
 *   msg up to mac1): proof the sender knows the receiver's public key. Checked
 *   before any DH work.
 * - mac2 = MAC(cookie, msg up to mac2), or zeros when the sender holds no fresh
 *   cookie. A responder under load only processes messages with a valid mac2 and
 *   answers the others with a cookie reply: cookie = MAC(Rm, source address),
 *   Rm a random secret rotated every 120 s, sent encrypted with XChaCha20-Poly1305
 *   under HASH("cookie--" ‖ Spub_responder), with the rejected message's mac1 as AD.
 *
 * CookieChecker is the receiving side (one per device, keyed on our static
 * public key); CookieGenerator the sending side (one per peer, keyed on the
 * peer's). The "source address" is the endpoint string given to receive(),
 * which the cookie binds to (it never leaves this host in clear).
 */
import { COOKIE_NONCE_BYTES, COOKIE_REFRESH_TIME_MS, MAC_BYTES, WG_LABEL_COOKIE, WG_LABEL_MAC1 } from './constants.js';
import { equalBytes, hash, mac, type RandomBytes, xaeadOpen, xaeadSeal } from './crypto.js';
import { type MessageCookieReply, mac1Offset, writeCookieReply } from './messages.js';

const encoder = new TextEncoder();
const LABEL_MAC1 = encoder.encode(WG_LABEL_MAC1);
const LABEL_COOKIE = encoder.encode(WG_LABEL_COOKIE);
const ZERO_MAC = new Uint8Array(MAC_BYTES);

export class CookieChecker {
  private readonly mac1Key: Uint8Array;
  private readonly cookieKey: Uint8Array;
  private secret = new Uint8Array(0);
  private secretSetMs = Number.NEGATIVE_INFINITY;

  constructor(ourPublicKey: Uint8Array) {
    this.mac1Key = hash(LABEL_MAC1, ourPublicKey);
    this.cookieKey = hash(LABEL_COOKIE, ourPublicKey);
  }

  /** mac1 of a handshake message (initiation or response) is valid for our key. */
  checkMac1(bytes: Uint8Array): boolean {
    const at = mac1Offset(bytes);
    return equalBytes(mac(this.mac1Key, bytes.subarray(0, at)), bytes.subarray(at, at + MAC_BYTES));
  }

  /** mac2 is valid for a cookie we gave `source` with the current secret. */
  checkMac2(bytes: Uint8Array, source: string, nowMs: number): boolean {
    if (nowMs - this.secretSetMs > COOKIE_REFRESH_TIME_MS) return false;
    const at = mac1Offset(bytes) + MAC_BYTES;
    const cookie = mac(this.secret, encoder.encode(source));
    return equalBytes(mac(cookie, bytes.subarray(0, at)), bytes.subarray(at, at + MAC_BYTES));
  }

  /** A cookie reply (type 3) to `bytes`, addressed to its sender index. */
  createReply(bytes: Uint8Array, senderIndex: number, source: string, nowMs: number, randomBytes: RandomBytes): Uint8Array {
    if (nowMs - this.secretSetMs > COOKIE_REFRESH_TIME_MS) {
      this.secret = new Uint8Array(randomBytes(32).subarray(0, 32));
      this.secretSetMs = nowMs;
    }
    const cookie = mac(this.secret, encoder.encode(source));
    const at = mac1Offset(bytes);
    const nonce = new Uint8Array(randomBytes(COOKIE_NONCE_BYTES).subarray(0, COOKIE_NONCE_BYTES));
    const encrypted = xaeadSeal(this.cookieKey, nonce, cookie, bytes.subarray(at, at + MAC_BYTES));
    return writeCookieReply(senderIndex, nonce, encrypted);
  }
}

export class CookieGenerator {
  private readonly mac1Key: Uint8Array;
  private readonly cookieKey: Uint8Array;
  private cookie: Uint8Array | undefined;
  private cookieSetMs = 0;
  private lastMac1: Uint8Array | undefined;

  constructor(peerPublicKey: Uint8Array) {
    this.mac1Key = hash(LABEL_MAC1, peerPublicKey);
    this.cookieKey = hash(LABEL_COOKIE, peerPublicKey);
  }

  /** Fills mac1 and mac2 of an outgoing handshake message in place. */
  addMacs(bytes: Uint8Array, nowMs: number): void {
    const at = mac1Offset(bytes);
    const mac1 = mac(this.mac1Key, bytes.subarray(0, at));
    bytes.set(mac1, at);
    this.lastMac1 = mac1;
    const fresh = this.cookie !== undefined && nowMs - this.cookieSetMs <= COOKIE_REFRESH_TIME_MS;
    bytes.set(fresh && this.cookie ? mac(this.cookie, bytes.subarray(0, at + MAC_BYTES)) : ZERO_MAC, at + MAC_BYTES);
  }

  /** Takes the cookie from a reply to our last message; false if it does not open. */
  consumeReply(msg: MessageCookieReply, nowMs: number): boolean {
    if (this.lastMac1 === undefined) return false;
    const cookie = xaeadOpen(this.cookieKey, msg.nonce, msg.encryptedCookie, this.lastMac1);
    if (cookie === null) return false;
    this.cookie = cookie;
    this.cookieSetMs = nowMs;
    return true;
  }
}

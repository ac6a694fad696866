/**
 * The Noise_IKpsk2 handshake of WireGuard (whitepaper §5.4.2–5.4.5), as pure
 * steps over one peer's HandshakeState. No I/O, no clock, no peer table: the
 * device supplies keys, indices, randomness and time, and adds mac1/mac2.
 *
 *   initiator                                   responder
 *   createInitiation ── type 1 ─────────────▶  openInitiation (static → which peer)
 *                                              consumeInitiation (timestamp, flood)
 *   consumeResponse  ◀──────────── type 2 ──  createResponse
 *   deriveKeypair                              deriveKeypair
 *
 * Each step computes into locals and commits to the state only on success, so
 * a forged or garbled message never disturbs a handshake in progress
 * (wireguard-go `device/noise-protocol.go` does the same).
 */
import { KEY_BYTES, NOISE_CONSTRUCTION, WG_IDENTIFIER, TAI64N_BYTES, HANDSHAKE_INITIATION_RATE_MS } from './constants.js';
import {
  aeadOpen,
  aeadSealNew,
  dh,
  DhPrivateKey,
  DhPublicKey,
  generatePrivateKey,
  hash,
  kdf1,
  kdf2,
  kdf3,
  type RandomBytes,
} from './crypto.js';
import type { DropReason } from './drop-reason.js';
import { type MessageInitiation, type MessageResponse, writeInitiation, writeResponse } from './messages.js';
import { isTai64nAfter, tai64n } from './tai64n.js';

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

/** Ci = HASH(construction). */
export const INITIAL_CHAIN_KEY: Uint8Array = hash(encoder.encode(NOISE_CONSTRUCTION));
/** Hi = HASH(Ci ‖ identifier). */
export const INITIAL_HASH: Uint8Array = hash(INITIAL_CHAIN_KEY, encoder.encode(WG_IDENTIFIER));

export type HandshakeStage = 'zeroed' | 'initiation-created' | 'initiation-consumed' | 'response-created' | 'response-consumed';

/** Our static identity, prepared once per device. */
export interface StaticIdentity {
  readonly privateKey: DhPrivateKey;
  readonly publicKey: Uint8Array;
  /** HASH(Hi ‖ Spub_ours): the responder's starting hash. */
  readonly initialHash: Uint8Array;
}

export function createStaticIdentity(privateKey: Uint8Array): StaticIdentity {
  const key = new DhPrivateKey(privateKey);
  return { privateKey: key, publicKey: key.publicKey, initialHash: hash(INITIAL_HASH, key.publicKey) };
}

/** Per-peer handshake state (wireguard-go `Handshake`). */
export class HandshakeState {
  stage: HandshakeStage = 'zeroed';
  chainKey: Uint8Array = new Uint8Array(KEY_BYTES);
  hash: Uint8Array = new Uint8Array(KEY_BYTES);
  localEphemeral: DhPrivateKey | undefined;
  remoteEphemeral: Uint8Array = new Uint8Array(KEY_BYTES);
  localIndex = 0;
  remoteIndex = 0;
  /** Last accepted TAI64N from this peer (kept across handshakes). */
  lastTimestamp: Uint8Array = new Uint8Array(TAI64N_BYTES);
  lastInitiationConsumedMs = Number.NEGATIVE_INFINITY;
  readonly remoteStatic: DhPublicKey;
  readonly presharedKey: Uint8Array;
  /** DH(Spriv_ours, Spub_peer), null when the peer key is a low-order point. */
  readonly precomputedStaticStatic: Uint8Array | null;
  /** HASH(Hi ‖ Spub_peer): the initiator's starting hash. */
  readonly initialHashToPeer: Uint8Array;

  constructor(local: StaticIdentity, remoteStatic: Uint8Array, presharedKey: Uint8Array) {
    this.remoteStatic = new DhPublicKey(remoteStatic);
    this.presharedKey = new Uint8Array(presharedKey);
    this.precomputedStaticStatic = dh(local.privateKey, this.remoteStatic);
    this.initialHashToPeer = hash(INITIAL_HASH, this.remoteStatic.raw);
  }

  /** Forget the ephemeral secrets and chaining state (keeps lastTimestamp, as wireguard-go). */
  clear(): void {
    this.localEphemeral?.zero();
    this.localEphemeral = undefined;
    this.chainKey.fill(0);
    this.hash.fill(0);
    this.remoteEphemeral.fill(0);
    this.localIndex = 0;
    this.remoteIndex = 0;
    this.stage = 'zeroed';
  }
}

function newEphemeral(randomBytes: RandomBytes): DhPrivateKey {
  const raw = generatePrivateKey(randomBytes);
  const key = new DhPrivateKey(raw);
  raw.fill(0);
  return key;
}

/** Message 1 without macs, or null if a DH fails (low-order peer key). */
export function createInitiation(
  hs: HandshakeState,
  local: StaticIdentity,
  localIndex: number,
  randomBytes: RandomBytes,
  wallNowMs: number,
): Uint8Array | null {
  if (hs.precomputedStaticStatic === null) return null;
  const ephemeral = newEphemeral(randomBytes);
  let c = kdf1(INITIAL_CHAIN_KEY, ephemeral.publicKey);
  let h = hash(hs.initialHashToPeer, ephemeral.publicKey);
  const es = dh(ephemeral, hs.remoteStatic);
  if (es === null) return null;
  let k: Uint8Array;
  [c, k] = kdf2(c, es);
  const encryptedStatic = aeadSealNew(k, 0, local.publicKey, h);
  h = hash(h, encryptedStatic);
  [c, k] = kdf2(c, hs.precomputedStaticStatic);
  const encryptedTimestamp = aeadSealNew(k, 0, tai64n(wallNowMs), h);
  h = hash(h, encryptedTimestamp);

  hs.localEphemeral?.zero();
  hs.localEphemeral = ephemeral;
  hs.chainKey = c;
  hs.hash = h;
  hs.localIndex = localIndex;
  hs.stage = 'initiation-created';
  return writeInitiation(localIndex, ephemeral.publicKey, encryptedStatic, encryptedTimestamp);
}

/** First half of consuming message 1: who sent it. Touches no peer state. */
export interface OpenedInitiation {
  readonly peerPublicKey: Uint8Array;
  readonly chainKey: Uint8Array;
  readonly hash: Uint8Array;
}

export function openInitiation(
  local: StaticIdentity,
  msg: MessageInitiation,
): { ok: true; opened: OpenedInitiation } | { ok: false; reason: DropReason } {
  let c = kdf1(INITIAL_CHAIN_KEY, msg.ephemeral);
  let h = hash(local.initialHash, msg.ephemeral);
  const es = dh(local.privateKey, msg.ephemeral);
  if (es === null) return { ok: false, reason: 'low-order-point' };
  let k: Uint8Array;
  [c, k] = kdf2(c, es);
  const peerPublicKey = aeadOpen(k, 0, 0, msg.encryptedStatic, h);
  if (peerPublicKey === null) return { ok: false, reason: 'handshake-decrypt-failed' };
  h = hash(h, msg.encryptedStatic);
  return { ok: true, opened: { peerPublicKey: new Uint8Array(peerPublicKey), chainKey: c, hash: h } };
}

/** Second half: decrypt and check the timestamp against this peer, then commit. */
export function consumeInitiation(
  hs: HandshakeState,
  opened: OpenedInitiation,
  msg: MessageInitiation,
  nowMs: number,
): DropReason | undefined {
  if (hs.precomputedStaticStatic === null) return 'low-order-point';
  const [c, k] = kdf2(opened.chainKey, hs.precomputedStaticStatic);
  const timestamp = aeadOpen(k, 0, 0, msg.encryptedTimestamp, opened.hash);
  if (timestamp === null) return 'handshake-decrypt-failed';
  const h = hash(opened.hash, msg.encryptedTimestamp);
  if (!isTai64nAfter(timestamp, hs.lastTimestamp)) return 'replayed-timestamp';
  if (nowMs - hs.lastInitiationConsumedMs <= HANDSHAKE_INITIATION_RATE_MS) return 'handshake-flood';

  hs.lastTimestamp = new Uint8Array(timestamp);
  hs.lastInitiationConsumedMs = nowMs;
  hs.localEphemeral?.zero();
  hs.localEphemeral = undefined;
  hs.chainKey = c;
  hs.hash = h;
  hs.remoteEphemeral = new Uint8Array(msg.ephemeral);
  hs.remoteIndex = msg.senderIndex;
  hs.stage = 'initiation-consumed';
  return undefined;
}

/** Message 2 without macs, or null if a DH fails. */
export function createResponse(hs: HandshakeState, localIndex: number, randomBytes: RandomBytes): Uint8Array | null {
  if (hs.stage !== 'initiation-consumed') return null;
  const ephemeral = newEphemeral(randomBytes);
  let c = kdf1(hs.chainKey, ephemeral.publicKey);
  let h = hash(hs.hash, ephemeral.publicKey);
  const ee = dh(ephemeral, hs.remoteEphemeral);
  const se = dh(ephemeral, hs.remoteStatic);
  if (ee === null || se === null) return null;
  c = kdf1(c, ee);
  c = kdf1(c, se);
  const [c3, t, k] = kdf3(c, hs.presharedKey);
  h = hash(h, t);
  const encryptedNothing = aeadSealNew(k, 0, EMPTY, h);
  h = hash(h, encryptedNothing);

  hs.localEphemeral = ephemeral;
  hs.chainKey = c3;
  hs.hash = h;
  hs.localIndex = localIndex;
  hs.stage = 'response-created';
  return writeResponse(localIndex, hs.remoteIndex, ephemeral.publicKey, encryptedNothing);
}

export function consumeResponse(hs: HandshakeState, local: StaticIdentity, msg: MessageResponse): DropReason | undefined {
  if (hs.stage !== 'initiation-created' || hs.localEphemeral === undefined) return 'unexpected-response';
  let c = kdf1(hs.chainKey, msg.ephemeral);
  let h = hash(hs.hash, msg.ephemeral);
  const ee = dh(hs.localEphemeral, msg.ephemeral);
  const se = dh(local.privateKey, msg.ephemeral);
  if (ee === null || se === null) return 'low-order-point';
  c = kdf1(c, ee);
  c = kdf1(c, se);
  const [c3, t, k] = kdf3(c, hs.presharedKey);
  h = hash(h, t);
  if (aeadOpen(k, 0, 0, msg.encryptedNothing, h) === null) return 'handshake-decrypt-failed';
  h = hash(h, msg.encryptedNothing);

  hs.chainKey = c3;
  hs.hash = h;
  hs.remoteEphemeral = new Uint8Array(msg.ephemeral);
  hs.remoteIndex = msg.senderIndex;
  hs.stage = 'response-consumed';
  return undefined;
}

export interface DerivedKeys {
  readonly sendKey: Uint8Array;
  readonly receiveKey: Uint8Array;
  readonly isInitiator: boolean;
  readonly localIndex: number;
  readonly remoteIndex: number;
}

/**
 * Transport keys (Tsend_i = Trecv_r, Trecv_i = Tsend_r) = KDF2(C, ε), after
 * response-consumed (initiator) or response-created (responder); then clears
 * the handshake.
 */
export function deriveKeypair(hs: HandshakeState): DerivedKeys | null {
  const isInitiator = hs.stage === 'response-consumed';
  if (!isInitiator && hs.stage !== 'response-created') return null;
  const [t1, t2] = kdf2(hs.chainKey, EMPTY);
  const keys: DerivedKeys = {
    sendKey: isInitiator ? t1 : t2,
    receiveKey: isInitiator ? t2 : t1,
    isInitiator,
    localIndex: hs.localIndex,
    remoteIndex: hs.remoteIndex,
  };
  hs.clear();
  return keys;
}

/**
 * NoiseDevice: WireGuard's protocol for a set of peers, sans I/O.
 *
 * Inputs are datagrams with their source endpoint (receive), plaintexts for a
 * peer (send) and the passage of time (tick); outputs are NoiseAction lists.
 * Time comes in as `nowMs` (monotonic, for every timer) and `wallNowMs` (Unix
 * ms, only for TAI64N timestamps); randomness through the injected randomBytes.
 *
 * Inbound flow (wireguard-go device/receive.go):
 *   1. parse: type AND size must match                      → truncated / oversized / unknown-type
 *   2. handshake messages: mac1 must be valid                → bad-mac1
 *      under load: mac2 must be valid, else cookie reply     → cookie-required
 *      under load: per-source-IP token bucket                → rate-limited
 *   3. initiation: static key → peer, TAI64N newer, 20 ms flood guard; answer with a response,
 *      responder keypair waits in `next` until the initiator's first packet confirms it
 *      response: initiator keypair becomes current at once; a keepalive (or the staged
 *      packets) goes out immediately to confirm it to the responder
 *      cookie reply: remember the cookie for mac2 of the next initiation
 *      transport: index → keypair, age < Reject-After-Time, AEAD, replay window
 *   4. every authenticated packet moves the peer's endpoint to its source (roaming)
 * Outbound flow (device/send.go): plaintexts are staged, then sealed on the current
 * keypair if it is usable, else a handshake starts (at most one per Rekey-Timeout) and
 * they wait (at most MAX_STAGED_PACKETS).
 *
 * Throws only for configuration errors (bad keys, duplicate or unknown peers).
 */
import {
  KEEPALIVE_TIMEOUT_MS,
  KEY_BYTES,
  MAX_HANDSHAKE_ATTEMPTS,
  MAX_STAGED_PACKETS,
  REJECT_AFTER_TIME_MS,
  REKEY_AFTER_MESSAGES,
  REKEY_AFTER_TIME_MS,
  REKEY_TIMEOUT_JITTER_MAX_MS,
  REKEY_TIMEOUT_MS,
} from './constants.js';
import { CookieChecker } from './cookie.js';
import { encodeKeyBase64, type RandomBytes } from './crypto.js';
import type { DropReason } from './drop-reason.js';
import { NoiseKeyError, NoisePeerExistsError, NoisePeerUnknownError } from './errors.js';
import {
  consumeInitiation,
  consumeResponse,
  createInitiation,
  createResponse,
  createStaticIdentity,
  deriveKeypair,
  openInitiation,
  type StaticIdentity,
} from './handshake.js';
import { IndexTable } from './index-table.js';
import { Keypair, jsKeypairSlots, type KeypairSlotProvider } from './keypair.js';
import {
  MAX_TRANSPORT_PLAINTEXT_BYTES,
  type MessageCookieReply,
  type MessageInitiation,
  type MessageResponse,
  type MessageTransport,
  MESSAGE_COOKIE_REPLY_TYPE,
  MESSAGE_INITIATION_TYPE,
  MESSAGE_RESPONSE_TYPE,
  parsePacket,
} from './messages.js';
import type { NoiseAction } from './actions.js';
import { Peer, type PeerHandle } from './peer.js';
import { RateLimiter } from './ratelimiter.js';
import { isCounterAtLimit } from './replay.js';
import { createStats, type NoiseStats } from './stats.js';

export interface NoiseDeviceOptions {
  /** Our Curve25519 private key (32 bytes; clamped or not, X25519 clamps). */
  readonly staticPrivateKey: Uint8Array;
  readonly randomBytes: RandomBytes;
  /** Where new keypairs keep their keys, counters and windows (default: in JS, node:crypto's AEAD). */
  readonly keypairSlots?: KeypairSlotProvider;
}

/** What a keypair's slot carried on its own since the last report (NoiseDevice.noteOffloadedTraffic). */
export interface OffloadedTraffic {
  txPackets: number;
  /** Plaintext bytes, before padding (as send counts them). */
  txBytes: number;
  /** Monotonic ms of the last packet sent (ignored when txPackets is 0). */
  lastTxMs: number;
  rxPackets: number;
  /** Plaintext bytes, padding included (as receive counts them). */
  rxBytes: number;
  lastRxMs: number;
}

export interface AddPeerOptions {
  readonly publicKey: Uint8Array;
  /** 32 bytes; defaults to zeros (no PSK), as WireGuard. */
  readonly presharedKey?: Uint8Array;
  /** 0 or undefined: off. */
  readonly persistentKeepaliveS?: number;
  /** Where to send until the peer roams. */
  readonly endpoint?: string;
}

const EMPTY = new Uint8Array(0);
const REKEY_AFTER_MESSAGES_NUMBER = Number(REKEY_AFTER_MESSAGES);
/** Sends at or above this count are refused: 2^53 (exact-number limit) is far below Reject-After-Messages. */
const SEND_COUNTER_LIMIT = Number.MAX_SAFE_INTEGER;
/**
 * Jitter is drawn from a pool refilled JITTER_POOL_BYTES at a time: a ping-like flow re-arms newHandshake on
 * every packet it sends (each reply disarms it), and a randomBytes call per packet cost ~5 % of a wake-up.
 */
const JITTER_POOL_BYTES = 64;

const keyId = (key: Uint8Array): string => Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex');

export class NoiseDevice {
  readonly publicKey: Uint8Array;
  private readonly identity: StaticIdentity;
  private readonly randomBytes: RandomBytes;
  private readonly peersByKey = new Map<string, Peer>();
  /** Membership check for handles on the data path (no key hashing per packet). */
  private readonly livePeers = new Set<PeerHandle>();
  private readonly indices: IndexTable;
  private readonly cookieChecker: CookieChecker;
  private readonly rateLimiter = new RateLimiter();
  /** Drops that belong to no peer (garbage, unknown keys, bad macs…). */
  private readonly peerlessStats: NoiseStats = createStats();
  private jitterPool: Uint8Array = EMPTY;
  private jitterPoolOffset = 0;
  private readonly retireKeypair = (keypair: Keypair): void => {
    const left = keypair.zero();
    const peer = this.indices.get(keypair.localIndex)?.peer;
    if (left !== undefined && peer !== undefined) {
      // Offloaded traffic not yet reported: its counters are kept, its timers no longer matter (a new session).
      peer.stats.txPackets += left.txPackets;
      peer.stats.txBytes += left.txBytes;
      peer.stats.rxPackets += left.rxPackets;
      peer.stats.rxBytes += left.rxBytes;
    }
    this.indices.delete(keypair.localIndex);
  };

  private readonly keypairSlots: KeypairSlotProvider;

  constructor(options: NoiseDeviceOptions) {
    this.identity = createStaticIdentity(options.staticPrivateKey);
    this.publicKey = this.identity.publicKey;
    this.randomBytes = options.randomBytes;
    this.indices = new IndexTable(options.randomBytes);
    this.cookieChecker = new CookieChecker(this.identity.publicKey);
    this.keypairSlots = options.keypairSlots ?? jsKeypairSlots;
  }

  // ---- configuration ---------------------------------------------------------------

  addPeer(options: AddPeerOptions): PeerHandle {
    if (options.publicKey.length !== KEY_BYTES) {
      throw new NoiseKeyError(`add peer: public key must be ${KEY_BYTES} bytes, got ${options.publicKey.length}`);
    }
    const psk = options.presharedKey ?? new Uint8Array(KEY_BYTES);
    if (psk.length !== KEY_BYTES) throw new NoiseKeyError(`add peer: preshared key must be ${KEY_BYTES} bytes, got ${psk.length}`);
    const id = keyId(options.publicKey);
    if (this.peersByKey.has(id) || id === keyId(this.publicKey)) {
      throw new NoisePeerExistsError(`add peer: ${encodeKeyBase64(options.publicKey)} is already a peer or our own key`);
    }
    const keepaliveMs = Math.max(0, Math.floor((options.persistentKeepaliveS ?? 0) * 1000));
    const peer = new Peer(this.identity, options.publicKey, psk, keepaliveMs, options.endpoint, this.retireKeypair);
    this.peersByKey.set(id, peer);
    this.livePeers.add(peer);
    return peer;
  }

  /** Forgets the peer: keys zeroed, indices freed, staged packets discarded. */
  removePeer(handle: PeerHandle): void {
    const peer = this.own(handle);
    this.zeroPeer(peer);
    peer.timers.stopAll();
    this.peersByKey.delete(keyId(peer.publicKey));
    this.livePeers.delete(peer);
  }

  peer(publicKey: Uint8Array): PeerHandle | undefined {
    return this.peersByKey.get(keyId(publicKey));
  }

  peers(): PeerHandle[] {
    return [...this.peersByKey.values()];
  }

  /** Sets or clears the persistent keepalive interval (seconds; 0 = off). */
  setPersistentKeepalive(handle: PeerHandle, seconds: number, nowMs: number): void {
    const peer = this.own(handle);
    peer.timers.persistentKeepaliveMs = Math.max(0, Math.floor(seconds * 1000));
    if (peer.timers.persistentKeepaliveMs > 0) peer.timers.arm('persistentKeepalive', nowMs + peer.timers.persistentKeepaliveMs);
    else peer.timers.disarm('persistentKeepalive');
  }

  /** Device totals: every peer's counters plus drops that match no peer. */
  stats(): NoiseStats {
    const total = createStats();
    const add = (s: NoiseStats): void => {
      for (const reason of Object.keys(s.drops) as DropReason[]) total.drops[reason] += s.drops[reason];
      total.initiationsSent += s.initiationsSent;
      total.initiationsReceived += s.initiationsReceived;
      total.handshakesCompleted += s.handshakesCompleted;
      total.cookieRepliesSent += s.cookieRepliesSent;
      total.cookieRepliesReceived += s.cookieRepliesReceived;
      total.txPackets += s.txPackets;
      total.txBytes += s.txBytes;
      total.rxPackets += s.rxPackets;
      total.rxBytes += s.rxBytes;
      total.keepalivesSent += s.keepalivesSent;
      total.keepalivesReceived += s.keepalivesReceived;
      if (s.lastHandshakeWallMs !== undefined && (total.lastHandshakeWallMs ?? -Infinity) < s.lastHandshakeWallMs) {
        total.lastHandshakeWallMs = s.lastHandshakeWallMs;
      }
    };
    add(this.peerlessStats);
    for (const peer of this.peersByKey.values()) add(peer.stats);
    return total;
  }

  /**
   * Drops that belong to no peer, by reason (only reasons seen): garbage ('truncated', 'oversized',
   * 'unknown-type'), 'bad-mac1', 'unknown-peer', 'unknown-receiver', 'handshake-decrypt-failed', and under load
   * 'cookie-required' (one per cookie reply sent) and 'rate-limited'.
   */
  underlayDrops(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const reason of Object.keys(this.peerlessStats.drops) as DropReason[]) {
      const n = this.peerlessStats.drops[reason];
      if (n > 0) out[reason] = n;
    }
    return out;
  }

  // ---- inputs ----------------------------------------------------------------------

  /**
   * One datagram from `source` (any endpoint id, e.g. "198.18.0.1:51820").
   * `underLoad` is the edge's judgement (handshake queue depth or rate): it turns
   * on mac2 enforcement (cookie replies) and the per-source rate limit.
   */
  receive(datagram: Uint8Array, source: string, nowMs: number, wallNowMs: number, underLoad = false): NoiseAction[] {
    const actions: NoiseAction[] = [];
    const parsed = parsePacket(datagram);
    if (!parsed.ok) {
      this.drop(actions, parsed.reason, undefined);
      return actions;
    }
    const msg = parsed.msg;
    if (msg.type === MESSAGE_INITIATION_TYPE || msg.type === MESSAGE_RESPONSE_TYPE) {
      if (!this.cookieChecker.checkMac1(msg.bytes)) {
        this.drop(actions, 'bad-mac1', undefined);
        return actions;
      }
      if (underLoad) {
        if (!this.cookieChecker.checkMac2(msg.bytes, source, nowMs)) {
          const reply = this.cookieChecker.createReply(msg.bytes, msg.senderIndex, source, nowMs, this.randomBytes);
          this.peerlessStats.cookieRepliesSent++;
          actions.push({ kind: 'send', to: source, bytes: reply });
          this.drop(actions, 'cookie-required', undefined);
          return actions;
        }
        if (!this.rateLimiter.allow(source, nowMs)) {
          this.drop(actions, 'rate-limited', undefined);
          return actions;
        }
      }
      if (msg.type === MESSAGE_INITIATION_TYPE) this.receiveInitiation(msg, source, nowMs, actions);
      else this.receiveResponse(msg, source, nowMs, wallNowMs, actions);
    } else if (msg.type === MESSAGE_COOKIE_REPLY_TYPE) {
      this.receiveCookieReply(msg, nowMs, actions);
    } else {
      this.receiveTransport(msg, source, nowMs, wallNowMs, actions);
    }
    return actions;
  }

  /**
   * Sends `plaintext` to the peer: sealed at once on a usable session, otherwise
   * staged (copied) while a handshake runs. An empty plaintext is a keepalive.
   */
  send(handle: PeerHandle, plaintext: Uint8Array, nowMs: number, wallNowMs: number): NoiseAction[] {
    const peer = this.own(handle);
    const actions: NoiseAction[] = [];
    if (plaintext.length > MAX_TRANSPORT_PLAINTEXT_BYTES - 15) {
      this.drop(actions, 'plaintext-too-large', peer);
      return actions;
    }
    const keypair = peer.keypairs.current;
    if (peer.staged.length === 0 && keypair !== undefined && this.isUsableForSending(keypair, nowMs)) {
      this.sealAndSend(peer, keypair, plaintext, nowMs, actions);
      this.keepKeyFreshSending(peer, nowMs, wallNowMs, actions);
      return actions;
    }
    this.stage(peer, new Uint8Array(plaintext), actions);
    this.sendStaged(peer, nowMs, wallNowMs, actions);
    return actions;
  }

  /** Runs every timer that is due. Call at nextDeadlineMs() (earlier or later is harmless). */
  tick(nowMs: number, wallNowMs: number): NoiseAction[] {
    const actions: NoiseAction[] = [];
    for (const peer of this.peersByKey.values()) {
      const t = peer.timers;
      if (t.takeIfDue('retransmitHandshake', nowMs)) this.expiredRetransmitHandshake(peer, nowMs, wallNowMs, actions);
      if (t.takeIfDue('sendKeepalive', nowMs)) {
        this.sendKeepalive(peer, nowMs, wallNowMs, actions);
        if (t.needAnotherKeepalive) {
          t.needAnotherKeepalive = false;
          t.arm('sendKeepalive', nowMs + KEEPALIVE_TIMEOUT_MS);
        }
      }
      if (t.takeIfDue('newHandshake', nowMs)) this.sendInitiation(peer, false, nowMs, wallNowMs, actions);
      if (t.takeIfDue('zeroKeyMaterial', nowMs)) {
        const hadKeys = !peer.keypairs.isEmpty;
        this.zeroPeer(peer);
        if (hadKeys) actions.push({ kind: 'session-expired', peer });
      }
      if (t.takeIfDue('persistentKeepalive', nowMs) && t.persistentKeepaliveMs > 0) {
        this.sendKeepalive(peer, nowMs, wallNowMs, actions);
      }
    }
    return actions;
  }

  /** The earliest timer deadline of any peer (monotonic ms), or undefined if none is armed. */
  nextDeadlineMs(): number | undefined {
    let next: number | undefined;
    for (const peer of this.peersByKey.values()) {
      const at = peer.timers.nextDeadlineMs();
      if (at !== undefined && (next === undefined || at < next)) next = at;
    }
    return next;
  }

  /**
   * Transport packets that a keypair's slot sealed or opened on its own (the
   * addon's flow offload), reported after the fact: the same counters and timer
   * events as if each had gone through send/receive, applied once per report
   * with the last packet's time (events in the order the last ones happened).
   * Returns the peer, or undefined when `localIndex` names no live keypair.
   */
  noteOffloadedTraffic(localIndex: number, traffic: OffloadedTraffic, nowMs: number): PeerHandle | undefined {
    const entry = this.indices.get(localIndex);
    if (entry === undefined || entry.keypair === undefined) return undefined;
    const peer = entry.peer;
    const s = peer.stats;
    s.txPackets += traffic.txPackets;
    s.txBytes += traffic.txBytes;
    s.rxPackets += traffic.rxPackets;
    s.rxBytes += traffic.rxBytes;
    const sent = traffic.txPackets > 0 ? Math.min(traffic.lastTxMs, nowMs) : undefined;
    const received = traffic.rxPackets > 0 ? Math.min(traffic.lastRxMs, nowMs) : undefined;
    const applySent = (atMs: number): void => {
      peer.timers.anyAuthenticatedPacketTraversal(atMs);
      peer.timers.anyAuthenticatedPacketSent();
      if (!peer.timers.isArmed('newHandshake')) peer.timers.dataSent(atMs, this.jitterMs());
    };
    const applyReceived = (atMs: number): void => {
      peer.timers.anyAuthenticatedPacketTraversal(atMs);
      peer.timers.anyAuthenticatedPacketReceived();
      peer.timers.dataReceived(atMs);
    };
    if (sent !== undefined && received !== undefined) {
      if (sent <= received) {
        applySent(sent);
        applyReceived(received);
      } else {
        applyReceived(received);
        applySent(sent);
      }
    } else if (sent !== undefined) {
      applySent(sent);
    } else if (received !== undefined) {
      applyReceived(received);
    }
    return peer;
  }

  /** The peer's keypairs (for an edge that mirrors them, e.g. into the addon's flow offload). */
  keypairsOf(handle: PeerHandle): { previous: Keypair | undefined; current: Keypair | undefined; next: Keypair | undefined } {
    const { previous, current, next } = this.own(handle).keypairs;
    return { previous, current, next };
  }

  // ---- receive paths -----------------------------------------------------------------

  private receiveInitiation(msg: MessageInitiation, source: string, nowMs: number, actions: NoiseAction[]): void {
    const opened = openInitiation(this.identity, msg);
    if (!opened.ok) return this.drop(actions, opened.reason, undefined);
    const peer = this.peersByKey.get(keyId(opened.opened.peerPublicKey));
    if (peer === undefined) return this.drop(actions, 'unknown-peer', undefined);
    const previousIndex = peer.handshake.stage === 'initiation-created' ? peer.handshake.localIndex : undefined;
    const rejected = consumeInitiation(peer.handshake, opened.opened, msg, nowMs);
    if (rejected !== undefined) return this.drop(actions, rejected, peer);
    if (previousIndex !== undefined) this.indices.delete(previousIndex);
    peer.stats.initiationsReceived++;
    peer.timers.anyAuthenticatedPacketTraversal(nowMs);
    peer.timers.anyAuthenticatedPacketReceived();
    this.updateEndpoint(peer, source, actions);

    const localIndex = this.indices.allocate(peer);
    const response = createResponse(peer.handshake, localIndex, this.randomBytes);
    if (response === null) {
      this.indices.delete(localIndex);
      peer.handshake.clear();
      return this.drop(actions, 'low-order-point', peer);
    }
    peer.cookies.addMacs(response, nowMs);
    this.beginSession(peer, nowMs);
    peer.lastSentHandshakeMs = nowMs;
    peer.timers.anyAuthenticatedPacketTraversal(nowMs);
    peer.timers.anyAuthenticatedPacketSent();
    actions.push({ kind: 'send', peer, to: source, bytes: response });
  }

  private receiveResponse(msg: MessageResponse, source: string, nowMs: number, wallNowMs: number, actions: NoiseAction[]): void {
    const entry = this.indices.get(msg.receiverIndex);
    if (entry === undefined || entry.keypair !== undefined) return this.drop(actions, 'unknown-receiver', undefined);
    const peer = entry.peer;
    if (peer.handshake.localIndex !== msg.receiverIndex) return this.drop(actions, 'unexpected-response', peer);
    const rejected = consumeResponse(peer.handshake, this.identity, msg);
    if (rejected !== undefined) return this.drop(actions, rejected, peer);
    peer.timers.anyAuthenticatedPacketTraversal(nowMs);
    peer.timers.anyAuthenticatedPacketReceived();
    this.updateEndpoint(peer, source, actions);
    this.beginSession(peer, nowMs);
    this.handshakeComplete(peer, wallNowMs, actions);
    this.sendKeepalive(peer, nowMs, wallNowMs, actions);
  }

  private receiveCookieReply(msg: MessageCookieReply, nowMs: number, actions: NoiseAction[]): void {
    const entry = this.indices.get(msg.receiverIndex);
    if (entry === undefined) return this.drop(actions, 'unknown-receiver', undefined);
    if (!entry.peer.cookies.consumeReply(msg, nowMs)) return this.drop(actions, 'bad-cookie-reply', entry.peer);
    entry.peer.stats.cookieRepliesReceived++;
    actions.push({ kind: 'cookie-reply', peer: entry.peer });
  }

  private receiveTransport(msg: MessageTransport, source: string, nowMs: number, wallNowMs: number, actions: NoiseAction[]): void {
    const entry = this.indices.get(msg.receiverIndex);
    const keypair = entry?.keypair;
    if (entry === undefined || keypair === undefined) return this.drop(actions, 'unknown-receiver', undefined);
    const peer = entry.peer;
    if (nowMs - keypair.createdMs >= REJECT_AFTER_TIME_MS) return this.drop(actions, 'expired-keypair', peer);
    if (isCounterAtLimit(msg.counterLo, msg.counterHi)) return this.drop(actions, 'counter-limit', peer);
    const plaintext = keypair.open(msg);
    if (plaintext === null) return this.drop(actions, 'bad-packet-auth', peer);
    const verdict = keypair.replay.validate(msg.counterLo, msg.counterHi);
    if (verdict !== 'ok') return this.drop(actions, verdict, peer);

    if (peer.keypairs.receivedWith(keypair)) {
      this.handshakeComplete(peer, wallNowMs, actions);
      this.sendStaged(peer, nowMs, wallNowMs, actions);
    }
    this.keepKeyFreshReceiving(peer, nowMs, wallNowMs, actions);
    peer.timers.anyAuthenticatedPacketTraversal(nowMs);
    peer.timers.anyAuthenticatedPacketReceived();
    this.updateEndpoint(peer, source, actions);
    peer.stats.rxPackets++;
    if (plaintext.length === 0) {
      peer.stats.keepalivesReceived++;
      return;
    }
    peer.stats.rxBytes += plaintext.length;
    peer.timers.dataReceived(nowMs);
    actions.push({ kind: 'deliver', peer, plaintext });
  }

  // ---- send paths --------------------------------------------------------------------

  private isUsableForSending(keypair: Keypair, nowMs: number): boolean {
    return keypair.sendCounter < SEND_COUNTER_LIMIT && nowMs - keypair.createdMs < REJECT_AFTER_TIME_MS;
  }

  private stage(peer: Peer, plaintext: Uint8Array, actions: NoiseAction[]): void {
    if (peer.staged.length >= MAX_STAGED_PACKETS) {
      peer.staged.shift();
      this.drop(actions, 'queue-full', peer);
    }
    peer.staged.push(plaintext);
  }

  /** wireguard-go SendStagedPackets: seal everything staged, or start a handshake. */
  private sendStaged(peer: Peer, nowMs: number, wallNowMs: number, actions: NoiseAction[]): void {
    if (peer.staged.length === 0) return;
    const keypair = peer.keypairs.current;
    if (keypair === undefined || !this.isUsableForSending(keypair, nowMs)) {
      this.sendInitiation(peer, false, nowMs, wallNowMs, actions);
      return;
    }
    const staged = peer.staged;
    peer.staged = [];
    for (const plaintext of staged) this.sealAndSend(peer, keypair, plaintext, nowMs, actions);
    this.keepKeyFreshSending(peer, nowMs, wallNowMs, actions);
  }

  private sealAndSend(peer: Peer, keypair: Keypair, plaintext: Uint8Array, nowMs: number, actions: NoiseAction[]): void {
    const bytes = keypair.seal(plaintext);
    actions.push({ kind: 'send', peer, to: peer.endpoint, bytes });
    peer.stats.txPackets++;
    peer.timers.anyAuthenticatedPacketTraversal(nowMs);
    peer.timers.anyAuthenticatedPacketSent();
    if (plaintext.length === 0) {
      peer.stats.keepalivesSent++;
    } else {
      peer.stats.txBytes += plaintext.length;
      // Draw jitter only when the timer will actually be armed (keeps randomBytes off the per-packet path).
      if (!peer.timers.isArmed('newHandshake')) peer.timers.dataSent(nowMs, this.jitterMs());
    }
  }

  private sendKeepalive(peer: Peer, nowMs: number, wallNowMs: number, actions: NoiseAction[]): void {
    if (peer.staged.length === 0) peer.staged.push(EMPTY);
    this.sendStaged(peer, nowMs, wallNowMs, actions);
  }

  /**
   * Start a handshake now, e.g. over another transport after a fallback, or to
   * probe whether UDP works again. `force` skips the one-per-Rekey-Timeout limit
   * (the caller has a reason the previous attempt cannot succeed).
   */
  initiateHandshake(handle: PeerHandle, nowMs: number, wallNowMs: number, options: { force?: boolean } = {}): NoiseAction[] {
    const peer = this.own(handle);
    const actions: NoiseAction[] = [];
    if (options.force) peer.lastSentHandshakeMs = Number.NEGATIVE_INFINITY;
    this.sendInitiation(peer, false, nowMs, wallNowMs, actions);
    return actions;
  }

  /** wireguard-go SendHandshakeInitiation: at most one per Rekey-Timeout. */
  private sendInitiation(peer: Peer, isRetry: boolean, nowMs: number, wallNowMs: number, actions: NoiseAction[]): void {
    if (!isRetry) peer.timers.handshakeAttempts = 0;
    if (nowMs - peer.lastSentHandshakeMs < REKEY_TIMEOUT_MS) return;
    peer.lastSentHandshakeMs = nowMs;
    this.releaseHandshakeIndex(peer);
    const localIndex = this.indices.allocate(peer);
    const initiation = createInitiation(peer.handshake, this.identity, localIndex, this.randomBytes, wallNowMs);
    if (initiation === null) {
      this.indices.delete(localIndex);
      return this.drop(actions, 'low-order-point', peer);
    }
    peer.cookies.addMacs(initiation, nowMs);
    peer.stats.initiationsSent++;
    peer.timers.anyAuthenticatedPacketTraversal(nowMs);
    peer.timers.anyAuthenticatedPacketSent();
    actions.push({ kind: 'send', peer, to: peer.endpoint, bytes: initiation });
    peer.timers.handshakeInitiated(nowMs, this.jitterMs());
  }

  /** After sending: rekey when the session has carried too much or (initiator) lived too long. */
  private keepKeyFreshSending(peer: Peer, nowMs: number, wallNowMs: number, actions: NoiseAction[]): void {
    const keypair = peer.keypairs.current;
    if (keypair === undefined) return;
    if (
      keypair.sendCounter > REKEY_AFTER_MESSAGES_NUMBER ||
      (keypair.isInitiator && nowMs - keypair.createdMs > REKEY_AFTER_TIME_MS)
    ) {
      this.sendInitiation(peer, false, nowMs, wallNowMs, actions);
    }
  }

  /** After receiving: the initiator rekeys once when the session nears Reject-After-Time. */
  private keepKeyFreshReceiving(peer: Peer, nowMs: number, wallNowMs: number, actions: NoiseAction[]): void {
    if (peer.timers.sentLastMinuteHandshake) return;
    const keypair = peer.keypairs.current;
    if (
      keypair !== undefined &&
      keypair.isInitiator &&
      nowMs - keypair.createdMs > REJECT_AFTER_TIME_MS - KEEPALIVE_TIMEOUT_MS - REKEY_TIMEOUT_MS
    ) {
      peer.timers.sentLastMinuteHandshake = true;
      this.sendInitiation(peer, false, nowMs, wallNowMs, actions);
    }
  }

  private expiredRetransmitHandshake(peer: Peer, nowMs: number, wallNowMs: number, actions: NoiseAction[]): void {
    const t = peer.timers;
    if (t.handshakeAttempts > MAX_HANDSHAKE_ATTEMPTS) {
      // Give up (Rekey-Attempt-Time): drop what waited, stop keepalives, schedule key erasure.
      t.disarm('sendKeepalive');
      for (let i = 0; i < peer.staged.length; i++) this.drop(actions, 'handshake-gave-up', peer);
      peer.staged = [];
      if (!t.isArmed('zeroKeyMaterial')) t.sessionDerived(nowMs);
      return;
    }
    t.handshakeAttempts++;
    this.sendInitiation(peer, true, nowMs, wallNowMs, actions);
  }

  // ---- sessions ----------------------------------------------------------------------

  private beginSession(peer: Peer, nowMs: number): void {
    const keys = deriveKeypair(peer.handshake);
    if (keys === null) return;
    const keypair = new Keypair(keys, nowMs, this.keypairSlots);
    this.indices.bindKeypair(keys.localIndex, keypair);
    if (keys.isInitiator) peer.keypairs.installAsInitiator(keypair);
    else peer.keypairs.installAsResponder(keypair);
    peer.timers.sessionDerived(nowMs);
  }

  private handshakeComplete(peer: Peer, wallNowMs: number, actions: NoiseAction[]): void {
    peer.timers.handshakeComplete();
    peer.stats.handshakesCompleted++;
    peer.stats.lastHandshakeWallMs = wallNowMs;
    actions.push({ kind: 'handshake-complete', peer });
  }

  private releaseHandshakeIndex(peer: Peer): void {
    if (peer.handshake.stage === 'zeroed') return;
    const entry = this.indices.get(peer.handshake.localIndex);
    if (entry !== undefined && entry.peer === peer && entry.keypair === undefined) this.indices.delete(peer.handshake.localIndex);
  }

  private zeroPeer(peer: Peer): void {
    this.releaseHandshakeIndex(peer);
    peer.handshake.clear();
    peer.keypairs.clear();
  }

  private updateEndpoint(peer: Peer, source: string, actions: NoiseAction[]): void {
    if (peer.endpoint === source) return;
    peer.endpoint = source;
    actions.push({ kind: 'peer-endpoint', peer, endpoint: source });
  }

  private jitterMs(): number {
    if (this.jitterPoolOffset + 2 > this.jitterPool.length) {
      this.jitterPool = this.randomBytes(JITTER_POOL_BYTES);
      this.jitterPoolOffset = 0;
    }
    const b = this.jitterPool;
    const at = this.jitterPoolOffset;
    this.jitterPoolOffset = at + 2;
    return ((b[at] ?? 0) | ((b[at + 1] ?? 0) << 8)) % REKEY_TIMEOUT_JITTER_MAX_MS;
  }

  private drop(actions: NoiseAction[], reason: DropReason, peer: Peer | undefined): void {
    (peer?.stats ?? this.peerlessStats).drops[reason]++;
    actions.push(peer === undefined ? { kind: 'drop', reason } : { kind: 'drop', reason, peer });
  }

  private own(handle: PeerHandle): Peer {
    if (!(handle instanceof Peer) || !this.livePeers.has(handle)) {
      throw new NoisePeerUnknownError('peer: not a peer of this device (removed?)');
    }
    return handle;
  }
}

/**
 * One remote peer's state: identity, handshake, keypairs, timers, the packets
 * staged while no session is usable, endpoint and counters. A passive record:
 * the behaviour lives in the device (device.ts), which owns the index table,
 * the randomness and the static key every step needs.
 */
import { CookieGenerator } from './cookie.js';
import { encodeKeyBase64 } from './crypto.js';
import { HandshakeState, type StaticIdentity } from './handshake.js';
import type { Keypair } from './keypair.js';
import { KeypairSet } from './keypair-set.js';
import { createStats, type NoiseStats } from './stats.js';
import { PeerTimers } from './timers.js';

/** What callers of the device see of a peer. */
export interface PeerHandle {
  readonly publicKey: Uint8Array;
  /** Base64, as `wg pubkey` prints it. */
  readonly publicKeyBase64: string;
  /** Where packets to this peer go; follows the latest authenticated packet. */
  readonly endpoint: string | undefined;
  readonly stats: Readonly<NoiseStats>;
}

export class Peer implements PeerHandle {
  readonly publicKey: Uint8Array;
  readonly publicKeyBase64: string;
  endpoint: string | undefined;
  readonly stats: NoiseStats = createStats();
  readonly handshake: HandshakeState;
  readonly keypairs: KeypairSet;
  readonly timers: PeerTimers;
  readonly cookies: CookieGenerator;
  /** Plaintexts waiting for a usable session (copies; oldest first). */
  staged: Uint8Array[] = [];
  lastSentHandshakeMs = Number.NEGATIVE_INFINITY;

  constructor(
    local: StaticIdentity,
    publicKey: Uint8Array,
    presharedKey: Uint8Array,
    persistentKeepaliveMs: number,
    endpoint: string | undefined,
    retire: (keypair: Keypair) => void,
  ) {
    this.publicKey = new Uint8Array(publicKey);
    this.publicKeyBase64 = encodeKeyBase64(this.publicKey);
    this.endpoint = endpoint;
    this.handshake = new HandshakeState(local, this.publicKey, presharedKey);
    this.keypairs = new KeypairSet(retire);
    this.timers = new PeerTimers(persistentKeepaliveMs);
    this.cookies = new CookieGenerator(this.publicKey);
  }
}

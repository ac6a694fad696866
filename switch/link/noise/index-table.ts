/**
 * Receiver index → what it names (wireguard-go `device/indextable.go`). Each
 * handshake and each keypair has a random 32-bit local index; the peer puts it
 * in the receiver field of every message to us, so a lookup finds the peer and
 * session without trying keys.
 */
import { VswitchError } from '../../errors.js';
import type { RandomBytes } from './crypto.js';
import type { Keypair } from './keypair.js';
import type { Peer } from './peer.js';

export interface IndexEntry {
  readonly peer: Peer;
  /** Set once the handshake has become this keypair; undefined while it is a handshake. */
  keypair: Keypair | undefined;
}

export class IndexTable {
  private readonly entries = new Map<number, IndexEntry>();

  constructor(private readonly randomBytes: RandomBytes) {}

  /** A fresh unused index for a handshake of `peer`. */
  allocate(peer: Peer): number {
    for (let attempt = 0; attempt < 1000; attempt++) {
      const b = this.randomBytes(4);
      const index = ((b[0] ?? 0) | ((b[1] ?? 0) << 8) | ((b[2] ?? 0) << 16) | ((b[3] ?? 0) << 24)) >>> 0;
      if (!this.entries.has(index)) {
        this.entries.set(index, { peer, keypair: undefined });
        return index;
      }
    }
    throw new VswitchError('noise-random-broken', 'allocate receiver index: 1000 collisions in a row (randomBytes is not random)');
  }

  get(index: number): IndexEntry | undefined {
    return this.entries.get(index);
  }

  /** The handshake at `index` became `keypair` (same index). */
  bindKeypair(index: number, keypair: Keypair): void {
    const entry = this.entries.get(index);
    if (entry !== undefined) entry.keypair = keypair;
  }

  delete(index: number): void {
    this.entries.delete(index);
  }

  get size(): number {
    return this.entries.size;
  }
}

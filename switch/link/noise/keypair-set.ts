/**
 * previous / current / next keypairs of one peer, with wireguard-go's rotation
 * rules (`device/noise-protocol.go` BeginSymmetricSession, `peer.go`
 * ReceivedWithKeypair):
 *
 * - The initiator derives its keypair after the response and uses it at once:
 *   it becomes current, the old current becomes previous (or, if an unconfirmed
 *   next exists, that next becomes previous and the old current is retired).
 * - The responder may not send on its new keypair until the initiator has
 *   proved it has it: the keypair waits in `next`; the first authenticated
 *   packet received on it promotes it to current (old current → previous).
 *
 * Retired keypairs are handed to `retire` so the device can free their index
 * and zero their keys.
 */
import type { Keypair } from './keypair.js';

export class KeypairSet {
  previous: Keypair | undefined;
  current: Keypair | undefined;
  next: Keypair | undefined;

  constructor(private readonly retire: (keypair: Keypair) => void) {}

  installAsInitiator(keypair: Keypair): void {
    if (this.next !== undefined) {
      this.retireIfSet(this.previous);
      this.previous = this.next;
      this.next = undefined;
      this.retireIfSet(this.current);
    } else {
      this.retireIfSet(this.previous);
      this.previous = this.current;
    }
    this.current = keypair;
  }

  installAsResponder(keypair: Keypair): void {
    this.retireIfSet(this.next);
    this.next = keypair;
    this.retireIfSet(this.previous);
    this.previous = undefined;
  }

  /** Called for every authenticated packet; true when it confirmed `next` (now current). */
  receivedWith(keypair: Keypair): boolean {
    if (keypair !== this.next) return false;
    this.retireIfSet(this.previous);
    this.previous = this.current;
    this.current = keypair;
    this.next = undefined;
    return true;
  }

  clear(): void {
    this.retireIfSet(this.previous);
    this.retireIfSet(this.current);
    this.retireIfSet(this.next);
    this.previous = this.current = this.next = undefined;
  }

  get isEmpty(): boolean {
    return this.previous === undefined && this.current === undefined && this.next === undefined;
  }

  private retireIfSet(keypair: Keypair | undefined): void {
    if (keypair !== undefined) this.retire(keypair);
  }
}

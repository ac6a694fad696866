/** Counters kept per peer and per device (the device sums every peer plus peerless drops). */
import { createDropCounts, type DropCounts } from './drop-reason.js';

export interface NoiseStats {
  readonly drops: DropCounts;
  /** Initiations we sent (first attempts and retries). */
  initiationsSent: number;
  /** Valid initiations we accepted (and answered). */
  initiationsReceived: number;
  /** Sessions that became current (initiator: response consumed; responder: first packet on it). */
  handshakesCompleted: number;
  cookieRepliesSent: number;
  cookieRepliesReceived: number;
  txPackets: number;
  /** Plaintext bytes sent (before padding). */
  txBytes: number;
  rxPackets: number;
  /** Plaintext bytes received (padding included). */
  rxBytes: number;
  keepalivesSent: number;
  keepalivesReceived: number;
  /** Wall-clock ms of the last completed handshake, as `wg show` prints it. */
  lastHandshakeWallMs: number | undefined;
}

export function createStats(): NoiseStats {
  return {
    drops: createDropCounts(),
    initiationsSent: 0,
    initiationsReceived: 0,
    handshakesCompleted: 0,
    cookieRepliesSent: 0,
    cookieRepliesReceived: 0,
    txPackets: 0,
    txBytes: 0,
    rxPackets: 0,
    rxBytes: 0,
    keepalivesSent: 0,
    keepalivesReceived: 0,
    lastHandshakeWallMs: undefined,
  };
}

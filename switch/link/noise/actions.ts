/**
 * What the noise core asks its edge to do. The core never touches a socket or a
 * timer: receive(), send() and tick() return these and the edge performs them
 * in order (boringtun's TunnResult, as a list).
 */
import type { DropReason } from './drop-reason.js';
import type { PeerHandle } from './peer.js';

export type NoiseAction =
  /**
   * Put `bytes` on the wire. `to` is the endpoint to use: the source of the
   * message being answered, else the peer's current endpoint; undefined when the
   * peer has none yet (the edge then uses its configured one or drops).
   */
  | { readonly kind: 'send'; readonly peer?: PeerHandle; readonly to?: string; readonly bytes: Uint8Array }
  /** Decrypted transport payload, padding included (the upper layer knows its lengths). Never empty. */
  | { readonly kind: 'deliver'; readonly peer: PeerHandle; readonly plaintext: Uint8Array }
  | { readonly kind: 'drop'; readonly reason: DropReason; readonly peer?: PeerHandle }
  /** Roaming: the peer's endpoint is now the source of its latest authenticated packet. */
  | { readonly kind: 'peer-endpoint'; readonly peer: PeerHandle; readonly endpoint: string }
  /**
   * A cookie reply to our initiation authenticated: the peer heard us on that path and is only under load (the
   * retry carries mac2). The transport selector takes it as an answer, not as silence.
   */
  | { readonly kind: 'cookie-reply'; readonly peer: PeerHandle }
  /** A new session became current. */
  | { readonly kind: 'handshake-complete'; readonly peer: PeerHandle }
  /** All session keys of the peer were zeroed (3 × Reject-After-Time without a new one). */
  | { readonly kind: 'session-expired'; readonly peer: PeerHandle };

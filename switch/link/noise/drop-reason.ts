/**
 * Why the noise core dropped something. Every drop is returned as an action
 * `{ kind: 'drop', reason }` and counted per device and, when the peer is known,
 * per peer. Never a throw, never a reset of a good session.
 */
export const DROP_REASONS = [
  /** Shorter than its type's fixed size (or than a transport header + tag). */
  'truncated',
  /** Longer than its type's fixed size, or than MAX_MESSAGE_BYTES. */
  'oversized',
  /** First 4 bytes are not 1, 2, 3 or 4 as a little-endian u32. */
  'unknown-type',
  /** mac1 does not authenticate the message to our static key. */
  'bad-mac1',
  /** Under load without a valid mac2: a cookie reply was sent instead. */
  'cookie-required',
  /** Under load, the source address exceeded its handshake rate. */
  'rate-limited',
  /** A handshake field failed to decrypt (static, timestamp or empty payload). */
  'handshake-decrypt-failed',
  /** A DH produced all zeros (low-order point). */
  'low-order-point',
  /** The initiator's static key is not one of our peers. */
  'unknown-peer',
  /** The initiation's TAI64N is not newer than the last accepted one. */
  'replayed-timestamp',
  /** A second initiation from the same peer within 20 ms. */
  'handshake-flood',
  /** No session or handshake has this receiver index. */
  'unknown-receiver',
  /** A response for a handshake that is not waiting for one. */
  'unexpected-response',
  /** A cookie reply we cannot open or did not ask for. */
  'bad-cookie-reply',
  /** A transport packet that fails authentication. */
  'bad-packet-auth',
  /** A transport counter already seen. */
  'replayed-counter',
  /** A transport counter too far behind the window. */
  'out-of-window',
  /** A counter at or beyond Reject-After-Messages. */
  'counter-limit',
  /** The keypair is older than Reject-After-Time. */
  'expired-keypair',
  /** The staged queue was full; the oldest packet was dropped. */
  'queue-full',
  /** Staged packets thrown away because the handshake gave up (Rekey-Attempt-Time). */
  'handshake-gave-up',
  /** A plaintext too large to fit a transport message. */
  'plaintext-too-large',
] as const;

export type DropReason = (typeof DROP_REASONS)[number];

export type DropCounts = Record<DropReason, number>;

export function createDropCounts(): DropCounts {
  const counts = {} as DropCounts;
  for (const reason of DROP_REASONS) counts[reason] = 0;
  return counts;
}

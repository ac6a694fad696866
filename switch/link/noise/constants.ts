/**
 * WireGuard protocol constants. Specification constants come from the
 * WireGuard whitepaper §5 and wireguard-go `device/constants.go`; the
 * implementation constants below them are our own choices (with the reference
 * value they follow, where there is one).
 */

/* Specification constants */

/** Noise protocol name, hashed into the initial chaining key Ci (37 bytes). */
export const NOISE_CONSTRUCTION = 'Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s';
/** WireGuard identifier, hashed after Ci into the initial hash Hi (34 bytes). */
export const WG_IDENTIFIER = 'WireGuard v1 zx2c4 Jason@zx2c4.com';
/** Label hashed with the receiver's static public key to key mac1 (8 bytes). */
export const WG_LABEL_MAC1 = 'mac1----';
/** Label hashed with the receiver's static public key to key cookie encryption (8 bytes). */
export const WG_LABEL_COOKIE = 'cookie--';

export const KEY_BYTES = 32;
export const MAC_BYTES = 16;
export const AEAD_TAG_BYTES = 16;
export const TAI64N_BYTES = 12;
export const COOKIE_NONCE_BYTES = 24;

/** 2^60: after this many messages on a keypair the sender starts a new handshake. */
export const REKEY_AFTER_MESSAGES = 2n ** 60n;
/** 2^64 − 2^13 − 1: no message is sent or accepted with a counter at or above this. */
export const REJECT_AFTER_MESSAGES = 2n ** 64n - 2n ** 13n - 1n;
export const REKEY_AFTER_TIME_MS = 120_000;
export const REJECT_AFTER_TIME_MS = 180_000;
export const REKEY_ATTEMPT_TIME_MS = 90_000;
export const REKEY_TIMEOUT_MS = 5_000;
export const KEEPALIVE_TIMEOUT_MS = 10_000;
/** The cookie secret (responder) and a received cookie (initiator) live this long. */
export const COOKIE_REFRESH_TIME_MS = 120_000;
/** Keys are zeroed after 3 × Reject-After-Time without a new session. */
export const ZERO_KEY_MATERIAL_AFTER_MS = REJECT_AFTER_TIME_MS * 3;

/* Implementation constants (wireguard-go values) */

/** Retransmit jitter is uniform in [0, REKEY_TIMEOUT_JITTER_MAX_MS) → up to 333 ms. */
export const REKEY_TIMEOUT_JITTER_MAX_MS = 334;
/** Initiation retries before giving up: Rekey-Attempt-Time / Rekey-Timeout = 18. */
export const MAX_HANDSHAKE_ATTEMPTS = Math.floor(REKEY_ATTEMPT_TIME_MS / REKEY_TIMEOUT_MS);
/** At most one initiation per peer is consumed per 20 ms (wireguard-go HandshakeInitationRate). */
export const HANDSHAKE_INITIATION_RATE_MS = 20;
/** Packets staged per peer while no session is usable; the oldest is dropped beyond this. */
export const MAX_STAGED_PACKETS = 128;
/** Largest datagram we parse (wireguard-go MaxMessageSize). */
export const MAX_MESSAGE_BYTES = 65_535;
/** Rate limiter: 20 handshakes per second per source IP, bursts of 5 (wireguard-go ratelimiter). */
export const RATELIMIT_PACKETS_PER_SECOND = 20;
export const RATELIMIT_BURST = 5;
/** Rate-limiter entries idle this long are forgotten. */
export const RATELIMIT_GC_INTERVAL_MS = 1_000;

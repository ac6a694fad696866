import type { Endpoint } from './endpoint.js';

/**
 * A Transport moves opaque link messages (WireGuard datagrams, already
 * encrypted) between endpoints. It knows nothing of peers or keys: the link
 * layer decides what is authenticated and which endpoint a peer uses now.
 * Implementations: UDP (udp-transport.ts), TCP with a 2-byte length prefix
 * (tcp-transport.ts, stream-framing.ts) and an in-memory twin for tests
 * (memory-transport.ts); all pass test/support/transport-suite.ts.
 *
 * Contract:
 * - `start(sink)` binds/listens and resolves once messages can flow. It rejects
 *   with TransportListenError (code 'transport-listen') when the address is
 *   taken or cannot be bound, and with TransportStateError when called twice.
 * - `sink.message(bytes, from)` is called once per received message. `bytes`
 *   is valid only during the call (buffers may be reused): copy what you keep.
 *   `from` is the exact source, including the TCP connection (`connectionId`);
 *   the same object may be handed out again for the same source, so treat it
 *   as immutable. A reply sent to `from` goes back the same way.
 * - `send` / `sendBatch` never throw and never block: a message that cannot be
 *   sent (too short/long, wrong transport, queue full, connection gone, socket
 *   error, closed) is dropped and counted in `stats().drops` by reason.
 *   Ownership: a transport may keep a reference to `bytes` until the message
 *   leaves (UDP sends are zero-copy), so the caller must not modify them after
 *   the call. Encrypted messages are fresh buffers anyway.
 * - `sendBatch(messages, to)` sends in order to one endpoint; stream transports
 *   coalesce the batch into one write.
 * - Bad input from the network (runt datagrams, garbage on a TCP stream,
 *   truncated frames) is dropped and counted; garbage on one TCP connection
 *   closes only that connection.
 * - After `close()` resolves, no sink call happens, sends are no-ops counted as
 *   'closed', and every socket is released. `close()` is idempotent.
 */
export interface Transport {
  readonly kind: TransportKind;
  start(sink: TransportSink): Promise<void>;
  /** The bound address (port 0 resolved to the real port); undefined before `start()` resolves. */
  localEndpoint(): Endpoint | undefined;
  send(bytes: Uint8Array, to: Endpoint): void;
  sendBatch(messages: readonly Uint8Array[], to: Endpoint): void;
  close(): Promise<void>;
  stats(): TransportStats;
  /**
   * The link layer authenticated a message that came from `from` (a handshake or a session packet the noise
   * device accepted). Stream transports use it to end the handshake deadline of that connection; optional.
   */
  authenticated?(from: Endpoint): void;
}

export type TransportKind = 'udp' | 'tcp';

export interface TransportSink {
  message(bytes: Uint8Array, from: Endpoint): void;
}

export interface TransportStats {
  rxMessages: number;
  txMessages: number;
  rxBytes: number;
  txBytes: number;
  /** Messages (or, for stream errors, events) dropped, by reason. Only reasons seen so far appear. */
  drops: Partial<Record<TransportDropReason, number>>;
  /** Stream transports only. */
  connections?: ConnectionStats;
}

export interface ConnectionStats {
  open: number;
  accepted: number;
  dialed: number;
  closed: number;
  /** Dials that failed or timed out. */
  connectFailures: number;
}

/** Spec: the smallest WireGuard message is 32 bytes (keepalive); anything under 16 is garbage by any measure. */
export const MIN_MESSAGE_BYTES = 16;
/** Implementation: what a 2-byte length prefix can carry, and the UDP payload ceiling we accept. */
export const MAX_MESSAGE_BYTES = 65535;

export type TransportDropReason =
  /** send/receive after close(). */
  | 'closed'
  /** A message or datagram shorter than MIN_MESSAGE_BYTES. */
  | 'too-short'
  /** A message or datagram longer than the configured maximum. */
  | 'too-long'
  /** `to.transport` is not this transport's kind. */
  | 'wrong-transport'
  /** The OS refused a UDP send (EHOSTUNREACH, ENOBUFS, ...). */
  | 'udp-send-failed'
  /** A received length prefix under MIN_MESSAGE_BYTES: the stream is garbage and is closed. Counted per connection. */
  | 'tcp-frame-too-short'
  /** The stream ended in the middle of a frame. Counted per connection. */
  | 'tcp-truncated-frame'
  /** A dial failed or timed out; each queued message is counted. */
  | 'tcp-connect-failed'
  /** Too many messages queued while a dial is in progress. */
  | 'tcp-queue-full'
  /** The socket's write buffer is over its bound: a datagram protocol prefers loss to latency. */
  | 'tcp-backpressure'
  /** Sent to a connectionId that is closed and was accepted (cannot be redialed). */
  | 'tcp-no-connection'
  /** An accepted connection refused because maxConnections is reached. Counted per connection. */
  | 'tcp-too-many-connections'
  /** An accepted connection refused because its source address holds maxConnectionsPerIp already. Per connection. */
  | 'tcp-per-ip-limit'
  /** An accepted connection closed because nothing on it was authenticated within handshakeDeadlineMs. */
  | 'tcp-handshake-timeout'
  /** A connection failed with a socket error (reset, ...). Counted per connection. */
  | 'tcp-socket-error'
  /** Memory twin: nothing listens at the destination (UDP would lose it silently). */
  | 'unreachable'
  /** Memory twin: the simulated network blocks this transport. */
  | 'blocked';

/** Fresh counters for a datagram transport's `stats()` (stream transports add `connections`). */
export function createTransportCounters(): Omit<TransportStats, 'connections'> {
  return { rxMessages: 0, txMessages: 0, rxBytes: 0, txBytes: 0, drops: {} };
}

/** Adds one to a drop counter without allocating once the key exists. */
export function countDrop(drops: TransportStats['drops'], reason: TransportDropReason, n = 1): void {
  drops[reason] = (drops[reason] ?? 0) + n;
}

/** Why a message of `length` bytes cannot travel (shorter than MIN_MESSAGE_BYTES, longer than `maxBytes`), or undefined. */
export function lengthDropReason(length: number, maxBytes: number): 'too-short' | 'too-long' | undefined {
  return length < MIN_MESSAGE_BYTES ? 'too-short' : length > maxBytes ? 'too-long' : undefined;
}

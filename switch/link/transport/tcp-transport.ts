import { createServer, isIP, Socket, type Server } from 'node:net';
import { systemClock, type Timer, type TimerClock } from '../../clock.js';
import { addressKey } from './address-key.js';
import { unmapIpv4, type Endpoint } from './endpoint.js';
import { TransportListenError, TransportOptionsError, TransportStateError } from './errors.js';
import type { NativeAddon, NativeStreamHandle } from '../../port/addon.js';
import { encodeFramesInto, FRAME_HEADER_BYTES } from './stream-framing.js';
import {
  TcpConnection,
  type TcpConnectionLimits,
  type TcpConnectionOutcome,
  type TcpConnectionOwner,
} from './tcp-connection.js';
import {
  countDrop,
  lengthDropReason,
  MAX_MESSAGE_BYTES,
  type ConnectionStats,
  type Transport,
  type TransportSink,
  type TransportStats,
  createTransportCounters,
} from './transport.js';

/**
 * Link messages over TCP, for sites whose firewalls block UDP: the same
 * encrypted WireGuard messages, each prefixed by its 2-byte big-endian length
 * (stream-framing.ts), on a configurable port (443 passes most firewalls).
 *
 * Connections:
 * - It listens on `listen` (optional: without it, dial-only) and dials out. A
 *   send to {transport:'tcp', host, port} with no connectionId uses the
 *   connection dialed to host:port, dialing it if there is none (messages wait
 *   in a bounded queue while connecting; timeout `connectTimeoutMs`).
 * - Every connection, accepted or dialed, has a connectionId. Messages received
 *   on it report from = {tcp, host, port, connectionId}; sending to that exact
 *   endpoint goes back on the same connection. If it has closed: a dialed one is
 *   redialed at host:port (the remote's listening address), an accepted one is
 *   gone ('tcp-no-connection': only the remote can reach us again).
 * - Both sides may dial each other at once; both connections are kept.
 * - Idle connections (no bytes either way for `idleTimeMs`) are closed.
 * - Garbage (a length prefix under 16) closes that connection only; every
 *   end of a connection is counted by reason.
 * - What one source may hold (a slowloris must not take every slot): at most
 *   `maxConnectionsPerIp` accepted connections per source address (an IPv6
 *   address counts by its /64, address-key.ts; beyond: refused,
 *   'tcp-per-ip-limit'), and an accepted connection must deliver a message the
 *   link layer authenticates (`authenticated(from)`, called by LinkManager when
 *   the noise device accepts a handshake or session packet from it) within
 *   `handshakeDeadlineMs`, else it is closed ('tcp-handshake-timeout'). The
 *   deadline is checked on every accept and every `deadlineCheckMs` while an
 *   accepted connection waits for it (no timer otherwise: an idle daemon does
 *   not wake for it), against the injected clock. Dialed connections have no such deadline: we chose
 *   that peer.
 * TCP_NODELAY is set on every socket; writes within a tick are coalesced, and a
 * `sendBatch` becomes one buffer.
 * With `native` (the addon), each connection once open runs on a native StreamHandle
 * (tcp-native-stream.ts): framing, the bounded send queue and reads in the addon, and
 * `nativeStreamOf` hands the flow offload the stream a TCP link is bound to. Node still
 * listens, accepts and dials, and every limit above holds the same.
 */
export interface TcpTransportOptions {
  /** host: an IP literal ('0.0.0.0', '::' dual-stack, '198.18.0.1'); port 0 = ephemeral, 443 works as root. */
  listen?: { host: string; port: number };
  /** Default 3000. */
  connectTimeoutMs?: number;
  /** Default 180000 (WireGuard's Reject-After-Time: a live session handshakes well within it). */
  idleTimeMs?: number;
  /** Per dialing connection. Default 128 (wireguard-go's MaxStagedPackets). */
  maxQueuedMessages?: number;
  /** Drop ('tcp-backpressure') when a socket has more than this unsent. Default 1 MiB. */
  maxWriteBufferBytes?: number;
  /** Accepted connections beyond this are refused ('tcp-too-many-connections'). Default 1024. */
  maxConnections?: number;
  /** Accepted connections per source address (IPv6: per /64) beyond this are refused ('tcp-per-ip-limit'). Default 8. */
  maxConnectionsPerIp?: number;
  /**
   * An accepted connection with nothing authenticated on it this long is closed ('tcp-handshake-timeout').
   * Default 10 000: above WireGuard's Rekey-Timeout (5 s) plus jitter and this check's period, so a peer told
   * to come back with a cookie (the device under load) can retry once on the same connection — the cookie is
   * bound to the connection.
   */
  handshakeDeadlineMs?: number;
  /** How often the deadline is checked besides on every accept. Default 1000. */
  deadlineCheckMs?: number;
  /** Time and the timer of the handshake deadline. Default: systemClock. */
  clock?: TimerClock;
  /**
   * The addon's stream datapath (tcp-native-stream.ts): every open connection's socket is moved to a native
   * StreamHandle. Absent: Node's sockets carry everything (memory twins, tests, no addon).
   */
  native?: {
    addon: NativeAddon;
    /** The send queue's bound in framed bytes per connection. Default: maxWriteBufferBytes. */
    maxQueueBytes?: number;
    /** TCP_NOTSENT_LOWAT per connection (0: the kernel's default). Default 0. */
    notSentLowatBytes?: number;
  };
}

/** A TCP transport whose connections may run on the addon's StreamHandles (for the flow offload). */
export interface TcpStreamSource {
  /** The native stream of the connection `to` names (its connectionId, else the one dialed to host:port). */
  nativeStreamOf(to: Endpoint): NativeStreamHandle | undefined;
}

const DEFAULTS = {
  connectTimeoutMs: 3000,
  idleTimeMs: 180_000,
  maxQueuedMessages: 128,
  maxWriteBufferBytes: 1 << 20,
  maxConnections: 1024,
  maxConnectionsPerIp: 8,
  handshakeDeadlineMs: 10_000,
  deadlineCheckMs: 1000,
} as const;

/** How many closed dialed connection ids are remembered for redialing. */
const CLOSED_DIALED_IDS_MAX = 1024;

export function createTcpTransport(options: TcpTransportOptions = {}): Transport & TcpStreamSource {
  return new TcpTransport(options);
}

class TcpTransport implements Transport, TcpConnectionOwner, TcpStreamSource {
  readonly kind = 'tcp' as const;
  readonly counters = createTransportCounters();
  private readonly connectionCounters: Omit<ConnectionStats, 'open'> = {
    accepted: 0,
    dialed: 0,
    closed: 0,
    connectFailures: 0,
  };
  private readonly limits: TcpConnectionLimits;
  private readonly one: Uint8Array[] = [];
  private readonly maxConnections: number;
  private readonly maxConnectionsPerIp: number;
  private readonly handshakeDeadlineMs: number;
  private readonly deadlineCheckMs: number;
  private readonly clock: TimerClock;
  /** Open accepted connections per source address key. */
  private readonly acceptedPerAddress = new Map<string, number>();
  private acceptedOpen = 0;
  /** Accepted connections nothing was authenticated on yet → their deadline; in accept order, so deadline order. */
  private readonly unauthenticated = new Map<TcpConnection, number>();
  private deadlineTimer: Timer | undefined;
  private server: Server | undefined;
  private sink: TransportSink | undefined;
  private bound: Endpoint | undefined;
  private isStarted = false;
  private isClosed = false;
  private nextConnectionId = 1;
  private readonly byId = new Map<number, TcpConnection>();
  /** Dialed, not yet closed: host → port → connection. */
  private readonly dialedByAddress = new Map<string, Map<number, TcpConnection>>();
  private readonly closedDialedIds = new Set<number>();
  private readonly closeWaiters = new Set<() => void>();

  constructor(private readonly options: TcpTransportOptions) {
    const listen = options.listen;
    if (listen !== undefined) {
      if (isIP(listen.host) === 0) throw new TransportOptionsError('listen.host', `not an IP literal: ${listen.host}`);
      if (!Number.isInteger(listen.port) || listen.port < 0 || listen.port > 65535) {
        throw new TransportOptionsError('listen.port', `out of range 0..65535: ${listen.port}`);
      }
    }
    this.maxConnections = positive(options, 'maxConnections');
    this.maxConnectionsPerIp = positive(options, 'maxConnectionsPerIp');
    this.handshakeDeadlineMs = positive(options, 'handshakeDeadlineMs');
    this.deadlineCheckMs = positive(options, 'deadlineCheckMs');
    this.clock = options.clock ?? systemClock;
    const maxWriteBufferBytes = positive(options, 'maxWriteBufferBytes');
    const native = options.native;
    const maxQueueBytes = native?.maxQueueBytes ?? maxWriteBufferBytes;
    const notSentLowatBytes = native?.notSentLowatBytes ?? 0;
    if (native !== undefined && (!Number.isInteger(maxQueueBytes) || maxQueueBytes < 18 || maxQueueBytes > 64 * 1024 * 1024)) {
      throw new TransportOptionsError('native.maxQueueBytes', `out of range 18..67108864: ${maxQueueBytes}`);
    }
    if (native !== undefined && (!Number.isInteger(notSentLowatBytes) || notSentLowatBytes < 0 || notSentLowatBytes > 2 ** 31 - 1)) {
      throw new TransportOptionsError('native.notSentLowatBytes', `must be a non-negative integer: ${notSentLowatBytes}`);
    }
    this.limits = {
      connectTimeoutMs: positive(options, 'connectTimeoutMs'),
      idleTimeMs: positive(options, 'idleTimeMs'),
      maxQueuedMessages: positive(options, 'maxQueuedMessages'),
      maxWriteBufferBytes,
      ...(native === undefined ? {} : { native: { addon: native.addon, maxQueueBytes, notSentLowatBytes, clock: this.clock } }),
    };
  }

  start(sink: TransportSink): Promise<void> {
    if (this.isStarted || this.isClosed) {
      return Promise.reject(new TransportStateError('tcp', this.isClosed ? 'already closed' : 'already started'));
    }
    this.isStarted = true;
    this.sink = sink;
    const listen = this.options.listen;
    if (listen === undefined) return Promise.resolve();
    const server = createServer({ noDelay: true });
    server.maxConnections = this.maxConnections;
    this.server = server;
    return new Promise<void>((resolve, reject) => {
      const onListenError = (err: NodeJS.ErrnoException): void => {
        this.server = undefined;
        this.sink = undefined;
        this.isStarted = false;
        server.close();
        reject(new TransportListenError('tcp', listen.host, listen.port, err.code, { cause: err }));
      };
      server.once('error', onListenError);
      server.listen({ host: listen.host, port: listen.port, exclusive: true, ipv6Only: false }, () => {
        server.off('error', onListenError);
        server.on('error', () => countDrop(this.counters.drops, 'tcp-socket-error'));
        server.on('connection', this.onAccept);
        server.on('drop', () => countDrop(this.counters.drops, 'tcp-too-many-connections'));
        const address = server.address();
        const port = typeof address === 'object' && address !== null ? address.port : listen.port;
        this.bound = { transport: 'tcp', host: unmapIpv4(listen.host), port };
        resolve();
      });
    });
  }

  localEndpoint(): Endpoint | undefined {
    return this.bound;
  }

  send(bytes: Uint8Array, to: Endpoint): void {
    const len = bytes.length;
    if (!this.isSendable(to)) return;
    const unfit = lengthDropReason(len, MAX_MESSAGE_BYTES);
    if (unfit) {
      countDrop(this.counters.drops, unfit);
      return;
    }
    const connection = this.route(to, 1);
    if (connection === undefined) return;
    if (this.limits.native !== undefined) {
      this.one[0] = bytes;
      connection.writeMessages(this.one, 1, len);
      this.one.length = 0;
      return;
    }
    const framed = Buffer.allocUnsafe(FRAME_HEADER_BYTES + len);
    framed[0] = len >>> 8;
    framed[1] = len & 0xff;
    framed.set(bytes, FRAME_HEADER_BYTES);
    connection.write(framed, 1, len);
  }

  sendBatch(messages: readonly Uint8Array[], to: Endpoint): void {
    if (!this.isSendable(to)) {
      if (messages.length > 1) countDrop(this.counters.drops, this.isClosed ? 'closed' : 'wrong-transport', messages.length - 1);
      return;
    }
    let count = 0;
    let messageBytes = 0;
    for (let i = 0; i < messages.length; i++) {
      const len = (messages[i] as Uint8Array).length;
      const unfit = lengthDropReason(len, MAX_MESSAGE_BYTES);
      if (unfit) {
        countDrop(this.counters.drops, unfit);
      } else {
        count++;
        messageBytes += len;
      }
    }
    if (count === 0) return;
    const connection = this.route(to, count);
    if (connection === undefined) return;
    if (this.limits.native !== undefined) {
      const fit = count === messages.length ? messages : messages.filter((m) => lengthDropReason(m.length, MAX_MESSAGE_BYTES) === undefined);
      connection.writeMessages(fit, count, messageBytes);
      return;
    }
    const framed = Buffer.allocUnsafe(messageBytes + count * FRAME_HEADER_BYTES);
    encodeFramesInto(messages, framed, 0);
    connection.write(framed, count, messageBytes);
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.sink = undefined;
    this.deadlineTimer?.cancel();
    const server = this.server;
    this.server = undefined;
    const serverClosed =
      server === undefined ? Promise.resolve() : new Promise<void>((resolve) => server.close(() => resolve()));
    const connectionsClosed = new Promise<void>((resolve) => {
      if (this.byId.size === 0) resolve();
      else this.closeWaiters.add(resolve);
    });
    for (const connection of [...this.byId.values()]) connection.destroy('local-close');
    await Promise.all([serverClosed, connectionsClosed]);
  }

  stats(): TransportStats {
    return {
      ...this.counters,
      drops: { ...this.counters.drops },
      connections: { open: this.byId.size, ...this.connectionCounters },
    };
  }

  nativeStreamOf(to: Endpoint): NativeStreamHandle | undefined {
    if (to.transport !== 'tcp' || this.isClosed) return undefined;
    const connection =
      to.connectionId !== undefined ? this.byId.get(to.connectionId) : this.dialedByAddress.get(to.host)?.get(to.port);
    return connection?.nativeStream();
  }

  deliver(bytes: Uint8Array, from: Endpoint): void {
    const sink = this.sink;
    if (sink === undefined) {
      countDrop(this.counters.drops, 'closed');
      return;
    }
    this.counters.rxMessages++;
    this.counters.rxBytes += bytes.length;
    sink.message(bytes, from);
  }

  authenticated(from: Endpoint): void {
    if (from.transport !== 'tcp' || from.connectionId === undefined) return;
    const connection = this.byId.get(from.connectionId);
    if (connection !== undefined) this.forgetDeadline(connection);
  }

  connectionClosed(connection: TcpConnection, outcome: TcpConnectionOutcome): void {
    this.byId.delete(connection.id);
    this.forgetDeadline(connection);
    if (!connection.isDialed) {
      this.acceptedOpen--;
      const key = addressKey(connection.from.host);
      const n = (this.acceptedPerAddress.get(key) ?? 1) - 1;
      if (n <= 0) this.acceptedPerAddress.delete(key);
      else this.acceptedPerAddress.set(key, n);
    }
    this.connectionCounters.closed++;
    if (outcome === 'connect-failed') this.connectionCounters.connectFailures++;
    if (connection.isDialed) {
      const byPort = this.dialedByAddress.get(connection.from.host);
      if (byPort?.get(connection.from.port) === connection) {
        byPort.delete(connection.from.port);
        if (byPort.size === 0) this.dialedByAddress.delete(connection.from.host);
      }
      if (this.closedDialedIds.size >= CLOSED_DIALED_IDS_MAX) {
        const oldest = this.closedDialedIds.values().next();
        if (oldest.done !== true) this.closedDialedIds.delete(oldest.value);
      }
      this.closedDialedIds.add(connection.id);
    }
    if (this.byId.size === 0 && this.closeWaiters.size > 0) {
      for (const resolve of this.closeWaiters) resolve();
      this.closeWaiters.clear();
    }
  }

  /** Counts the drop of one message when `to` cannot be served at all. */
  private isSendable(to: Endpoint): boolean {
    if (!this.isStarted || this.isClosed) {
      countDrop(this.counters.drops, 'closed');
      return false;
    }
    if (to.transport !== 'tcp') {
      countDrop(this.counters.drops, 'wrong-transport');
      return false;
    }
    return true;
  }

  /** The connection for `to`, dialing when needed; undefined (drop counted) when there is none to be had. */
  private route(to: Endpoint, messageCount: number): TcpConnection | undefined {
    const id = to.connectionId;
    if (id !== undefined) {
      const connection = this.byId.get(id);
      if (connection !== undefined) return connection;
      if (!this.closedDialedIds.has(id)) {
        countDrop(this.counters.drops, 'tcp-no-connection', messageCount);
        return undefined;
      }
    }
    const dialed = this.dialedByAddress.get(to.host)?.get(to.port);
    if (dialed !== undefined) return dialed;
    if (isIP(to.host) === 0 || !Number.isInteger(to.port) || to.port < 1 || to.port > 65535) {
      countDrop(this.counters.drops, 'tcp-connect-failed', messageCount);
      this.connectionCounters.connectFailures++;
      return undefined;
    }
    return this.dial(to.host, to.port);
  }

  private dial(host: string, port: number): TcpConnection {
    const id = this.nextConnectionId++;
    const socket = new Socket();
    const from: Endpoint = Object.freeze({ transport: 'tcp', host, port, connectionId: id });
    const connection = new TcpConnection(id, socket, from, true, this, this.limits);
    this.byId.set(id, connection);
    let byPort = this.dialedByAddress.get(host);
    if (byPort === undefined) {
      byPort = new Map();
      this.dialedByAddress.set(host, byPort);
    }
    byPort.set(port, connection);
    this.connectionCounters.dialed++;
    socket.connect({ host, port, noDelay: true });
    return connection;
  }

  private readonly onAccept = (socket: Socket): void => {
    const address = socket.remoteAddress;
    const port = socket.remotePort;
    if (this.isClosed || address === undefined || port === undefined) {
      socket.destroy();
      return;
    }
    const now = this.clock.now();
    this.closeExpired();
    // Node's own count forgets connections taken over by native streams: the bound is kept here too.
    if (this.acceptedOpen >= this.maxConnections) {
      countDrop(this.counters.drops, 'tcp-too-many-connections');
      socket.destroy();
      return;
    }
    const host = unmapIpv4(address);
    const key = addressKey(host);
    const held = this.acceptedPerAddress.get(key) ?? 0;
    if (held >= this.maxConnectionsPerIp) {
      countDrop(this.counters.drops, 'tcp-per-ip-limit');
      socket.destroy();
      return;
    }
    this.acceptedPerAddress.set(key, held + 1);
    this.acceptedOpen++;
    const id = this.nextConnectionId++;
    const from: Endpoint = Object.freeze({ transport: 'tcp', host, port, connectionId: id });
    const connection = new TcpConnection(id, socket, from, false, this, this.limits);
    this.byId.set(id, connection);
    this.unauthenticated.set(connection, now + this.handshakeDeadlineMs);
    this.deadlineTimer ??= this.clock.every(this.deadlineCheckMs, this.closeExpired);
    this.connectionCounters.accepted++;
  };

  /** Closes the accepted connections past their handshake deadline (the oldest first; stops at the first that is not). */
  private readonly closeExpired = (): void => {
    const now = this.clock.now();
    for (const [connection, deadline] of this.unauthenticated) {
      if (deadline > now) return;
      this.unauthenticated.delete(connection);
      countDrop(this.counters.drops, 'tcp-handshake-timeout');
      connection.destroy('handshake-timeout');
    }
    this.stopDeadlineCheckWhenNoneWait();
  };

  private forgetDeadline(connection: TcpConnection): void {
    this.unauthenticated.delete(connection);
    this.stopDeadlineCheckWhenNoneWait();
  }

  private stopDeadlineCheckWhenNoneWait(): void {
    if (this.unauthenticated.size > 0 || this.deadlineTimer === undefined) return;
    this.deadlineTimer.cancel();
    this.deadlineTimer = undefined;
  }
}

function positive(options: TcpTransportOptions, key: keyof typeof DEFAULTS): number {
  const value = options[key] ?? DEFAULTS[key];
  if (!Number.isFinite(value) || value <= 0) throw new TransportOptionsError(key, `must be a positive number: ${value}`);
  return value;
}

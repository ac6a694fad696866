import type { Endpoint } from './endpoint.js';
import { TransportListenError, TransportStateError } from './errors.js';
import {
  countDrop,
  MAX_MESSAGE_BYTES,
  lengthDropReason,
  type Transport,
  type TransportKind,
  type TransportSink,
  type TransportStats,
  createTransportCounters,
} from './transport.js';

/**
 * In-memory twin of the UDP and TCP transports (cf. wireguard-go's
 * conn/bindtest, @libp2p/memory): transports created on one MemoryNetwork
 * reach each other by {host, port}, with no sockets, and pass the same shared
 * suite as the real ones.
 *
 * - Delivery is asynchronous (one setImmediate flush per batch of pending
 *   messages), so a sink that replies never re-enters the sender.
 * - Messages are copied on send.
 * - 'tcp' transports emulate connections: a send to host:port "dials" (or
 *   fails with 'tcp-connect-failed' when nothing listens), both ends get a
 *   connectionId, replies to `from` go back on that connection, and a dialed
 *   connection whose remote closed is redialed on the next send.
 * - `block(kind)` simulates a firewall dropping that transport ('blocked'), to
 *   drive the UDP→TCP fallback end to end.
 * Addresses are taken literally ('0.0.0.0' is not a wildcard here).
 */
export interface MemoryTransportOptions {
  kind: TransportKind;
  listen: { host: string; port: number };
}

interface PendingDelivery {
  readonly to: MemoryTransport;
  readonly bytes: Uint8Array;
  readonly from: Endpoint;
}

interface MemoryConnection {
  readonly peer: MemoryTransport;
  readonly peerId: number;
  /** What messages arriving on this connection report. */
  readonly from: Endpoint;
  readonly isDialed: boolean;
}

const FIRST_EPHEMERAL_PORT = 49152;

export class MemoryNetwork {
  private readonly listeners = new Map<string, MemoryTransport>();
  private readonly blocked = new Set<TransportKind>();
  private pending: PendingDelivery[] = [];
  private isFlushScheduled = false;
  private nextEphemeralPort = FIRST_EPHEMERAL_PORT;
  private isDropped: ((bytes: Uint8Array, from: Endpoint) => boolean) | undefined;

  createTransport(options: MemoryTransportOptions): Transport {
    return new MemoryTransport(this, options);
  }

  /** Drop every message of this kind from now on (or let them through again with `isBlocked = false`). */
  block(kind: TransportKind, isBlocked = true): void {
    if (isBlocked) this.blocked.add(kind);
    else this.blocked.delete(kind);
  }

  isBlocked(kind: TransportKind): boolean {
    return this.blocked.has(kind);
  }

  /** Drop the messages `isDropped` picks from now on (a lossy or overloaded path); undefined lets all through. */
  dropWhere(isDropped: ((bytes: Uint8Array, from: Endpoint) => boolean) | undefined): void {
    this.isDropped = isDropped;
  }

  /** @internal */
  bind(transport: MemoryTransport, kind: TransportKind, host: string, port: number): number {
    const bound = port === 0 ? this.ephemeralPort(kind, host) : port;
    const key = addressKey(kind, host, bound);
    if (this.listeners.has(key)) throw new TransportListenError(`memory ${kind}`, host, port, 'EADDRINUSE');
    this.listeners.set(key, transport);
    return bound;
  }

  /** @internal */
  unbind(kind: TransportKind, host: string, port: number): void {
    this.listeners.delete(addressKey(kind, host, port));
  }

  /** @internal */
  lookup(kind: TransportKind, host: string, port: number): MemoryTransport | undefined {
    return this.listeners.get(addressKey(kind, host, port));
  }

  /** @internal A port for the dialing side of an emulated TCP connection. */
  ephemeralPort(kind: TransportKind, host: string): number {
    for (;;) {
      const port = this.nextEphemeralPort++;
      if (this.nextEphemeralPort > 65535) this.nextEphemeralPort = FIRST_EPHEMERAL_PORT;
      if (!this.listeners.has(addressKey(kind, host, port))) return port;
    }
  }

  /** @internal */
  enqueue(to: MemoryTransport, bytes: Uint8Array, from: Endpoint): void {
    if (this.isDropped?.(bytes, from)) return;
    this.pending.push({ to, bytes: Uint8Array.from(bytes), from });
    if (!this.isFlushScheduled) {
      this.isFlushScheduled = true;
      setImmediate(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.isFlushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    for (const delivery of batch) delivery.to.receive(delivery.bytes, delivery.from);
  };
}

function addressKey(kind: TransportKind, host: string, port: number): string {
  return `${kind}|${host}|${port}`;
}

class MemoryTransport implements Transport {
  readonly kind: TransportKind;
  private sink: TransportSink | undefined;
  private bound: Endpoint | undefined;
  private isStarted = false;
  private isClosed = false;
  private nextConnectionId = 1;
  private readonly connections = new Map<number, MemoryConnection>();
  private readonly closedDialedIds = new Set<number>();
  private readonly counters = createTransportCounters();
  private accepted = 0;
  private dialed = 0;
  private closedConnections = 0;
  private connectFailures = 0;

  constructor(
    private readonly network: MemoryNetwork,
    private readonly options: MemoryTransportOptions,
  ) {
    this.kind = options.kind;
  }

  start(sink: TransportSink): Promise<void> {
    if (this.isStarted || this.isClosed) {
      return Promise.reject(new TransportStateError('memory', this.isClosed ? 'already closed' : 'already started'));
    }
    const { host, port } = this.options.listen;
    try {
      const boundPort = this.network.bind(this, this.kind, host, port);
      this.bound = { transport: this.kind, host, port: boundPort };
    } catch (err) {
      return Promise.reject(err);
    }
    this.isStarted = true;
    this.sink = sink;
    return Promise.resolve();
  }

  localEndpoint(): Endpoint | undefined {
    return this.bound;
  }

  send(bytes: Uint8Array, to: Endpoint): void {
    const bound = this.bound;
    if (this.isClosed || bound === undefined) return countDrop(this.counters.drops, 'closed');
    if (to.transport !== this.kind) return countDrop(this.counters.drops, 'wrong-transport');
    const unfit = lengthDropReason(bytes.length, MAX_MESSAGE_BYTES);
    if (unfit) return countDrop(this.counters.drops, unfit);
    if (this.network.isBlocked(this.kind)) return countDrop(this.counters.drops, 'blocked');
    if (this.kind === 'udp') {
      const target = this.network.lookup('udp', to.host, to.port);
      if (target === undefined) return countDrop(this.counters.drops, 'unreachable');
      this.sent(bytes);
      this.network.enqueue(target, bytes, bound);
      return;
    }
    const connection = this.route(to);
    if (connection === undefined) return;
    const remote = connection.peer.connectionFrom(connection.peerId);
    if (remote === undefined) return countDrop(this.counters.drops, 'tcp-no-connection');
    this.sent(bytes);
    this.network.enqueue(connection.peer, bytes, remote);
  }

  sendBatch(messages: readonly Uint8Array[], to: Endpoint): void {
    for (const message of messages) this.send(message, to);
  }

  close(): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    this.isClosed = true;
    this.sink = undefined;
    if (this.bound !== undefined) this.network.unbind(this.kind, this.bound.host, this.bound.port);
    for (const [id, connection] of this.connections) {
      connection.peer.dropConnection(connection.peerId);
      this.connections.delete(id);
      this.closedConnections++;
    }
    return Promise.resolve();
  }

  stats(): TransportStats {
    const stats: TransportStats = { ...this.counters, drops: { ...this.counters.drops } };
    if (this.kind === 'tcp') {
      stats.connections = {
        open: this.connections.size,
        accepted: this.accepted,
        dialed: this.dialed,
        closed: this.closedConnections,
        connectFailures: this.connectFailures,
      };
    }
    return stats;
  }

  /** @internal Called by the network's flush. */
  receive(bytes: Uint8Array, from: Endpoint): void {
    const sink = this.sink;
    if (sink === undefined) return countDrop(this.counters.drops, 'closed');
    this.counters.rxMessages++;
    this.counters.rxBytes += bytes.length;
    sink.message(bytes, from);
  }

  /** @internal The `from` the remote end of connection `id` reports, if still open. */
  connectionFrom(id: number): Endpoint | undefined {
    return this.connections.get(id)?.from;
  }

  /** @internal The remote closed connection `id`. */
  dropConnection(id: number): void {
    const connection = this.connections.get(id);
    if (connection === undefined) return;
    this.connections.delete(id);
    this.closedConnections++;
    if (connection.isDialed) this.closedDialedIds.add(id);
  }

  /** @internal The remote dialed us. Returns our id for the new connection. */
  accept(peer: MemoryTransport, peerId: number, dialerHost: string): number {
    const id = this.nextConnectionId++;
    const port = this.network.ephemeralPort('tcp', dialerHost);
    this.connections.set(id, {
      peer,
      peerId,
      from: Object.freeze({ transport: 'tcp', host: dialerHost, port, connectionId: id }),
      isDialed: false,
    });
    this.accepted++;
    return id;
  }

  private sent(bytes: Uint8Array): void {
    this.counters.txMessages++;
    this.counters.txBytes += bytes.length;
  }

  private route(to: Endpoint): MemoryConnection | undefined {
    if (to.connectionId !== undefined) {
      const connection = this.connections.get(to.connectionId);
      if (connection !== undefined) return connection;
      if (!this.closedDialedIds.has(to.connectionId)) {
        countDrop(this.counters.drops, 'tcp-no-connection');
        return undefined;
      }
    }
    for (const connection of this.connections.values()) {
      if (connection.isDialed && connection.from.host === to.host && connection.from.port === to.port) return connection;
    }
    const target = this.network.lookup('tcp', to.host, to.port);
    if (target === undefined || this.bound === undefined) {
      this.connectFailures++;
      countDrop(this.counters.drops, 'tcp-connect-failed');
      return undefined;
    }
    const id = this.nextConnectionId++;
    const peerId = target.accept(this, id, this.bound.host);
    const connection: MemoryConnection = {
      peer: target,
      peerId,
      from: Object.freeze({ transport: 'tcp', host: to.host, port: to.port, connectionId: id }),
      isDialed: true,
    };
    this.connections.set(id, connection);
    this.dialed++;
    return connection;
  }
}

import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { unmapIpv4, type Endpoint } from './endpoint.js';
import { TransportListenError, TransportOptionsError, TransportStateError } from './errors.js';
import {
  countDrop,
  lengthDropReason,
  MAX_MESSAGE_BYTES,
  MIN_MESSAGE_BYTES,
  type Transport,
  type TransportSink,
  type TransportStats,
  createTransportCounters,
} from './transport.js';

/**
 * Link messages over UDP: one datagram per message, as WireGuard does.
 *
 * Listening on an IPv6 host uses a udp6 socket; on '::' it is dual-stack and
 * IPv4 peers are reached through IPv4-mapped addresses (reported back in their
 * plain IPv4 form). An IPv4 host gives a udp4 socket that reaches IPv4 only.
 *
 * Data path: one bound handler for every datagram and one bound send callback;
 * `from` endpoints are cached per source address so steady traffic allocates
 * nothing in this file (Node itself allocates the Buffer and rinfo).
 */
export interface UdpTransportOptions {
  /** host: an IP literal ('0.0.0.0', '::', '198.18.0.1', '::1'); port 0 = ephemeral. */
  listen: { host: string; port: number };
  /** Datagrams above this are dropped as 'too-long' (both directions). Default 65535. */
  maxDatagramBytes?: number;
  /** SO_RCVBUF / SO_SNDBUF, when set. */
  receiveBufferBytes?: number;
  sendBufferBytes?: number;
}

/** Bound on the from-endpoint cache; cleared wholesale when full (a flood of sources only costs allocations). */
const ENDPOINT_CACHE_MAX = 4096;

export function createUdpTransport(options: UdpTransportOptions): Transport {
  return new UdpTransport(options);
}

class UdpTransport implements Transport {
  readonly kind = 'udp' as const;
  private readonly maxDatagramBytes: number;
  private readonly isIpv6Socket: boolean;
  private socket: Socket | undefined;
  private sink: TransportSink | undefined;
  private bound: Endpoint | undefined;
  private isClosed = false;
  private readonly counters = createTransportCounters();
  /** rinfo.address → port → Endpoint handed to the sink. */
  private readonly fromCache = new Map<string, Map<number, Endpoint>>();
  private fromCacheSize = 0;
  /** IPv4 host → '::ffff:' form, for a dual-stack socket. */
  private readonly mappedHosts = new Map<string, string>();

  constructor(private readonly options: UdpTransportOptions) {
    const family = isIP(options.listen.host);
    if (family === 0) throw new TransportOptionsError('listen.host', `not an IP literal: ${options.listen.host}`);
    if (!Number.isInteger(options.listen.port) || options.listen.port < 0 || options.listen.port > 65535) {
      throw new TransportOptionsError('listen.port', `out of range 0..65535: ${options.listen.port}`);
    }
    this.maxDatagramBytes = options.maxDatagramBytes ?? MAX_MESSAGE_BYTES;
    if (this.maxDatagramBytes < MIN_MESSAGE_BYTES || this.maxDatagramBytes > MAX_MESSAGE_BYTES) {
      throw new TransportOptionsError('maxDatagramBytes', `out of range ${MIN_MESSAGE_BYTES}..${MAX_MESSAGE_BYTES}`);
    }
    this.isIpv6Socket = family === 6;
  }

  start(sink: TransportSink): Promise<void> {
    if (this.socket !== undefined || this.isClosed) {
      return Promise.reject(new TransportStateError('udp', this.isClosed ? 'already closed' : 'already started'));
    }
    const { host, port } = this.options.listen;
    const socket = createSocket({
      type: this.isIpv6Socket ? 'udp6' : 'udp4',
      ipv6Only: false,
      ...(this.options.receiveBufferBytes !== undefined ? { recvBufferSize: this.options.receiveBufferBytes } : {}),
      ...(this.options.sendBufferBytes !== undefined ? { sendBufferSize: this.options.sendBufferBytes } : {}),
    });
    this.socket = socket;
    this.sink = sink;
    return new Promise<void>((resolve, reject) => {
      const onBindError = (err: NodeJS.ErrnoException): void => {
        this.socket = undefined;
        this.sink = undefined;
        socket.close();
        reject(new TransportListenError('udp', host, port, err.code, { cause: err }));
      };
      socket.once('error', onBindError);
      socket.bind({ address: host, port, exclusive: true }, () => {
        socket.off('error', onBindError);
        // After bind, socket errors (e.g. ICMP-driven) are per-datagram trouble: count, never crash.
        socket.on('error', this.onSocketError);
        socket.on('message', this.onMessage);
        const address = socket.address();
        this.bound = { transport: 'udp', host: unmapIpv4(address.address), port: address.port };
        resolve();
      });
    });
  }

  localEndpoint(): Endpoint | undefined {
    return this.bound;
  }

  send(bytes: Uint8Array, to: Endpoint): void {
    const socket = this.socket;
    if (socket === undefined || this.isClosed || this.bound === undefined) {
      countDrop(this.counters.drops, 'closed');
      return;
    }
    if (to.transport !== 'udp') {
      countDrop(this.counters.drops, 'wrong-transport');
      return;
    }
    const len = bytes.length;
    const unfit = lengthDropReason(len, this.maxDatagramBytes);
    if (unfit) {
      countDrop(this.counters.drops, unfit);
      return;
    }
    // Zero-copy: dgram keeps a reference until the datagram leaves (see the ownership rule in transport.ts).
    socket.send(bytes, to.port, this.socketHost(to.host), this.onSendDone);
    this.counters.txMessages++;
    this.counters.txBytes += len;
  }

  sendBatch(messages: readonly Uint8Array[], to: Endpoint): void {
    for (let i = 0; i < messages.length; i++) this.send(messages[i] as Uint8Array, to);
  }

  close(): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    this.isClosed = true;
    this.sink = undefined;
    const socket = this.socket;
    this.socket = undefined;
    if (socket === undefined) return Promise.resolve();
    socket.off('message', this.onMessage);
    return new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  stats(): TransportStats {
    return { ...this.counters, drops: { ...this.counters.drops } };
  }

  private readonly onMessage = (msg: Buffer, rinfo: RemoteInfo): void => {
    const sink = this.sink;
    if (sink === undefined) {
      countDrop(this.counters.drops, 'closed');
      return;
    }
    const len = msg.length;
    const unfit = lengthDropReason(len, this.maxDatagramBytes);
    if (unfit) {
      countDrop(this.counters.drops, unfit);
      return;
    }
    this.counters.rxMessages++;
    this.counters.rxBytes += len;
    sink.message(msg, this.fromEndpoint(rinfo.address, rinfo.port));
  };

  private readonly onSendDone = (err: Error | null): void => {
    if (err !== null) {
      // The message was counted as sent when queued; move it to the drops.
      this.counters.txMessages--;
      countDrop(this.counters.drops, 'udp-send-failed');
    }
  };

  private readonly onSocketError = (): void => {
    countDrop(this.counters.drops, 'udp-send-failed');
  };

  private fromEndpoint(address: string, port: number): Endpoint {
    let byPort = this.fromCache.get(address);
    let endpoint = byPort?.get(port);
    if (endpoint !== undefined) return endpoint;
    if (this.fromCacheSize >= ENDPOINT_CACHE_MAX) {
      this.fromCache.clear();
      this.fromCacheSize = 0;
      byPort = undefined;
    }
    if (byPort === undefined) {
      byPort = new Map();
      this.fromCache.set(address, byPort);
    }
    endpoint = Object.freeze({ transport: 'udp' as const, host: unmapIpv4(address), port });
    byPort.set(port, endpoint);
    this.fromCacheSize++;
    return endpoint;
  }

  private socketHost(host: string): string {
    if (!this.isIpv6Socket || host.includes(':')) return host;
    let mapped = this.mappedHosts.get(host);
    if (mapped === undefined) {
      if (this.mappedHosts.size >= ENDPOINT_CACHE_MAX) this.mappedHosts.clear();
      mapped = `::ffff:${host}`;
      this.mappedHosts.set(host, mapped);
    }
    return mapped;
  }
}

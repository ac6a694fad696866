import { isIP } from 'node:net';
import { constants as osConstants } from 'node:os';
import type { NativeAddon, NativeOffload, NativeUdpCounters, NativeUdpHandle } from '../../port/addon.js';
import type { Endpoint } from './endpoint.js';
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
 * Link messages over UDP through the addon's UdpHandle (udp-handle.h): the same
 * Transport as udp-transport.ts (it passes the same suite), moved in batches.
 *
 * Why: Node's dgram costs ~12 µs of CPU per datagram sent (81 k msg/s measured
 * here), with one JS callback per datagram received. Here one wake-up of the
 * socket is ONE recvmmsg into a preallocated buffer and ONE call into JS for
 * every datagram it brought; a sendBatch is ONE sendmmsg per 64 messages, and
 * equal-sized messages in a row leave as one UDP GSO send (see udp-handle.h).
 *
 * Receive: datagram i of a wake-up is a view at offsets[i] of the handle's
 * buffer, valid during its sink call only (the Transport contract); datagrams
 * the kernel glued together (UDP GRO) are already split. Its source
 * comes as numbers (family, port, address words) and is turned into a frozen
 * Endpoint through a cache keyed by number for IPv4 (no string per packet).
 * Send: each destination is resolved to a sockaddr once, cached per Endpoint
 * object (the link layer reuses the endpoint objects it was handed).
 * Listening on '::' is dual-stack; IPv4 peers are reported in plain IPv4 form.
 */
export interface NativeUdpTransportOptions {
  /** host: an IP literal ('0.0.0.0', '::', '198.18.0.1', '::1'); port 0 = ephemeral. */
  listen: { host: string; port: number };
  /** Datagrams above this are dropped as 'too-long' (both directions). Default 65535. */
  maxDatagramBytes?: number;
  /** Datagrams taken per recvmmsg (one JS call). Default 64. */
  batchMessages?: number;
  /** SO_RCVBUF / SO_SNDBUF (FORCE variants when root). Default 4 MiB each: bursts of a batch must fit. */
  receiveBufferBytes?: number;
  sendBufferBytes?: number;
}

const DEFAULT_BATCH_MESSAGES = 64;
const DEFAULT_SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;
/** Bound on the from-endpoint and sockaddr caches; cleared wholesale when full. */
const ENDPOINT_CACHE_MAX = 4096;
const ADDR_WORDS = 6;
const TWO_16 = 0x1_0000;

/**
 * A sink that also hears where each receive wake-up begins and ends (optional: a plain TransportSink works).
 * Every batchStart is followed by a batchEnd, also when a message call throws; messages between them came
 * in one wake-up.
 */
export interface BatchTransportSink extends TransportSink {
  batchStart?(): void;
  batchEnd?(): void;
}

/** A Transport, plus the addon's own counters (batching, GSO, GRO) for diagnostics. */
export interface NativeUdpTransport extends Transport {
  /** All zero before start() and after close(). */
  nativeCounters(): NativeUdpCounters;
  /** The addon handle (after start(), until close()), for the flow offload (switch/offload/). */
  nativeHandle(): NativeUdpHandle | undefined;
  /**
   * Offers received datagrams to `native`'s fast path first, and lets its links send on this socket (undefined:
   * off). Kept for a handle that start() opens later; close() detaches it.
   */
  setOffload(native: NativeOffload | undefined): void;
  /** The sockaddr send() would use for `to` (cached per Endpoint object), or null when unreachable. */
  sockaddrOf(to: Endpoint): Uint8Array | null;
}

export function createNativeUdpTransport(options: NativeUdpTransportOptions, addon: NativeAddon): NativeUdpTransport {
  return new NativeUdpSocketTransport(options, addon);
}

class NativeUdpSocketTransport implements NativeUdpTransport {
  readonly kind = 'udp' as const;
  private readonly maxDatagramBytes: number;
  private handle: NativeUdpHandle | undefined;
  private bytes: Uint8Array | undefined;
  private sink: BatchTransportSink | undefined;
  private bound: Endpoint | undefined;
  private isClosed = false;
  private readonly counters = createTransportCounters();
  /** IPv4 source (address × 65536 + port) → Endpoint handed to the sink. */
  private readonly from4 = new Map<number, Endpoint>();
  /** IPv6 source ("addr-hex:port") → Endpoint. */
  private readonly from6 = new Map<string, Endpoint>();
  /** Destination Endpoint object → its sockaddr (null: not reachable from this socket). */
  private sockaddrs = new WeakMap<Endpoint, Uint8Array | null>();
  private sockaddrCount = 0;
  private readonly one: Uint8Array[] = [];
  private offload: NativeOffload | undefined;

  constructor(
    private readonly options: NativeUdpTransportOptions,
    private readonly addon: NativeAddon,
  ) {
    if (isIP(options.listen.host) === 0) throw new TransportOptionsError('listen.host', `not an IP literal: ${options.listen.host}`);
    if (!Number.isInteger(options.listen.port) || options.listen.port < 0 || options.listen.port > 65535) {
      throw new TransportOptionsError('listen.port', `out of range 0..65535: ${options.listen.port}`);
    }
    this.maxDatagramBytes = options.maxDatagramBytes ?? MAX_MESSAGE_BYTES;
    if (this.maxDatagramBytes < MIN_MESSAGE_BYTES || this.maxDatagramBytes > MAX_MESSAGE_BYTES) {
      throw new TransportOptionsError('maxDatagramBytes', `out of range ${MIN_MESSAGE_BYTES}..${MAX_MESSAGE_BYTES}`);
    }
    const batch = options.batchMessages ?? DEFAULT_BATCH_MESSAGES;
    if (!Number.isInteger(batch) || batch < 1 || batch > 1024) {
      throw new TransportOptionsError('batchMessages', 'out of range 1..1024');
    }
  }

  start(sink: BatchTransportSink): Promise<void> {
    if (this.handle !== undefined || this.isClosed) {
      return Promise.reject(new TransportStateError('udp', this.isClosed ? 'already closed' : 'already started'));
    }
    const { host, port } = this.options.listen;
    let handle: NativeUdpHandle;
    try {
      handle = new this.addon.UdpHandle(
        host,
        port,
        this.options.batchMessages ?? DEFAULT_BATCH_MESSAGES,
        this.maxDatagramBytes,
        this.options.receiveBufferBytes ?? DEFAULT_SOCKET_BUFFER_BYTES,
        this.options.sendBufferBytes ?? DEFAULT_SOCKET_BUFFER_BYTES,
      );
    } catch (err) {
      return Promise.reject(new TransportListenError('udp', host, port, errnoName(err), { cause: err }));
    }
    this.handle = handle;
    this.bytes = new Uint8Array(handle.buffer);
    this.sink = sink;
    if (this.offload !== undefined && !this.offload.isClosed) handle.setOffload(this.offload);
    handle.start(this.onMessages, this.onError);
    this.bound = { transport: 'udp', host, port: handle.localPort() };
    return Promise.resolve();
  }

  localEndpoint(): Endpoint | undefined {
    return this.bound;
  }

  send(bytes: Uint8Array, to: Endpoint): void {
    this.one[0] = bytes;
    this.sendBatch(this.one, to);
    this.one.length = 0;
  }

  sendBatch(messages: readonly Uint8Array[], to: Endpoint): void {
    const handle = this.handle;
    const drops = this.counters.drops;
    if (handle === undefined || this.isClosed) {
      countDrop(drops, 'closed', messages.length);
      return;
    }
    if (to.transport !== 'udp') {
      countDrop(drops, 'wrong-transport', messages.length);
      return;
    }
    const sockaddr = this.sockaddrFor(handle, to);
    if (sockaddr === null) {
      countDrop(drops, 'udp-send-failed', messages.length);
      return;
    }
    let outgoing = messages;
    let bytes = 0;
    for (let i = 0; i < messages.length; i++) {
      const len = messages[i]!.length;
      if (len < MIN_MESSAGE_BYTES || len > this.maxDatagramBytes) {
        outgoing = messages.filter((m) => m.length >= MIN_MESSAGE_BYTES && m.length <= this.maxDatagramBytes);
        for (const m of messages) {
          const unfit = lengthDropReason(m.length, this.maxDatagramBytes);
          if (unfit) countDrop(drops, unfit);
        }
        bytes = 0;
        for (const m of outgoing) bytes += m.length;
        break;
      }
      bytes += len;
    }
    if (outgoing.length === 0) return;
    const sent = handle.send(outgoing, sockaddr);
    this.counters.txMessages += sent;
    if (sent === outgoing.length) {
      this.counters.txBytes += bytes;
    } else {
      // Which ones were refused is not known: count bytes of the ones taken, approximately from the front.
      for (let i = 0; i < sent; i++) this.counters.txBytes += outgoing[i]!.length;
      countDrop(drops, 'udp-send-failed', outgoing.length - sent);
    }
  }

  close(): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    this.isClosed = true;
    this.sink = undefined;
    const handle = this.handle;
    this.handle = undefined;
    this.offload = undefined;
    handle?.close(); // detaches it from its offload too
    return Promise.resolve();
  }

  stats(): TransportStats {
    return { ...this.counters, drops: { ...this.counters.drops } };
  }

  nativeHandle(): NativeUdpHandle | undefined {
    return this.isClosed ? undefined : this.handle;
  }

  setOffload(native: NativeOffload | undefined): void {
    if (this.isClosed) return;
    this.offload = native;
    this.handle?.setOffload(native === undefined || native.isClosed ? null : native);
  }

  sockaddrOf(to: Endpoint): Uint8Array | null {
    const handle = this.handle;
    if (handle === undefined || this.isClosed || to.transport !== 'udp') return null;
    return this.sockaddrFor(handle, to);
  }

  nativeCounters(): NativeUdpCounters {
    return this.handle?.counters() ?? { sendFailed: 0, receiveErrors: 0, receiveCalls: 0, sendCalls: 0, gsoSends: 0, groReads: 0 };
  }

  /** One wake-up: `count` datagrams in the handle's buffer, one sink call each, bracketed by batchStart/batchEnd. */
  private readonly onMessages = (count: number): void => {
    const handle = this.handle;
    const bytes = this.bytes;
    const sink = this.sink;
    if (handle === undefined || bytes === undefined) return;
    if (sink?.batchStart === undefined) {
      this.deliverBatch(handle, bytes, count);
      return;
    }
    sink.batchStart();
    try {
      this.deliverBatch(handle, bytes, count);
    } finally {
      sink.batchEnd?.();
    }
  };

  private deliverBatch(handle: NativeUdpHandle, bytes: Uint8Array, count: number): void {
    const lengths = handle.lengths;
    const offsets = handle.offsets;
    const addrs = handle.addrs;
    const drops = this.counters.drops;
    for (let i = 0; i < count; i++) {
      const sink = this.sink;
      if (sink === undefined) {
        countDrop(drops, 'closed', count - i);
        return;
      }
      const len = lengths[i]!;
      const unfit = lengthDropReason(len, this.maxDatagramBytes);
      if (unfit) {
        countDrop(drops, unfit);
        continue;
      }
      this.counters.rxMessages++;
      this.counters.rxBytes += len;
      const start = offsets[i]!;
      sink.message(bytes.subarray(start, start + len), this.fromEndpoint(addrs, i * ADDR_WORDS));
    }
  }

  /** A receive error the socket cannot go on after (rare for UDP): count it; the link sees silence. */
  private readonly onError = (): void => {
    countDrop(this.counters.drops, 'udp-send-failed');
  };

  private fromEndpoint(addrs: Uint32Array, at: number): Endpoint {
    const port = addrs[at + 1]!;
    if (addrs[at] === 4) {
      const ip = addrs[at + 2]!;
      const key = ip * TWO_16 + port;
      let endpoint = this.from4.get(key);
      if (endpoint === undefined) {
        if (this.from4.size >= ENDPOINT_CACHE_MAX) this.from4.clear();
        const host = `${ip >>> 24}.${(ip >>> 16) & 0xff}.${(ip >>> 8) & 0xff}.${ip & 0xff}`;
        endpoint = Object.freeze({ transport: 'udp' as const, host, port });
        this.from4.set(key, endpoint);
      }
      return endpoint;
    }
    const raw = new Uint8Array(addrs.buffer, addrs.byteOffset + (at + 2) * 4, 16);
    const key = `${Buffer.from(raw).toString('hex')}:${port}`;
    let endpoint = this.from6.get(key);
    if (endpoint === undefined) {
      if (this.from6.size >= ENDPOINT_CACHE_MAX) this.from6.clear();
      endpoint = Object.freeze({ transport: 'udp' as const, host: formatIpv6(raw), port });
      this.from6.set(key, endpoint);
    }
    return endpoint;
  }

  private sockaddrFor(handle: NativeUdpHandle, to: Endpoint): Uint8Array | null {
    let sockaddr = this.sockaddrs.get(to);
    if (sockaddr === undefined) {
      if (this.sockaddrCount >= ENDPOINT_CACHE_MAX) {
        this.sockaddrs = new WeakMap();
        this.sockaddrCount = 0;
      }
      sockaddr = handle.resolve(to.host, to.port);
      this.sockaddrs.set(to, sockaddr);
      this.sockaddrCount++;
    }
    return sockaddr;
  }
}

/** The shortest text form of 16 IPv6 bytes (RFC 5952: longest run of zero groups as '::'). */
function formatIpv6(raw: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((raw[i]! << 8) | raw[i + 1]!);
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength && j - i > 1) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** The addon's errno as Node's code name (EADDRINUSE, ...). */
function errnoName(err: unknown): string | undefined {
  const errno = (err as { errno?: unknown } | null)?.errno;
  if (typeof errno !== 'number') return undefined;
  for (const [name, value] of Object.entries(osConstants.errno)) if (value === errno) return name;
  return undefined;
}

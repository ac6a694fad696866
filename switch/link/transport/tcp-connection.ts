import type { Socket } from 'node:net';
import type { Timer } from '../../clock.js';
import type { NativeStreamEnd, NativeStreamHandle } from '../../port/addon.js';
import type { Endpoint } from './endpoint.js';
import { encodeFrames, StreamFrameDecoder, type FrameSink } from './stream-framing.js';
import { takeOverSocket, type TcpNativeStreamOptions } from './tcp-native-stream.js';
import { countDrop, type TransportStats } from './transport.js';

/**
 * One TCP connection of the TCP transport: frames in (decoder → owner.deliver
 * with this connection's fixed `from`), frames out (queued while dialing,
 * corked per tick once open), and the bookkeeping of how it ended.
 *
 * Write coalescing: the first write in a tick corks the socket and schedules
 * one uncork on process.nextTick, so every message sent in that tick leaves in
 * a single writev. A write buffer over `maxWriteBufferBytes` drops instead of
 * queueing: WireGuard runs over lossy datagrams, and loss beats bufferbloat.
 *
 * Native (`limits.native`, the addon's StreamHandle): once open, the socket is taken over (tcp-native-stream.ts)
 * and the handle frames, queues (bounded: 'tcp-backpressure') and parses; messages it does not hand to the flow
 * offload come back here in batches. Bad input on the stream ends it as in JS, with the same counted reasons.
 * Messages queued while dialing are kept unframed then (copies), and go through the handle once it is up.
 */
export interface TcpConnectionOwner {
  readonly counters: Omit<TransportStats, 'connections'>;
  deliver(bytes: Uint8Array, from: Endpoint): void;
  connectionClosed(connection: TcpConnection, outcome: TcpConnectionOutcome): void;
}

export interface TcpConnectionLimits {
  readonly connectTimeoutMs: number;
  readonly idleTimeMs: number;
  readonly maxQueuedMessages: number;
  readonly maxWriteBufferBytes: number;
  /** The addon's stream datapath; absent: Node's socket carries everything. */
  readonly native?: TcpNativeStreamOptions;
}

/** How a connection ended, for counting. */
export type TcpConnectionOutcome = 'connect-failed' | 'garbage' | 'error' | 'idle' | 'ended' | 'local-close' | 'handshake-timeout';

export class TcpConnection implements FrameSink {
  state: 'connecting' | 'open' | 'closed';
  private readonly decoder = new StreamFrameDecoder();
  private queue: Uint8Array[] = [];
  private queuedMessages = 0;
  private queuedMessageBytes = 0;
  private isCorkScheduled = false;
  private outcome: TcpConnectionOutcome | undefined;
  /** The native stream once the socket was taken over. */
  private stream: NativeStreamHandle | undefined;
  private streamBytes: Uint8Array | undefined;
  private idleTimer: Timer | undefined;
  private lastActivityMs = 0;
  private lastActivityCount = -1;

  constructor(
    readonly id: number,
    readonly socket: Socket,
    /** What received messages report as their source; also the key to reuse this connection. */
    readonly from: Endpoint,
    readonly isDialed: boolean,
    private readonly owner: TcpConnectionOwner,
    private readonly limits: TcpConnectionLimits,
  ) {
    this.state = isDialed ? 'connecting' : 'open';
    socket.setNoDelay(true);
    socket.setTimeout(isDialed ? limits.connectTimeoutMs : limits.idleTimeMs);
    socket.on('data', this.onData);
    socket.on('timeout', this.onTimeout);
    socket.on('error', this.onError);
    socket.on('end', this.onEnd);
    socket.on('close', this.onClose);
    if (isDialed) socket.once('connect', this.onConnect);
    else this.takeOver();
  }

  /** The native stream this connection runs on (undefined: Node's socket, or closed). */
  nativeStream(): NativeStreamHandle | undefined {
    return this.state === 'open' ? this.stream : undefined;
  }

  /** Sends unframed messages: through the native stream, or framed onto Node's socket. */
  writeMessages(messages: readonly Uint8Array[], messageCount: number, messageBytes: number): void {
    const stream = this.stream;
    if (stream !== undefined && this.state === 'open') {
      const taken = stream.send(messages);
      this.owner.counters.txMessages += taken;
      this.owner.counters.txBytes += taken === messageCount ? messageBytes : Math.round((messageBytes * taken) / messageCount);
      if (taken < messageCount) countDrop(this.owner.counters.drops, 'tcp-backpressure', messageCount - taken);
      return;
    }
    if (this.state === 'connecting' && this.limits.native !== undefined) {
      if (this.queuedMessages + messageCount > this.limits.maxQueuedMessages) {
        countDrop(this.owner.counters.drops, 'tcp-queue-full', messageCount);
        return;
      }
      for (const m of messages) this.queue.push(m.slice());
      this.queuedMessages += messageCount;
      this.queuedMessageBytes += messageBytes;
      return;
    }
    this.write(encodeFrames(messages), messageCount, messageBytes);
  }

  /** Sends one framed buffer holding `messageCount` messages (`messageBytes` without prefixes). */
  write(framed: Uint8Array, messageCount: number, messageBytes: number): void {
    const drops = this.owner.counters.drops;
    if (this.state === 'connecting') {
      if (this.queuedMessages + messageCount > this.limits.maxQueuedMessages) {
        countDrop(drops, 'tcp-queue-full', messageCount);
        return;
      }
      this.queue.push(framed);
      this.queuedMessages += messageCount;
      this.queuedMessageBytes += messageBytes;
      return;
    }
    const socket = this.socket;
    if (this.state === 'closed' || socket.destroyed) {
      countDrop(drops, 'tcp-no-connection', messageCount);
      return;
    }
    if (socket.writableLength > this.limits.maxWriteBufferBytes) {
      countDrop(drops, 'tcp-backpressure', messageCount);
      return;
    }
    if (!this.isCorkScheduled) {
      this.isCorkScheduled = true;
      socket.cork();
      process.nextTick(this.uncork);
    }
    socket.write(framed);
    this.owner.counters.txMessages += messageCount;
    this.owner.counters.txBytes += messageBytes;
  }

  /** Closes from our side (transport close or policy); `outcome` is what gets counted. */
  destroy(outcome: TcpConnectionOutcome): void {
    this.outcome ??= outcome;
    if (this.stream !== undefined) {
      this.stream.close();
      this.finish();
      return;
    }
    this.socket.destroy();
  }

  frame(bytes: Uint8Array): void {
    this.owner.deliver(bytes, this.from);
  }

  private readonly uncork = (): void => {
    this.isCorkScheduled = false;
    if (!this.socket.destroyed) this.socket.uncork();
  };

  private readonly onConnect = (): void => {
    if (this.state !== 'connecting') return;
    this.state = 'open';
    this.socket.setTimeout(this.limits.idleTimeMs);
    const queue = this.queue;
    const count = this.queuedMessages;
    const bytes = this.queuedMessageBytes;
    this.queue = [];
    this.queuedMessages = 0;
    this.queuedMessageBytes = 0;
    if (this.limits.native !== undefined) {
      // Queued unframed: through the native stream, or framed now if the socket could not be taken over.
      if (this.takeOver()) this.writeMessages(queue, count, bytes);
      else if (queue.length > 0) this.write(encodeFrames(queue), count, bytes);
      return;
    }
    if (queue.length === 0) return;
    this.socket.cork();
    for (const framed of queue) this.socket.write(framed);
    this.socket.uncork();
    this.owner.counters.txMessages += count;
    this.owner.counters.txBytes += bytes;
  };

  private readonly onData = (chunk: Buffer): void => {
    // After garbage the decoder is out of sync: nothing more is read from this stream.
    if (this.state === 'closed' || this.outcome === 'garbage') return;
    if (this.decoder.push(chunk, this) !== 'ok') {
      countDrop(this.owner.counters.drops, 'tcp-frame-too-short');
      this.destroy('garbage');
    }
  };

  private readonly onTimeout = (): void => {
    this.destroy(this.state === 'connecting' ? 'connect-failed' : 'idle');
  };

  private readonly onError = (): void => {
    this.outcome ??= this.state === 'connecting' ? 'connect-failed' : 'error';
  };

  private readonly onEnd = (): void => {
    this.outcome ??= 'ended';
  };

  /** Moves an open socket to a native stream when the transport runs on the addon; true when it did. */
  private takeOver(): boolean {
    const native = this.limits.native;
    if (native === undefined || this.state !== 'open') return false;
    const stream = takeOverSocket(this.socket, native);
    if (stream === undefined) return false;
    this.stream = stream;
    this.streamBytes = new Uint8Array(stream.buffer);
    stream.start(this.onStreamMessages, this.onStreamClosed);
    // Node's socket timeout went with the socket: the idle check now reads the stream's counters.
    this.lastActivityMs = native.clock.now();
    this.idleTimer = native.clock.every(Math.max(1, this.limits.idleTimeMs / 4), this.checkIdle);
    return true;
  }

  private readonly onStreamMessages = (count: number): void => {
    const stream = this.stream;
    const bytes = this.streamBytes;
    if (stream === undefined || bytes === undefined) return;
    const offsets = stream.offsets;
    const lengths = stream.lengths;
    for (let i = 0; i < count && this.state === 'open'; i++) {
      const at = offsets[i]!;
      this.owner.deliver(bytes.subarray(at, at + lengths[i]!), this.from);
    }
  };

  private readonly onStreamClosed = (reason: NativeStreamEnd): void => {
    const drops = this.owner.counters.drops;
    if (reason === 'garbage') {
      countDrop(drops, 'tcp-frame-too-short');
      this.outcome ??= 'garbage';
    } else if (reason === 'truncated') {
      countDrop(drops, 'tcp-truncated-frame');
      this.outcome ??= 'ended';
    } else if (reason === 'error') {
      this.outcome ??= 'error';
    } else {
      this.outcome ??= 'ended';
    }
    this.finish();
  };

  private readonly checkIdle = (): void => {
    const stream = this.stream;
    const native = this.limits.native;
    if (stream === undefined || native === undefined || this.state !== 'open') return;
    const c = stream.counters();
    const activity = c.rxMessages + c.txMessages;
    const now = native.clock.now();
    if (activity !== this.lastActivityCount) {
      this.lastActivityCount = activity;
      this.lastActivityMs = now;
    } else if (now - this.lastActivityMs >= this.limits.idleTimeMs) {
      this.destroy('idle');
    }
  };

  /** The end of a native stream: counted as Node's 'close' counts one. */
  private finish(): void {
    if (this.state === 'closed') return;
    this.idleTimer?.cancel();
    this.idleTimer = undefined;
    this.state = 'closed';
    this.stream = undefined;
    this.streamBytes = undefined;
    const outcome = this.outcome ?? 'ended';
    const drops = this.owner.counters.drops;
    if (outcome === 'error') countDrop(drops, 'tcp-socket-error');
    this.owner.connectionClosed(this, outcome);
  }

  private readonly onClose = (): void => {
    if (this.state === 'closed') return;
    const wasConnecting = this.state === 'connecting';
    this.state = 'closed';
    let outcome = this.outcome ?? (wasConnecting ? 'connect-failed' : 'ended');
    if (wasConnecting) outcome = outcome === 'local-close' ? 'local-close' : 'connect-failed';
    const drops = this.owner.counters.drops;
    if (outcome === 'connect-failed') countDrop(drops, 'tcp-connect-failed', this.queuedMessages);
    else if (outcome === 'local-close') countDrop(drops, 'closed', this.queuedMessages);
    if (outcome === 'error') countDrop(drops, 'tcp-socket-error');
    if (outcome !== 'garbage' && outcome !== 'local-close' && outcome !== 'handshake-timeout' && this.decoder.hasPartialFrame()) {
      countDrop(drops, 'tcp-truncated-frame');
    }
    this.queue = [];
    this.queuedMessages = 0;
    this.owner.connectionClosed(this, outcome);
  };
}

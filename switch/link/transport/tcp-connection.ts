import type { Socket } from 'node:net';
import type { Endpoint } from './endpoint.js';
import { StreamFrameDecoder, type FrameSink } from './stream-framing.js';
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

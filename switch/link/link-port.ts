import type { Port, PortIoStats, PortSink } from '../port/port.js';

/**
 * The switch's view of one encrypted link: a Port whose frames go to a peer.
 * The LinkManager owns the crypto and sockets; this class only hands frames
 * across — `send` to the manager, `deliver` from it into the switch.
 *
 * Frames arriving in one transport wake-up can be handed over as one batch:
 * `enqueue` collects them and `flush` makes the single sink call, so the
 * datapath forwards them together and the TAP behind it gets one write call
 * for the lot. Queued frames must stay valid until `flush` (they do: opened
 * plaintexts are never views of a reused buffer).
 */
export class LinkPort implements Port {
  readonly kind = 'link' as const;
  private sink: PortSink | undefined;
  private closed = false;
  private readonly counters: PortIoStats = { readBatches: 0, readFrames: 0, writeFrames: 0, writeErrors: 0 };
  private readonly one: Uint8Array[] = [];
  private readonly queued: Uint8Array[] = [];

  constructor(
    readonly name: string,
    private readonly transmit: (frames: readonly Uint8Array[]) => void,
  ) {}

  start(sink: PortSink): void {
    this.sink = sink;
  }

  send(frames: readonly Uint8Array[]): void {
    if (this.closed) return;
    this.counters.writeFrames += frames.length;
    this.transmit(frames);
  }

  /** A frame that arrived over the link, into the switch. */
  deliver(frame: Uint8Array): void {
    if (this.closed || !this.sink) return;
    this.counters.readBatches++;
    this.counters.readFrames++;
    this.one[0] = frame;
    this.sink.frames(this.one);
  }

  /** Queues a frame for the next `flush`; true when it is the first one queued (the caller then owes a flush). */
  enqueue(frame: Uint8Array): boolean {
    if (this.closed || !this.sink) return false;
    this.queued.push(frame);
    return this.queued.length === 1;
  }

  /** Hands every queued frame to the switch in one batch. */
  flush(): void {
    const queued = this.queued;
    if (queued.length === 0) return;
    try {
      if (!this.closed && this.sink) {
        this.counters.readBatches++;
        this.counters.readFrames += queued.length;
        this.sink.frames(queued);
      }
    } finally {
      queued.length = 0;
    }
  }

  close(): void {
    this.closed = true;
    this.sink = undefined;
    this.queued.length = 0;
  }

  stats(): PortIoStats {
    return { ...this.counters };
  }
}

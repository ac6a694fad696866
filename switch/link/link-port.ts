import type { Port, PortIoStats, PortSink } from '../port/port.js';

/**
 * The switch's view of one encrypted link: a Port whose frames go to a peer.
 * The LinkManager owns the crypto and sockets; this class only hands frames
 * across — `send` to the manager, `deliver` from it into the switch.
 */
export class LinkPort implements Port {
  readonly kind = 'link' as const;
  private sink: PortSink | undefined;
  private closed = false;
  private readonly counters: PortIoStats = { readBatches: 0, readFrames: 0, writeFrames: 0, writeErrors: 0 };
  private readonly one: Uint8Array[] = [];

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

  close(): void {
    this.closed = true;
    this.sink = undefined;
  }

  stats(): PortIoStats {
    return { ...this.counters };
  }
}

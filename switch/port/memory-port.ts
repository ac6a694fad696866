import type { Port, PortIoStats, PortSink } from './port.js';

/**
 * In-memory twin of a device port (cf. wireguard-go's tuntest.ChannelTUN):
 * `inject` plays the role of the VM sending frames, `sent` records what the
 * switch wrote to the port. As a TAP with offloads it takes virtio-net headers
 * (`takesVnetHeaders`), and `sentVnet[i]` is the header `sent[i]` came with.
 */
export class MemoryPort implements Port {
  readonly kind = 'memory' as const;
  readonly sent: Uint8Array[] = [];
  readonly sentVnet: (Uint8Array | undefined)[] = [];
  readonly takesVnetHeaders: boolean;
  private sink: PortSink | undefined;
  private closed = false;
  private readonly counters: PortIoStats = { readBatches: 0, readFrames: 0, writeFrames: 0, writeErrors: 0 };

  constructor(
    readonly name: string,
    options: { takesVnetHeaders?: boolean } = {},
  ) {
    this.takesVnetHeaders = options.takesVnetHeaders ?? false;
  }

  start(sink: PortSink): void {
    this.sink = sink;
  }

  /** Deliver frames into the switch as if the device had read them (with their virtio-net headers, 10 bytes each). */
  inject(frames: readonly Uint8Array[], vnet?: Uint8Array): void {
    if (this.closed || !this.sink) return;
    this.counters.readBatches++;
    this.counters.readFrames += frames.length;
    if (vnet === undefined) this.sink.frames(frames);
    else this.sink.frames(frames, vnet);
  }

  /** Set before attach: the port opened with its device not there yet (as CapturePort.openWhenReady), so it starts down. */
  pendingError: Error | undefined;

  /** While set, reopen() throws it, as a real port does while its device is still missing. */
  reopenError: Error | undefined;
  reopenCount = 0;

  reopen(): void {
    if (this.reopenError) throw this.reopenError;
    this.reopenCount++;
  }

  /** Report a device failure, as a real port does when its interface vanishes. */
  fail(err: Error): void {
    this.sink?.error(err);
  }

  send(frames: readonly Uint8Array[], vnet?: Uint8Array): void {
    if (this.closed) return;
    frames.forEach((f, i) => {
      this.sent.push(Uint8Array.from(f));
      this.sentVnet.push(vnet === undefined ? undefined : vnet.slice(10 * i, 10 * i + 10));
    });
    this.counters.writeFrames += frames.length;
  }

  close(): void {
    this.closed = true;
    this.sink = undefined;
  }

  stats(): PortIoStats {
    return { ...this.counters };
  }
}

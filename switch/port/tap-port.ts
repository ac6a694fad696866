/**
 * A TAP device as a switch port: the VM side of the switch.
 *
 * open() creates the TAP (IFF_TAP | IFF_NO_PI) or attaches to an existing
 * persistent one, sets the MTU, brings it up. Frames arrive in batches — one
 * sink.frames call per event-loop wake-up — and send() writes a batch in one
 * call into the addon; a full queue drops and counts (a full wire), a vanished
 * device is reported once through sink.error and the port stops. close() closes
 * the fd, so a TAP this port created disappears with it.
 *
 * With `offloads` the TAP is opened with IFF_VNET_HDR and TUNSETOFFLOAD (checksum, TSO4, TSO6, USO where the kernel
 * has it): the VM's stack hands over TCP/UDP super-frames of up to 64 KiB and leaves checksums to complete, each
 * frame with its virtio-net header (switch/frame/vnet-header.ts), which the addon validates — a refused header is a
 * dropped frame, counted in drops() by reason. Without offloads it still takes headers on send: the addon cuts a
 * super-frame into wire frames before it writes them.
 */
import { closeSync } from 'node:fs';
import { NativeIo, loadAddon, type NativeAddon, type NativeOffload } from './addon.js';
import type { Port, PortIoStats, PortSink } from './port.js';
import { processCapabilities } from './capabilities.js';
import { checkInterfaceName, deviceIoError, isNativeFailure, tapOpenError, type NativeFailure } from './port-errors.js';

export interface TapPortOptions {
  /** Interface name, at most 15 characters. */
  name: string;
  /** The addon the root loaded (daemon/native.ts); tests and benchmarks may leave it to loadAddon(). */
  addon?: NativeAddon;
  /** Device MTU in bytes; left as is (1500 for a new TAP) when omitted. */
  mtu?: number;
  /** Create the TAP when missing (default). false: attach to an existing persistent TAP only. */
  create?: boolean;
  /** Most frames per wake-up (default 64). */
  batchFrames?: number;
  /** Largest frame read (default 65 KiB: any MTU a TAP accepts; a super-frame's room with offloads). */
  maxFrameBytes?: number;
  /** IFF_VNET_HDR + TUNSETOFFLOAD: super-frames in and out (default false). */
  offloads?: boolean;
}

export const TAP_DEFAULT_BATCH_FRAMES = 64;
// A TAP accepts MTUs up to 65535; + Ethernet and VLAN headers.
export const TAP_DEFAULT_MAX_FRAME_BYTES = 65535 + 18;

export class TapPort implements Port {
  readonly kind = 'tap' as const;
  readonly takesVnetHeaders = true;
  private sink: PortSink | undefined;
  private isClosed = false;
  private isFailed = false;
  private readonly counters: PortIoStats = { readBatches: 0, readFrames: 0, writeFrames: 0, writeErrors: 0 };

  private constructor(
    /** The device name the kernel gave. */
    readonly name: string,
    /** Interface index in the namespace the TAP was created in. */
    readonly ifindex: number,
    private readonly io: NativeIo,
    /** The TUN_F_* offloads the kernel took (addon.ts TUN_OFFLOAD_*); 0 without offloads. */
    readonly offloads: number,
  ) {}

  /** Throws TapPermissionError, TunDeviceAccessError, TunDeviceMissingError, TapNameTakenError, InvalidInterfaceNameError, InterfaceNotFoundError, PortOpenError. */
  static open(options: TapPortOptions): TapPort {
    checkInterfaceName(options.name);
    const addon = options.addon ?? loadAddon();
    let opened;
    try {
      opened = addon.openTap(options.name, options.mtu ?? 0, options.create ?? true, options.offloads ?? false);
    } catch (err) {
      if (isNativeFailure(err)) {
        throw tapOpenError(err, options.name, err, { create: options.create ?? true, capabilities: processCapabilities() });
      }
      throw err;
    }
    let handle;
    try {
      handle = new addon.IoHandle(
        opened.fd,
        false,
        options.batchFrames ?? TAP_DEFAULT_BATCH_FRAMES,
        options.maxFrameBytes ?? TAP_DEFAULT_MAX_FRAME_BYTES,
        options.offloads ?? false,
      );
    } catch (err) {
      closeSync(opened.fd);
      throw err;
    }
    return new TapPort(opened.name, opened.ifindex, new NativeIo(handle), opened.offloads ?? 0);
  }

  start(sink: PortSink): void {
    if (this.isClosed || this.sink) return;
    this.sink = sink;
    const vnet = this.io.vnetHeaders;
    this.io.start(
      (frames) => {
        this.counters.readBatches++;
        this.counters.readFrames += frames.length;
        sink.frames(frames, vnet);
      },
      (failure) => this.fail(failure),
    );
  }

  send(frames: readonly Uint8Array[], vnet?: Uint8Array): void {
    if (this.isClosed || frames.length === 0) return;
    // A failed port's io is closed: the write counts every frame as an error.
    const failure = this.io.write(frames, this.counters, vnet);
    if (failure) this.fail(failure);
  }

  setOffloadPort(portId: number, native?: NativeOffload): void {
    if (!this.isClosed) this.io.setOffloadPort(portId, native);
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.sink = undefined;
    this.io.close();
  }

  stats(): PortIoStats {
    return { ...this.counters };
  }

  /** Frames read with a virtio-net header the addon refused, by reason (`vnet-…`; still readable once closed). */
  drops(): Readonly<Record<string, number>> {
    return this.io.counters().vnetDrops;
  }

  private fail(failure: NativeFailure): void {
    if (this.isFailed || this.isClosed) return;
    this.isFailed = true;
    this.io.close();
    this.sink?.error(deviceIoError(failure, this.name));
  }
}

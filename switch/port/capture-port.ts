/**
 * An existing Linux interface (veth end, NIC, bridge) as a switch port, the way
 * VNET attached to a host's NIC: an AF_PACKET socket bound to the interface,
 * promiscuous, every frame read in batches and frames injected with sendmmsg.
 *
 * Loop prevention: the kernel never shows a packet socket the frames it sent
 * itself, but it does show every socket the frames other senders put out on
 * the interface (the host's own stack, another port's socket) as
 * PACKET_OUTGOING — frames that would come back into the switch as if the VM
 * had sent them. PACKET_IGNORE_OUTGOING (Linux >= 4.20) drops those in the
 * kernel; the addon also drops any frame whose sll_pkttype is PACKET_OUTGOING
 * and counts it in `outgoingIgnored`, which stays 0 where the option works. So
 * only what arrives from the far end (the VM) is captured: attach interfaces
 * the host does not use itself.
 *
 * Failure at run time (interface deleted, set down) is reported once through
 * sink.error as DeviceGoneError or InterfaceDownError, and delivery stops; the
 * daemon calls reopen() when the interface is back, which rebinds a new socket
 * and resumes delivery to the same sink. Counters survive reopen().
 */
import { closeSync } from 'node:fs';
import { NativeIo, loadAddon, type BpfInstruction, type NativeAddon, type NativeOffload } from './addon.js';
import type { Port, PortIoStats, PortSink } from './port.js';
import { processCapabilities } from './capabilities.js';
import {
  DeviceGoneError,
  InterfaceDownError,
  InterfaceNotFoundError,
  captureOpenError,
  checkInterfaceName,
  deviceIoError,
  isNativeFailure,
  type NativeFailure,
  type PortDeviceError,
} from './port-errors.js';

export interface CapturePortOptions {
  /** The Linux interface to attach to. */
  interface: string;
  /** The addon the root loaded (daemon/native.ts); tests and benchmarks may leave it to loadAddon(). */
  addon?: NativeAddon;
  /** Port name in the switch (default: the interface name). */
  name?: string;
  /** PACKET_MR_PROMISC membership (default true): receive frames for every MAC. */
  promiscuous?: boolean;
  /** Classic-BPF filter attached before bind (SO_ATTACH_FILTER), e.g. from `tcpdump -dd`. */
  bpf?: readonly BpfInstruction[];
  /** Most frames per wake-up (default 64). */
  batchFrames?: number;
  /** Largest frame read (default 65536: GSO/GRO super-frames on veth can exceed the MTU); longer ones are dropped and counted. */
  maxFrameBytes?: number;
  /** SO_RCVBUF(FORCE) in bytes (default 4 MiB; 0 = kernel default). */
  rcvbufBytes?: number;
}

export interface CapturePortStats extends PortIoStats {
  /** Frames seen with sll_pkttype == PACKET_OUTGOING and dropped; 0 when PACKET_IGNORE_OUTGOING works. */
  outgoingIgnored: number;
  /** Frames longer than maxFrameBytes, dropped. */
  truncatedFrames: number;
}

export const CAPTURE_DEFAULT_BATCH_FRAMES = 64;
export const CAPTURE_DEFAULT_MAX_FRAME_BYTES = 65536;
export const CAPTURE_DEFAULT_RCVBUF_BYTES = 4 * 1024 * 1024;

export class CapturePort implements Port {
  readonly kind = 'capture' as const;
  readonly name: string;
  readonly interface: string;
  private io: NativeIo | undefined;
  private currentIfindex: number;
  private sink: PortSink | undefined;
  private isClosed = false;
  private isFailed = false;
  private offloadPort = -1;
  private offloadNative: NativeOffload | undefined;
  private readonly counters: CapturePortStats = {
    readBatches: 0,
    readFrames: 0,
    writeFrames: 0,
    writeErrors: 0,
    outgoingIgnored: 0,
    truncatedFrames: 0,
  };

  /** Why the port started down (its interface was missing or down at open); cleared by a successful reopen(). */
  pendingError: Error | undefined;

  private constructor(
    private readonly options: CapturePortOptions,
    opened: { io: NativeIo; ifindex: number } | undefined,
  ) {
    this.name = options.name ?? options.interface;
    this.interface = options.interface;
    this.io = opened?.io;
    this.currentIfindex = opened?.ifindex ?? 0;
    this.isFailed = opened === undefined;
  }

  /** Throws InterfaceNotFoundError, InterfaceDownError, CapturePermissionError, PacketSocketsRefusedError, InvalidInterfaceNameError, PortOpenError. */
  static open(options: CapturePortOptions): CapturePort {
    checkInterfaceName(options.interface);
    return new CapturePort(options, openIo(options));
  }

  /**
   * Like open(), but an interface that is missing or down is not fatal: the
   * port starts down with `pendingError` set, and the daemon's recovery
   * reopens it once the interface appears (a VM's NIC often exists only once
   * the VM runs). Other failures (permission, bad name) still throw.
   */
  static openWhenReady(options: CapturePortOptions): CapturePort {
    checkInterfaceName(options.interface);
    try {
      return new CapturePort(options, openIo(options));
    } catch (err) {
      if (!(err instanceof InterfaceNotFoundError || err instanceof InterfaceDownError)) throw err;
      const port = new CapturePort(options, undefined);
      port.pendingError = err;
      return port;
    }
  }

  /** Interface index the socket is bound to. */
  get ifindex(): number {
    return this.currentIfindex;
  }

  start(sink: PortSink): void {
    if (this.isClosed || this.sink) return;
    this.sink = sink;
    if (!this.isFailed) this.startIo();
  }

  /**
   * Rebinds to the interface (after sink.error, or to pick up a re-created
   * interface) and resumes delivery to the started sink. Throws the same typed
   * errors as open() while the interface is still missing or down.
   */
  reopen(): void {
    if (this.isClosed) return;
    const opened = openIo(this.options);
    this.retireIo();
    this.io = opened.io;
    this.io.setOffloadPort(this.offloadPort, this.offloadNative);
    this.currentIfindex = opened.ifindex;
    this.isFailed = false;
    this.pendingError = undefined;
    if (this.sink) this.startIo();
  }

  /** Super-frames a TAP with offloads read are cut into wire frames in the addon before they are sent. */
  readonly takesVnetHeaders = true;

  send(frames: readonly Uint8Array[], vnet?: Uint8Array): void {
    if (this.isClosed || frames.length === 0) return;
    if (this.isFailed || !this.io) {
      this.counters.writeErrors += frames.length;
      return;
    }
    const failure = this.io.write(frames, this.counters, vnet);
    if (failure) this.fail(failure);
  }

  setOffloadPort(portId: number, native?: NativeOffload): void {
    this.offloadPort = portId;
    this.offloadNative = native;
    if (!this.isClosed) this.io?.setOffloadPort(portId, native);
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.sink = undefined;
    this.retireIo();
  }

  stats(): CapturePortStats {
    const live = this.io?.counters() ?? { outgoingIgnored: 0, truncatedFrames: 0, vnetDrops: {}, vnetWriteDrops: {}, coalescedWrites: 0, coalescedFrames: 0 };
    return {
      ...this.counters,
      outgoingIgnored: this.counters.outgoingIgnored + live.outgoingIgnored,
      truncatedFrames: this.counters.truncatedFrames + live.truncatedFrames,
    };
  }

  private startIo(): void {
    const sink = this.sink;
    if (!sink || !this.io) return;
    this.io.start(
      (frames) => {
        this.counters.readBatches++;
        this.counters.readFrames += frames.length;
        sink.frames(frames);
      },
      (failure) => this.fail(failure),
    );
  }

  /** Closes the current socket, keeping its counters. */
  private retireIo(): void {
    if (!this.io) return;
    const { outgoingIgnored, truncatedFrames } = this.io.counters();
    this.counters.outgoingIgnored += outgoingIgnored;
    this.counters.truncatedFrames += truncatedFrames;
    this.io.close();
    this.io = undefined;
  }

  private fail(failure: NativeFailure): void {
    if (this.isFailed || this.isClosed) return;
    this.isFailed = true;
    this.retireIo();
    this.sink?.error(this.classify(failure));
  }

  /** ENETDOWN means down or deleted: ask the kernel which. */
  private classify(failure: NativeFailure): PortDeviceError {
    const init = { device: this.interface, errno: failure.errno, syscall: failure.syscall };
    let info;
    try {
      info = (this.options.addon ?? loadAddon()).interfaceInfo(this.interface);
    } catch (err) {
      return deviceIoError(failure, this.interface);
    }
    if (!info || info.ifindex !== this.currentIfindex) return new DeviceGoneError(init);
    if (!info.isUp) return new InterfaceDownError(init);
    return deviceIoError(failure, this.interface);
  }
}

function openIo(options: CapturePortOptions): { io: NativeIo; ifindex: number } {
  const addon = options.addon ?? loadAddon();
  let opened;
  try {
    opened = addon.openPacket(
      options.interface,
      options.promiscuous ?? true,
      options.bpf,
      options.rcvbufBytes ?? CAPTURE_DEFAULT_RCVBUF_BYTES,
    );
  } catch (err) {
    if (isNativeFailure(err)) throw captureOpenError(err, options.interface, err, processCapabilities());
    throw err;
  }
  try {
    const handle = new addon.IoHandle(
      opened.fd,
      true,
      options.batchFrames ?? CAPTURE_DEFAULT_BATCH_FRAMES,
      options.maxFrameBytes ?? CAPTURE_DEFAULT_MAX_FRAME_BYTES,
    );
    return { io: new NativeIo(handle), ifindex: opened.ifindex };
  } catch (err) {
    closeSync(opened.fd);
    throw err;
  }
}

/**
 * A Port is where frames enter and leave the switch: a TAP device, a captured
 * interface, an in-memory twin for tests, or (later) an encrypted link.
 *
 * Contract:
 * - `start(sink)` begins delivery. Frames arrive in batches: one `sink.frames`
 *   call carries every frame read in one wake-up. The Uint8Array views are only
 *   valid during that call (the buffer is reused); copy what you keep.
 * - `send(frames)` writes a batch, never throws on the per-frame path:
 *   failures are counted in `stats()` and, when the device is gone, reported
 *   once through `sink.error`.
 * - After `close()` no more sink calls happen and `send` is a no-op.
 *
 * Super-frames (TSO/GSO, switch/frame/vnet-header.ts). A port that reads virtio-net headers (a TAP with
 * offloads) hands them with its frames: frame i's normalized header at vnet[10·i], valid during the call like the
 * frames; a header says the frame stands for several wire frames (a TCP/UDP super-frame) or has a checksum to
 * complete. Only a port with `takesVnetHeaders` is ever handed headers by `send` (the same layout; a frame with
 * nothing pending has ten zero bytes): it does what they say itself. Any other port gets wire frames only.
 */
import type { NativeOffload } from './addon.js';

export interface Port {
  readonly name: string;
  readonly kind: PortKind;
  start(sink: PortSink): void;
  send(frames: readonly Uint8Array[], vnet?: Uint8Array): void;
  /**
   * send() takes virtio-net headers with its frames: a TAP with offloads passes them on, a TAP without them and a
   * capture port cut super-frames in the addon before they write. Absent: the datapath hands wire frames only.
   */
  readonly takesVnetHeaders?: boolean;
  close(): void;
  stats(): PortIoStats;
  /**
   * Ports on devices that can come back (a captured interface deleted and
   * re-created) reopen the device and resume delivery to the same sink;
   * throws a typed error while the device is still missing or down.
   */
  reopen?(): void;
  /**
   * Ports on an addon handle: frames read are first offered to `native`'s flow
   * table (switch/offload/; the FlowOffload's NativeOffload) under this switch
   * port id, and the port can be one of its flows' outputs; -1, or no `native`,
   * turns it off. Both are kept across reopen() (the new handle is attached to
   * the same NativeOffload).
   */
  setOffloadPort?(portId: number, native?: NativeOffload): void;
  /** Set when the port opened with its device not there yet: the datapath starts it down, recovery brings it up. */
  readonly pendingError?: Error | undefined;
  /** Frames the port dropped before the switch saw them, by fixed reason (e.g. a refused virtio-net header). */
  drops?(): Readonly<Record<string, number>>;
}

export type PortKind = 'tap' | 'capture' | 'memory' | 'link';

export interface PortSink {
  frames(frames: readonly Uint8Array[], vnet?: Uint8Array): void;
  /** The device failed (gone, down, I/O error). The port stops delivering. */
  error(err: Error): void;
}

export interface PortIoStats {
  readBatches: number;
  readFrames: number;
  writeFrames: number;
  writeErrors: number;
}

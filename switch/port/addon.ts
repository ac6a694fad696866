/**
 * Typed face of the native port addon (build/Release/vswitch_native.node, from
 * binding.gyp and switch/port/addon/*.cc). The addon only opens, reads, writes
 * and closes; `NativeIo` turns one wake-up of the addon (frames packed back to
 * back in one reused ArrayBuffer + a Uint32Array of lengths) into the batch of
 * views a PortSink receives. Loaded lazily, so unit tests never touch it.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { AddonUnavailableError, type NativeFailure } from './port-errors.js';

export interface NativeTapOpened {
  fd: number;
  ifindex: number;
  name: string;
}

export interface NativePacketOpened {
  fd: number;
  ifindex: number;
}

export interface NativeInterfaceInfo {
  ifindex: number;
  isUp: boolean;
  mtuBytes: number;
}

/** One classic-BPF instruction, as `tcpdump -dd` prints it. */
export interface BpfInstruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export interface NativeIoHandle {
  /** Frames of the current wake-up, packed back to back from offset 0. */
  readonly buffer: ArrayBuffer;
  /** lengths[i] = byte length of frame i of the current wake-up. */
  readonly lengths: Uint32Array;
  start(onFrames: (count: number) => void, onError: (errno: number, syscall: string) => void): void;
  /** Returns how many frames were written; the rest were dropped. */
  writeFrames(frames: readonly Uint8Array[]): number;
  /** The fatal error that stopped the last writeFrames, once; else null. */
  takeWriteError(): [errno: number, syscall: string] | null;
  counters(): { outgoingIgnored: number; truncatedFrames: number };
  close(): void;
}

export interface NativeAddon {
  /** Throws an Error with errno/syscall on failure. */
  openTap(name: string, mtuBytes: number, create: boolean): NativeTapOpened;
  openPacket(
    ifname: string,
    isPromiscuous: boolean,
    filter: readonly BpfInstruction[] | undefined,
    rcvbufBytes: number,
  ): NativePacketOpened;
  /** null when no interface of that name exists in this network namespace. */
  interfaceInfo(name: string): NativeInterfaceInfo | null;
  IoHandle: new (fd: number, isPacket: boolean, batchFrames: number, maxFrameBytes: number) => NativeIoHandle;
}

const ADDON_FILE = 'build/Release/vswitch_native.node';
// From switch/port/ (tsx, vitest) or dist/switch/port/ (tsc build).
const CANDIDATES = ['../../', '../../../'].map((up) => fileURLToPath(new URL(up + ADDON_FILE, import.meta.url)));

let cached: NativeAddon | undefined;

/** Loads the addon once; throws AddonUnavailableError when it is not built. */
export function loadAddon(): NativeAddon {
  if (cached) return cached;
  const path = process.env['VSWITCH_NATIVE_ADDON'] ?? CANDIDATES.find((p) => existsSync(p)) ?? CANDIDATES[0]!;
  try {
    cached = createRequire(import.meta.url)(path) as NativeAddon;
  } catch (err) {
    throw new AddonUnavailableError(path, err);
  }
  return cached;
}

export interface NativeIoCounters {
  outgoingIgnored: number;
  truncatedFrames: number;
}

/** Batch delivery and batch writes over one IoHandle. */
export class NativeIo {
  private readonly bytes: Uint8Array;
  private readonly lengths: Uint32Array;
  private isClosed = false;

  constructor(private readonly handle: NativeIoHandle) {
    this.bytes = new Uint8Array(handle.buffer);
    this.lengths = handle.lengths;
  }

  /** onFrames gets views valid only during the call; onFailure fires at most once. */
  start(onFrames: (frames: Uint8Array[]) => void, onFailure: (failure: NativeFailure) => void): void {
    this.handle.start(
      (count) => {
        const frames = new Array<Uint8Array>(count);
        let offset = 0;
        for (let i = 0; i < count; i++) {
          const length = this.lengths[i]!;
          frames[i] = this.bytes.subarray(offset, offset + length);
          offset += length;
        }
        onFrames(frames);
      },
      (errno, syscall) => onFailure({ errno, syscall }),
    );
  }

  /** Writes a batch; `failure` is set when the device failed (the rest dropped). */
  write(frames: readonly Uint8Array[]): { written: number; failure: NativeFailure | undefined } {
    if (this.isClosed) return { written: 0, failure: undefined };
    const written = this.handle.writeFrames(frames);
    if (written === frames.length) return { written, failure: undefined };
    const error = this.handle.takeWriteError();
    return { written, failure: error ? { errno: error[0], syscall: error[1] } : undefined };
  }

  counters(): NativeIoCounters {
    return this.handle.counters();
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.handle.close();
  }
}

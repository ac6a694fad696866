/**
 * Typed face of the native addon (build/Release/vswitch_native.node, from
 * binding.gyp and switch/port/addon/*.cc). The addon only opens, reads, writes
 * and closes, and runs the link's cipher; `NativeIo` turns one wake-up of the
 * addon (frames packed back to back in one reused ArrayBuffer + a Uint32Array of
 * lengths) into the batch of views a PortSink receives; `createNativeAead` makes
 * the AeadProvider the link's crypto.ts runs on. Loaded lazily, so unit tests
 * never touch it.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { AeadProvider } from '../link/noise/crypto.js';
import type { FrameSegmenter } from '../frame/frame-segmenter.js';
import { VNET_HEADER_BYTES, wireBytes, type VnetDropReason } from '../frame/vnet-header.js';
import { AddonUnavailableError, type NativeFailure } from './port-errors.js';
import { createSlabAllocator } from '../slab.js';

export interface NativeTapOpened {
  fd: number;
  ifindex: number;
  name: string;
  /** The TUN_F_* offloads TUNSETOFFLOAD took (0 when not asked): TUN_OFFLOAD_* below. */
  offloads: number;
}

/* Specification constants (linux/if_tun.h) */
export const TUN_OFFLOAD_CSUM = 0x01;
export const TUN_OFFLOAD_TSO4 = 0x02;
export const TUN_OFFLOAD_TSO6 = 0x04;
export const TUN_OFFLOAD_USO4 = 0x20;
export const TUN_OFFLOAD_USO6 = 0x40;

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
  /** With virtio-net headers (a TAP opened with offloads): frame i's normalized header at [10·i]; else null. */
  readonly vnetHeaders: Uint8Array | null;
  start(onFrames: (count: number) => void, onError: (errno: number, syscall: string) => void): void;
  /**
   * Returns how many frames were written; the rest were dropped. `headers` (10 bytes per frame, switch/frame/
   * vnet-header.ts): on a handle with virtio-net headers each goes before its frame; on one without, a super-frame
   * is cut into wire frames (and a pending checksum completed) before it is written. A super-frame counts once.
   */
  writeFrames(frames: readonly Uint8Array[], headers?: Uint8Array): number;
  /** The fatal error that stopped the last writeFrames, once; else null. */
  takeWriteError(): [errno: number, syscall: string] | null;
  counters(): NativeIoCounters;
  /**
   * Offload (offload.h): frames read are first offered to `offload`'s flow table under this in-port id, and the port
   * is one of its flow outputs; null (or a port id < 0): off. The handle holds `offload` alive while attached; closing
   * either one first detaches the pair. Taking an id another handle had flushes that offload's flows (they wrote to
   * that handle). Throws a TypeError when `offload` is not a NativeOffload, an Error when it is closed.
   */
  setOffloadPort(offload: NativeOffload | null, portId: number): void;
  close(): void;
}

export interface NativeUdpCounters {
  sendFailed: number;
  receiveErrors: number;
  /** recvmmsg calls that brought datagrams, and sendmmsg calls. */
  receiveCalls: number;
  sendCalls: number;
  /** GSO sends (≥ 2 datagrams each) and reads the kernel glued (UDP GRO). */
  gsoSends: number;
  groReads: number;
}

/** One UDP socket moved in batches (udp-handle.h). */
export interface NativeUdpHandle {
  /** Datagrams of the current wake-up: datagram i starts at offsets[i]. */
  readonly buffer: ArrayBuffer;
  readonly offsets: Uint32Array;
  /** lengths[i] = real length of datagram i (above maxDatagramBytes: it was cut). */
  readonly lengths: Uint32Array;
  /** addrs[i*6..i*6+5] = [family 4|6, port, IPv4 as host-order u32 | 16 IPv6 bytes as 4 raw words]. */
  readonly addrs: Uint32Array;
  localPort(): number;
  /** An opaque sockaddr for send(); null when host is not an IP literal this socket can reach. */
  resolve(host: string, port: number): Uint8Array | null;
  start(onMessages: (count: number) => void, onError: (errno: number, syscall: string) => void): void;
  /** Returns how many messages the kernel took; the rest were dropped (counted in sendFailed). */
  send(messages: readonly Uint8Array[], sockaddr: Uint8Array): number;
  counters(): NativeUdpCounters;
  /**
   * Offload (offload.h): datagrams are first offered to `offload`'s fast path, and its links may send on this socket
   * (NativeOffload.linkSet); null: off (its links through this socket go). Same lifetime and errors as
   * NativeIoHandle.setOffloadPort.
   */
  setOffload(offload: NativeOffload | null): void;
  close(): void;
}

export interface NativeStreamCounters {
  rxMessages: number;
  rxBytes: number;
  txMessages: number;
  txBytes: number;
  /** read() calls that brought bytes; send() calls, and those the kernel took only part of. */
  readCalls: number;
  writeCalls: number;
  partialWrites: number;
  /** Messages dropped because the bounded send queue was full; messages of no framable length. */
  queueDrops: number;
  invalidDrops: number;
  /** Messages the flow offload's fast path took (never seen by JS). */
  offloadedMessages: number;
  /** Framed bytes waiting in the send queue now. */
  queuedBytes: number;
}

/** Why a StreamHandle ended on its own (close() from JS reports nothing). */
export type NativeStreamEnd = 'ended' | 'truncated' | 'garbage' | 'error';

/** A connected TCP socket carrying length-framed link messages (stream-handle.h). */
export interface NativeStreamHandle {
  /** Messages of the current wake-up: message i at offsets[i], lengths[i] bytes (valid during onMessages only). */
  readonly buffer: ArrayBuffer;
  readonly offsets: Uint32Array;
  readonly lengths: Uint32Array;
  start(onMessages: (count: number) => void, onClosed: (reason: NativeStreamEnd, errno: number) => void): void;
  /** Frames and queues; returns how many were queued (the rest dropped, counted). */
  send(messages: readonly Uint8Array[]): number;
  counters(): NativeStreamCounters;
  /** As NativeUdpHandle.setOffload; its links are bound with NativeOffload.linkSetStream. */
  setOffload(offload: NativeOffload | null): void;
  /** Idempotent; no onClosed call. */
  close(): void;
}

/** NativeOffload.poll(): deltas since the last poll. */
export interface NativeOffloadPoll {
  /** [flowId, packets, bytes] per flow that carried traffic. */
  flows: Float64Array;
  /** [slotId, localIndex, txPackets, txBytes, txAgoMs, rxPackets, rxBytes, rxAgoMs] per slot that did. */
  slots: Float64Array;
}

export interface NativeOffloadCounters {
  /** Frames read on offloaded ports that a flow took, that found no flow, that found one but had to go to JS. */
  txHits: number;
  txMisses: number;
  txPunts: number;
  /** Datagrams the fast path took, and the type-4 ones of a bound slot it handed to JS. */
  rxHits: number;
  rxPunts: number;
  installs: number;
  flushes: number;
  /** Flows, slots and links in the tables now. */
  flows: number;
  slots: number;
  links: number;
}

/**
 * One switch's flow offload (offload.h), from addon.createOffload(): its own flow table, keypair slots, link
 * table and port outputs — nothing is shared with another NativeOffload, in this environment or another (a
 * worker), so two switches in one process each make one. Handles join it with IoHandle.setOffloadPort(offload, id)
 * and UdpHandle.setOffload(offload).
 *
 * Lifetime: an attached handle keeps its offload alive; close() (or the GC, once no handle points at it) detaches
 * every handle, empties the tables and zeroes the slots' keys. A closed offload answers like an empty one (slotCreate
 * -1, flowInstall -1, poll() nothing) and refuses to be attached to. Its creator closes it (after FlowOffload.stop()).
 */
export interface NativeOffload {
  readonly isClosed: boolean;
  /** Keypair slots: id, or -1 when the keys are not 32 bytes (or closed). Deadlines in ms from now (Infinity: none). Ids are this offload's only. */
  slotCreate(
    sendKey: Uint8Array,
    receiveKey: Uint8Array,
    localIndex: number,
    remoteIndex: number,
    rejectInMs: number,
    txRekeyInMs: number,
    rxRekeyInMs: number,
  ): number;
  /** Zeroes and frees; returns [txPackets, txBytes, rxPackets, rxBytes] the fast paths carried since the last poll. */
  slotFree(id: number): number[];
  /** Header + ciphertext + tag into out (exactly 32 + plaintext + padBytes long); the counter used, or -1. */
  slotSeal(id: number, plaintext: Uint8Array, out: Uint8Array, padBytes: number): number;
  /** Opens box into out; never touches the replay window. */
  slotOpen(id: number, counterLo: number, counterHi: number, box: Uint8Array, out: Uint8Array): boolean;
  /** 0 ok (recorded), 1 replayed, 2 out of window, 3 counter limit; commit false: the verdict only. */
  slotReplay(id: number, counterLo: number, counterHi: number, commit?: boolean): number;
  slotSendCounter(id: number): number;
  /**
   * A link port's binding. Throws a TypeError when `udp` is not a UdpHandle (checked by Node-API type tag) or
   * `sockaddr` not a Uint8Array sockaddr, an Error when `udp` is not attached to this offload or this one is closed.
   */
  linkSet(linkId: number, udp: NativeUdpHandle, sockaddr: Uint8Array, txSlot: number, rxSlotA: number, rxSlotB: number): void;
  /** A TCP link's binding: sends go on `stream`, and only its messages are opened for the link. Errors as linkSet. */
  linkSetStream(linkId: number, stream: NativeStreamHandle, txSlot: number, rxSlotA: number, rxSlotB: number): void;
  linkRemove(linkId: number): void;
  /** A flow's id, or -1 when the out-port has no native output here (or the table is full). */
  flowInstall(inPort: number, src: number, dst: number, outPort: number): number;
  flush(): void;
  configure(maxFrameBytes: number): void;
  poll(): NativeOffloadPoll;
  counters(): NativeOffloadCounters;
  /** Idempotent. */
  close(): void;
}

export interface NativeAddon {
  /** Throws an Error with errno/syscall on failure. `offloads`: IFF_VNET_HDR and TUNSETOFFLOAD (netdev.h). */
  openTap(name: string, mtuBytes: number, create: boolean, offloads?: boolean): NativeTapOpened;
  openPacket(
    ifname: string,
    isPromiscuous: boolean,
    filter: readonly BpfInstruction[] | undefined,
    rcvbufBytes: number,
  ): NativePacketOpened;
  /** null when no interface of that name exists in this network namespace. */
  interfaceInfo(name: string): NativeInterfaceInfo | null;
  IoHandle: new (
    fd: number,
    isPacket: boolean,
    batchFrames: number,
    maxFrameBytes: number,
    hasVnetHeader?: boolean,
  ) => NativeIoHandle;
  /** Creates and binds the socket; throws an Error with errno/syscall on failure. */
  UdpHandle: new (
    host: string,
    port: number,
    batchMessages: number,
    maxDatagramBytes: number,
    rcvbufBytes: number,
    sndbufBytes: number,
  ) => NativeUdpHandle;
  /**
   * Takes a duplicate of a connected TCP socket's fd (the caller then closes its own); throws an Error with
   * errno/syscall when it is no stream socket. notSentLowatBytes 0: the kernel's default.
   */
  StreamHandle: new (fd: number, maxQueueBytes: number, notSentLowatBytes: number) => NativeStreamHandle;
  /** ChaCha20-Poly1305 seal (aead.h); false on bad argument shapes, nothing written then. */
  aeadSeal(
    key: Uint8Array,
    counterLo: number,
    counterHi: number,
    plaintext: Uint8Array,
    ad: Uint8Array,
    out: Uint8Array,
    outOffset: number,
    padBytes: number,
  ): boolean;
  /** ChaCha20-Poly1305 open of box into out at outOffset; false when it does not authenticate. */
  aeadOpen(
    key: Uint8Array,
    counterLo: number,
    counterHi: number,
    box: Uint8Array,
    ad: Uint8Array,
    out: Uint8Array,
    outOffset: number,
  ): boolean;
  aeadInfo(): { openssl: string };
  /** A new, empty flow offload of this environment (offload.h). */
  createOffload(): NativeOffload;
  /**
   * TSO/GSO super-frames (gso-js.h, gso.h). vnetCheck: 0, or the code of the reason `header` (10 bytes) is refused
   * for `frame` (gsoReasons[code]); `out` gets the normalized header.
   */
  vnetCheck(header: Uint8Array, frame: Uint8Array, out: Uint8Array): number;
  /**
   * Cuts `frame` as its header says into wire frames packed into `out` (lengths[i] each): how many; −code when the
   * header is refused; −gsoReasons.length when `out` or `lengths` is too small. With `stride`, segment i is at
   * out[i × stride] instead (the flow offload's cut straight into its seal slots; a segment larger than it refused).
   */
  gsoSegment(header: Uint8Array, frame: Uint8Array, out: Uint8Array, lengths: Uint32Array, stride?: number): number;
  /**
   * Glues consecutive TCP segments of one flow: outputs packed into `out` (lengths[i] each), with their virtio-net
   * headers at headers[10·i] (all zero for a frame as it came); how many, or −1 when there is too little room.
   */
  gsoCoalesce(frames: readonly Uint8Array[], out: Uint8Array, lengths: Uint32Array, headers: Uint8Array): number;
  /** The reason names by code, "ok" first (switch/frame/vnet-header.ts VNET_DROP_REASONS follows them). */
  readonly gsoReasons: readonly string[];
}

const ADDON_FILE = 'build/Release/vswitch_native.node';
// From switch/port/ (tsx, vitest) or dist/switch/port/ (tsc build).
const CANDIDATES = ['../../', '../../../'].map((up) => fileURLToPath(new URL(up + ADDON_FILE, import.meta.url)));

/**
 * Loads the addon from `file` (default: VSWITCH_NATIVE_ADDON, else the build); throws AddonUnavailableError naming
 * the file and the reason when it cannot. Node's require cache makes a second load of one file the same module:
 * the addon keeps no per-process state of its own that a caller could see (daemon/native.ts is the one caller).
 */
export function loadAddon(file?: string): NativeAddon {
  const path = file ?? process.env['VSWITCH_NATIVE_ADDON'] ?? CANDIDATES.find((p) => existsSync(p)) ?? CANDIDATES[0]!;
  try {
    return createRequire(import.meta.url)(path) as NativeAddon;
  } catch (err) {
    throw new AddonUnavailableError(path, err);
  }
}

export interface NativeIoCounters {
  outgoingIgnored: number;
  truncatedFrames: number;
  /** Frames read with a virtio-net header the addon refused, by reason (only those that counted). */
  vnetDrops: Partial<Record<VnetDropReason, number>>;
  /** Frames handed to writeFrames with a header it refused, by reason. */
  vnetWriteDrops: Partial<Record<VnetDropReason, number>>;
  /** Super-frames written to a TAP with offloads that were glued from wire frames (gso.h Coalescer), and those frames. */
  coalescedWrites: number;
  coalescedFrames: number;
}

/** Batch delivery and batch writes over one IoHandle. */
export class NativeIo {
  private readonly bytes: Uint8Array;
  private readonly lengths: Uint32Array;
  private readonly frames: Uint8Array[] = [];
  private isClosed = false;
  /** The handle's per-frame virtio-net headers, when it reads them. */
  readonly vnetHeaders: Uint8Array | undefined;

  constructor(private readonly handle: NativeIoHandle) {
    this.bytes = new Uint8Array(handle.buffer);
    this.lengths = handle.lengths;
    this.vnetHeaders = handle.vnetHeaders ?? undefined;
  }

  /**
   * onFrames gets views valid only during the call (and, on a handle with virtio-net headers, frame i's header at
   * vnetHeaders[10·i], as valid); onFailure fires at most once.
   */
  start(onFrames: (frames: Uint8Array[]) => void, onFailure: (failure: NativeFailure) => void): void {
    this.handle.start(
      (count) => {
        // One array reused across wake-ups (the sink may not keep it: views are valid during the call only).
        const frames = this.frames;
        frames.length = count;
        let offset = 0;
        for (let i = 0; i < count; i++) {
          const length = this.lengths[i]!;
          frames[i] = this.bytes.subarray(offset, offset + length);
          offset += length;
        }
        onFrames(frames);
        frames.length = 0;
      },
      (errno, syscall) => onFailure({ errno, syscall }),
    );
  }

  /**
   * Writes a batch and counts it (frames written, the rest as write errors: all of them once closed); returns the
   * failure when the device failed (the rest dropped).
   */
  write(
    frames: readonly Uint8Array[],
    counters: { writeFrames: number; writeErrors: number },
    vnet?: Uint8Array,
  ): NativeFailure | undefined {
    const written = this.isClosed ? 0 : this.handle.writeFrames(frames, vnet);
    counters.writeFrames += written;
    counters.writeErrors += frames.length - written;
    if (this.isClosed || written === frames.length) return undefined;
    const error = this.handle.takeWriteError();
    return error ? { errno: error[0], syscall: error[1] } : undefined;
  }

  counters(): NativeIoCounters {
    return this.handle.counters();
  }

  /**
   * Flow offload on this handle, in `native`'s flow table under the port's id (-1, no `native`, or a closed one:
   * off, so that a port reopened after its switch stopped never throws for it).
   */
  setOffloadPort(portId: number, native?: NativeOffload): void {
    if (this.isClosed) return;
    if (native === undefined || native.isClosed || portId < 0) this.handle.setOffloadPort(null, -1);
    else this.handle.setOffloadPort(native, portId);
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.handle.close();
  }
}

const AEAD_TAG_BYTES = 16;
/**
 * Plaintexts are carved from slabs (switch/slab.ts: a fresh 1.4 kB Uint8Array costs ~0.9 µs, a slab view ~0.1 µs).
 * Below this a plain allocation is cheap (V8 keeps small typed arrays on its heap), and handshake fields (32-byte
 * keys, 12-byte timestamps) that live long never pin a slab.
 */
const SLAB_MIN_BYTES = 64;

/**
 * The AeadProvider over the addon (reused OpenSSL contexts). Opened plaintexts
 * are views into shared slabs that callers may keep: a slab is never reused,
 * it is dropped when full and freed by the GC once no view of it is left
 * (so a data plaintext kept for long pins its 256 kB slab: copy what you keep).
 * A key that is not 32 bytes opens nothing (null). Bad argument shapes on seal fall back to `fallback` (node:crypto), which reports
 * them the way it always has.
 */
export function createNativeAead(addon: NativeAddon, fallback: AeadProvider): AeadProvider {
  const slabView = createSlabAllocator(SLAB_MIN_BYTES);
  const info = addon.aeadInfo();
  return {
    name: `addon (${info.openssl})`,
    seal(key, counterLo, counterHi, plaintext, ad, out, outOffset, padBytes) {
      if (!addon.aeadSeal(key, counterLo, counterHi, plaintext, ad, out, outOffset, padBytes)) {
        fallback.seal(key, counterLo, counterHi, plaintext, ad, out, outOffset, padBytes);
      }
    },
    open(key, counterLo, counterHi, box, ad) {
      if (box.length < AEAD_TAG_BYTES) return null;
      const plaintext = slabView(box.length - AEAD_TAG_BYTES);
      return addon.aeadOpen(key, counterLo, counterHi, box, ad, plaintext, 0) ? plaintext : null;
    },
  };
}

/** Scratch memory of the native segmenter; a batch that needs more gets a fresh arena (the old one lives while its views do). */
const SEGMENT_ARENA_BYTES = 1 << 20;
/** gso.h kMaxSegments. */
const MAX_SEGMENTS = 1024;

/** The FrameSegmenter over the addon's gsoSegment (gso.h): wire frames as views into a reused arena. */
export function createNativeSegmenter(addon: NativeAddon): FrameSegmenter {
  let arena = new Uint8Array(SEGMENT_ARENA_BYTES);
  let used = 0;
  const lengths = new Uint32Array(MAX_SEGMENTS);
  const out: Uint8Array[] = [];
  return {
    segment(vnet, at, frame) {
      out.length = 0;
      const need = wireBytes(vnet, at, frame.length);
      if (arena.length - used < need) {
        arena = new Uint8Array(Math.max(SEGMENT_ARENA_BYTES, need));
        used = 0;
      }
      const count = addon.gsoSegment(vnet.subarray(at, at + VNET_HEADER_BYTES), frame, arena.subarray(used), lengths);
      for (let i = 0; i < count; i++) {
        const length = lengths[i]!;
        out.push(arena.subarray(used, used + length));
        used += length;
      }
      return out;
    },
    release() {
      used = 0;
    },
  };
}

import { MAX_MESSAGE_BYTES, MIN_MESSAGE_BYTES } from './transport.js';

/**
 * Design note: datagrams over a byte stream.
 *
 * WireGuard messages are datagrams; over TCP each one is sent as a frame:
 *
 *     +----------------+-----------------------------+
 *     | length (u16 BE)| message (length bytes)      |
 *     +----------------+-----------------------------+
 *
 * length is the message size, MIN_MESSAGE_BYTES..MAX_MESSAGE_BYTES (16..65535).
 * A length under 16 (0 included) cannot be a WireGuard message: the stream has
 * lost sync or is not ours, and since a stream cannot resync it is unusable —
 * the decoder reports 'tcp-frame-too-short' and the caller closes it. A stream
 * that ends inside a frame is reported through `hasPartialFrame()`.
 *
 * The decoder is pure (no I/O). It hands out zero-copy views of the chunk when a
 * frame lies inside one chunk, and assembles frames that straddle chunks in a
 * grow-only buffer reused for the connection's lifetime — hence frames are
 * valid only during the `frame` callback.
 */

export const FRAME_HEADER_BYTES = 2;

export interface FrameSink {
  frame(bytes: Uint8Array): void;
}

export type DecodeResult = 'ok' | 'tcp-frame-too-short';

/** True when a message of this size can be framed and is a plausible link message. */
export function isFramableLength(lengthBytes: number): boolean {
  return lengthBytes >= MIN_MESSAGE_BYTES && lengthBytes <= MAX_MESSAGE_BYTES;
}

/** Bytes needed to frame the framable messages of a batch (others are skipped by encodeFramesInto). */
export function framedLength(messages: readonly Uint8Array[]): number {
  let total = 0;
  for (let i = 0; i < messages.length; i++) {
    const len = (messages[i] as Uint8Array).length;
    if (isFramableLength(len)) total += FRAME_HEADER_BYTES + len;
  }
  return total;
}

/**
 * Writes each framable message (length prefix + bytes) into `target` from
 * `offset`; unframable ones are skipped. Returns the offset after the last frame.
 * `target` must hold `framedLength(messages)` bytes from `offset`.
 */
export function encodeFramesInto(messages: readonly Uint8Array[], target: Uint8Array, offset: number): number {
  let at = offset;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i] as Uint8Array;
    const len = message.length;
    if (!isFramableLength(len)) continue;
    target[at] = len >>> 8;
    target[at + 1] = len & 0xff;
    target.set(message, at + FRAME_HEADER_BYTES);
    at += FRAME_HEADER_BYTES + len;
  }
  return at;
}

/** Convenience: one freshly allocated buffer holding the framed batch. */
export function encodeFrames(messages: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(framedLength(messages));
  encodeFramesInto(messages, out, 0);
  return out;
}

/** Incremental decoder for one stream. After it returns an error, it must not be fed again. */
export class StreamFrameDecoder {
  /** First byte of a length prefix split across chunks, or -1. */
  private pendingHeaderByte = -1;
  /** Length of the frame being assembled across chunks, or 0. */
  private assemblingBytes = 0;
  private assembledBytes = 0;
  private assembly: Uint8Array | undefined;

  push(chunk: Uint8Array, sink: FrameSink): DecodeResult {
    const end = chunk.length;
    let at = 0;

    if (this.assemblingBytes > 0) {
      at = this.continueAssembly(chunk, sink);
    } else if (this.pendingHeaderByte >= 0 && end > 0) {
      const len = (this.pendingHeaderByte << 8) | (chunk[0] as number);
      this.pendingHeaderByte = -1;
      at = 1;
      if (len < MIN_MESSAGE_BYTES) return 'tcp-frame-too-short';
      if (end - at >= len) {
        sink.frame(chunk.subarray(at, at + len));
        at += len;
      } else {
        this.beginAssembly(len, chunk, at);
        return 'ok';
      }
    }

    while (at < end) {
      if (end - at < FRAME_HEADER_BYTES) {
        this.pendingHeaderByte = chunk[at] as number;
        return 'ok';
      }
      const len = ((chunk[at] as number) << 8) | (chunk[at + 1] as number);
      at += FRAME_HEADER_BYTES;
      if (len < MIN_MESSAGE_BYTES) return 'tcp-frame-too-short';
      if (end - at >= len) {
        sink.frame(chunk.subarray(at, at + len));
        at += len;
      } else {
        this.beginAssembly(len, chunk, at);
        return 'ok';
      }
    }
    return 'ok';
  }

  /** True when the stream stopped inside a frame or a length prefix (a truncated frame at EOF). */
  hasPartialFrame(): boolean {
    return this.pendingHeaderByte >= 0 || this.assemblingBytes > 0;
  }

  private beginAssembly(len: number, chunk: Uint8Array, at: number): void {
    if (this.assembly === undefined || this.assembly.length < len) this.assembly = new Uint8Array(len);
    this.assembly.set(chunk.subarray(at), 0);
    this.assemblingBytes = len;
    this.assembledBytes = chunk.length - at;
  }

  /** Returns how many bytes of the chunk it consumed. */
  private continueAssembly(chunk: Uint8Array, sink: FrameSink): number {
    const assembly = this.assembly as Uint8Array;
    const take = Math.min(this.assemblingBytes - this.assembledBytes, chunk.length);
    assembly.set(take === chunk.length ? chunk : chunk.subarray(0, take), this.assembledBytes);
    this.assembledBytes += take;
    if (this.assembledBytes === this.assemblingBytes) {
      const len = this.assemblingBytes;
      this.assemblingBytes = 0;
      this.assembledBytes = 0;
      sink.frame(assembly.subarray(0, len));
    }
    return take;
  }
}

import { describe, expect, it } from 'vitest';
import {
  encodeFrames,
  encodeFramesInto,
  framedLength,
  StreamFrameDecoder,
  type FrameSink,
} from '../../../../switch/link/transport/stream-framing.js';
import { testMessage } from '../../../support/transport-suite.js';

class Frames implements FrameSink {
  readonly frames: Uint8Array[] = [];
  frame(bytes: Uint8Array): void {
    this.frames.push(Uint8Array.from(bytes));
  }
}

function decodeInChunks(wire: Uint8Array, chunkSizes: readonly number[]) {
  const decoder = new StreamFrameDecoder();
  const sink = new Frames();
  let at = 0;
  let i = 0;
  const results: string[] = [];
  while (at < wire.length) {
    const size = chunkSizes[i++ % chunkSizes.length] ?? 1;
    results.push(decoder.push(wire.subarray(at, at + size), sink));
    at += size;
  }
  return { frames: sink.frames, results, decoder };
}

describe('stream framing', () => {
  const messages = [testMessage(16, 1), testMessage(148, 2), testMessage(1500, 3), testMessage(65535, 4), testMessage(32, 5)];
  const wire = encodeFrames(messages);

  it('encodes a 2-byte big-endian length before each message', () => {
    const one = encodeFrames([testMessage(300, 1)]);
    expect(Array.from(one.subarray(0, 2))).toEqual([0x01, 0x2c]);
    expect(one.subarray(2)).toEqual(testMessage(300, 1));
    expect(wire.length).toBe(framedLength(messages));
  });

  it('skips unframable messages when encoding', () => {
    const batch = [new Uint8Array(15), testMessage(20), new Uint8Array(65536)];
    expect(framedLength(batch)).toBe(22);
    const target = new Uint8Array(30);
    expect(encodeFramesInto(batch, target, 4)).toBe(26);
  });

  it.each([[[wire.length]], [[1]], [[2]], [[3, 1, 7]], [[1000]], [[4096, 1, 2]], [[65537]]])(
    'decodes the same frames whatever the chunking (%j)',
    (sizes) => {
      const { frames, results, decoder } = decodeInChunks(wire, sizes);
      expect(results.every((r) => r === 'ok')).toBe(true);
      expect(frames).toEqual(messages);
      expect(decoder.hasPartialFrame()).toBe(false);
    },
  );

  it('hands out zero-copy views when a frame lies within one chunk', () => {
    const decoder = new StreamFrameDecoder();
    const seen: Uint8Array[] = [];
    decoder.push(wire, { frame: (bytes) => seen.push(bytes) });
    expect(seen[1]?.buffer).toBe(wire.buffer);
  });

  it.each([0, 1, 15])('reports a length prefix of %i as tcp-frame-too-short', (length) => {
    const decoder = new StreamFrameDecoder();
    const sink = new Frames();
    const garbage = Uint8Array.of(...encodeFrames([testMessage(20)]), length >>> 8, length & 0xff, 1, 2, 3);
    expect(decoder.push(garbage, sink)).toBe('tcp-frame-too-short');
    expect(sink.frames).toHaveLength(1);
  });

  it('reports a too-short prefix split across chunks', () => {
    const decoder = new StreamFrameDecoder();
    const sink = new Frames();
    expect(decoder.push(Uint8Array.of(0), sink)).toBe('ok');
    expect(decoder.push(Uint8Array.of(15, 0, 0), sink)).toBe('tcp-frame-too-short');
  });

  it('knows when the stream stopped inside a frame or a prefix', () => {
    const decoder = new StreamFrameDecoder();
    const sink = new Frames();
    decoder.push(wire.subarray(0, 1), sink);
    expect(decoder.hasPartialFrame()).toBe(true);
    decoder.push(wire.subarray(1, 10), sink);
    expect(decoder.hasPartialFrame()).toBe(true);
    decoder.push(wire.subarray(10, 18), sink);
    expect(sink.frames).toHaveLength(1);
    expect(decoder.hasPartialFrame()).toBe(false);
  });

  it('decodes an empty chunk as nothing', () => {
    const decoder = new StreamFrameDecoder();
    const sink = new Frames();
    decoder.push(wire.subarray(0, 1), sink);
    expect(decoder.push(new Uint8Array(0), sink)).toBe('ok');
    decoder.push(wire.subarray(1), sink);
    expect(sink.frames).toEqual(messages);
  });
});

/**
 * The TCP stream framing (switch/link/transport/stream-framing.ts): StreamFrameDecoder.push over arbitrary
 * chunkings of arbitrary bytes.
 *
 * Input: 4 bytes that seed the chunking (1-byte chunks, random sizes, a cut inside every length prefix, one
 * chunk), then the stream. Oracle (differential): the chunked decode yields the same frames, the same result
 * and the same hasPartialFrame() as a whole-stream reference decoder written here from the design note
 * (u16 BE length, 16..65535, a length under 16 ends the stream); it never throws.
 */
import { encodeFrames, StreamFrameDecoder } from '../../../../switch/link/transport/stream-framing.js';
import { MIN_MESSAGE_BYTES } from '../../../../switch/link/transport/transport.js';
import { mutateBytes } from '../mutate.js';
import { Rng } from '../rng.js';
import { bytesCodec, check, type FuzzTarget } from '../target.js';

interface Decoded {
  frames: Uint8Array[];
  result: 'ok' | 'tcp-frame-too-short';
  partial: boolean;
}

/** The design note, as plainly as it can be written. */
export function referenceDecode(stream: Uint8Array): Decoded {
  const frames: Uint8Array[] = [];
  let at = 0;
  while (stream.length - at >= 2) {
    const len = (stream[at]! << 8) | stream[at + 1]!;
    if (len < MIN_MESSAGE_BYTES) return { frames, result: 'tcp-frame-too-short', partial: false };
    if (stream.length - at - 2 < len) return { frames, result: 'ok', partial: true };
    frames.push(stream.slice(at + 2, at + 2 + len));
    at += 2 + len;
  }
  return { frames, result: 'ok', partial: stream.length - at === 1 };
}

function chunks(stream: Uint8Array, rng: Rng): Uint8Array[] {
  const out: Uint8Array[] = [];
  const picked = rng.int(5);
  // 1-byte and tiny chunks cost a push per byte or two: keep them to streams where that stays fast.
  const mode = stream.length > 16_384 && (picked === 0 || picked === 4) ? 2 : picked;
  let at = 0;
  while (at < stream.length) {
    let n: number;
    if (mode === 0) n = 1;
    else if (mode === 1) n = stream.length;
    else if (mode === 2) n = 1 + rng.size(64);
    else if (mode === 3) n = 1 + rng.size(4096);
    else n = rng.bool(0.2) ? 0 : 1 + rng.int(3); // empty chunks and cuts inside prefixes
    out.push(stream.subarray(at, Math.min(stream.length, at + n)));
    at += n;
  }
  if (rng.bool(0.1)) out.push(new Uint8Array(0));
  return out;
}

function decodeChunked(parts: Uint8Array[]): Decoded {
  const decoder = new StreamFrameDecoder();
  const frames: Uint8Array[] = [];
  const sink = { frame: (bytes: Uint8Array) => frames.push(bytes.slice()) };
  for (const part of parts) {
    const result = decoder.push(part, sink);
    if (result !== 'ok') return { frames, result, partial: false };
  }
  return { frames, result: 'ok', partial: decoder.hasPartialFrame() };
}

function sameFrames(x: Uint8Array[], y: Uint8Array[]): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) {
    const a = x[i]!;
    const b = y[i]!;
    if (a.length !== b.length) return false;
    for (let j = 0; j < a.length; j++) if (a[j] !== b[j]) return false;
  }
  return true;
}

function framedStream(rng: Rng): Uint8Array {
  const messages: Uint8Array[] = [];
  const count = 1 + rng.size(8);
  for (let i = 0; i < count; i++) {
    const len = rng.bool(0.02) ? rng.pick([16, 17, 65_535, 65_534]) : 16 + rng.size(rng.bool(0.9) ? 200 : 1600);
    messages.push(rng.bytes(len));
  }
  return encodeFrames(messages);
}

export function streamTarget(): FuzzTarget<Uint8Array> {
  let seeds: Uint8Array[] | undefined;
  return {
    name: 'stream-framing',
    summary: 'StreamFrameDecoder.push over arbitrary chunkings: the frames of a whole-stream reference decoder, never a throw',
    generate(rng) {
      seeds ??= [framedStream(new Rng(1)), framedStream(new Rng(3)), encodeFrames([new Uint8Array(148), new Uint8Array(92), new Uint8Array(32)])];
      const r = rng.float();
      let stream: Uint8Array;
      const maxBytes = rng.bool(0.98) ? 8192 : 200_000;
      if (r < 0.45) stream = mutateBytes(rng, rng.pick(seeds), { others: seeds, maxBytes });
      else if (r < 0.75) stream = framedStream(rng);
      else if (r < 0.9) stream = mutateBytes(rng, framedStream(rng), { maxMutations: 2, maxBytes });
      else stream = rng.bytes(rng.size(4096));
      const out = new Uint8Array(4 + stream.length);
      new DataView(out.buffer).setUint32(0, rng.u32());
      out.set(stream, 4);
      return out;
    },
    execute(input) {
      const chunkSeed = input.length >= 4 ? new DataView(input.buffer, input.byteOffset).getUint32(0) : 0;
      const stream = input.subarray(Math.min(4, input.length));
      const expected = referenceDecode(stream);
      const got = decodeChunked(chunks(stream, new Rng(chunkSeed)));
      check(got.result === expected.result, `result ${got.result}, reference ${expected.result}`);
      check(sameFrames(got.frames, expected.frames), `${got.frames.length} frames, reference ${expected.frames.length} (or their bytes differ)`);
      if (got.result === 'ok') check(got.partial === expected.partial, `hasPartialFrame ${got.partial}, reference ${expected.partial}`);
      return got.result === 'ok' ? (got.partial ? 'ok:partial' : 'ok') : got.result;
    },
    classify: () => undefined,
    ...bytesCodec,
    worstCases: [
      {
        name: '16-byte frames, 1-byte chunks',
        make: (n) => {
          const out = new Uint8Array(4 + n);
          for (let at = 4; at + 18 <= out.length; at += 18) out[at + 1] = 16;
          return out; // chunk seed 0: mode from Rng(0)
        },
      },
      {
        name: 'max-length frames',
        make: (n) => {
          const frames = Array.from({ length: Math.max(1, Math.floor(n / 65_537)) }, () => new Uint8Array(65_535));
          const stream = encodeFrames(frames);
          const out = new Uint8Array(4 + stream.length);
          out.set(stream, 4);
          return out;
        },
      },
    ],
  };
}

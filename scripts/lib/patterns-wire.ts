/**
 * The `patterns` wire format on a TCP connection between two ranks.
 *
 *   hello    (connector → acceptor, once)  u32 MAGIC 'PAT1' | u32 rank of the connector
 *   message  (both ways)                   u32 length (= 5 + payload) | u32 iteration | u8 phase | payload
 *
 * All big-endian. The payload is zeros: only its size matters. The parser never copies the payload, so a large
 * `--size` costs no allocation on receipt.
 */

export const HELLO_MAGIC = 0x50415431; // 'PAT1'
export const HELLO_BYTES = 8;
export const MESSAGE_HEADER_BYTES = 9;
/** Bytes after the length field that are not payload: iteration (4) + phase (1). */
const HEADER_AFTER_LENGTH = 5;

export const enum Phase {
  Exchange = 0,
  Reduce = 1,
  Broadcast = 2,
  /** The unmeasured start-up rounds (patterns-worker.ts); the iteration field holds the round. */
  Sync = 3,
}

export function encodeHello(rank: number): Buffer {
  const hello = Buffer.alloc(HELLO_BYTES);
  hello.writeUInt32BE(HELLO_MAGIC, 0);
  hello.writeUInt32BE(rank, 4);
  return hello;
}

export function encodeMessageHeader(iteration: number, phase: Phase, payloadBytes: number): Buffer {
  const header = Buffer.alloc(MESSAGE_HEADER_BYTES);
  header.writeUInt32BE(HEADER_AFTER_LENGTH + payloadBytes, 0);
  header.writeUInt32BE(iteration, 4);
  header.writeUInt8(phase, 8);
  return header;
}

export interface ReceivedMessage {
  readonly iteration: number;
  readonly phase: Phase;
  readonly payloadBytes: number;
}

export type ParserEvent = { kind: 'hello'; rank: number } | { kind: 'message'; message: ReceivedMessage } | { kind: 'error'; reason: string };

/** Incremental parser for one connection's byte stream. `expectHello` for the accepting side. */
export class PatternsParser {
  #pending: Buffer = Buffer.alloc(0);
  #isHelloDue: boolean;
  /** Payload bytes of the current message still to skip, and the message they complete. */
  #skipBytes = 0;
  #inFlight: ReceivedMessage | undefined;

  constructor(expectHello: boolean) {
    this.#isHelloDue = expectHello;
  }

  push(chunk: Buffer): ParserEvent[] {
    const events: ParserEvent[] = [];
    let offset = 0;
    while (offset < chunk.length || (this.#inFlight !== undefined && this.#skipBytes === 0)) {
      if (this.#inFlight !== undefined) {
        const skipped = Math.min(this.#skipBytes, chunk.length - offset);
        this.#skipBytes -= skipped;
        offset += skipped;
        if (this.#skipBytes > 0) break;
        events.push({ kind: 'message', message: this.#inFlight });
        this.#inFlight = undefined;
        continue;
      }
      const need = this.#isHelloDue ? HELLO_BYTES : MESSAGE_HEADER_BYTES;
      const take = Math.min(need - this.#pending.length, chunk.length - offset);
      this.#pending = Buffer.concat([this.#pending, chunk.subarray(offset, offset + take)]);
      offset += take;
      if (this.#pending.length < need) break;
      const header = this.#pending;
      this.#pending = Buffer.alloc(0);
      if (this.#isHelloDue) {
        if (header.readUInt32BE(0) !== HELLO_MAGIC) return [...events, { kind: 'error', reason: 'bad hello magic' }];
        this.#isHelloDue = false;
        events.push({ kind: 'hello', rank: header.readUInt32BE(4) });
        continue;
      }
      const length = header.readUInt32BE(0);
      const phase = header.readUInt8(8);
      if (length < HEADER_AFTER_LENGTH || phase > Phase.Sync) {
        return [...events, { kind: 'error', reason: `bad message header (length ${length}, phase ${phase})` }];
      }
      this.#skipBytes = length - HEADER_AFTER_LENGTH;
      this.#inFlight = { iteration: header.readUInt32BE(4), phase: phase as Phase, payloadBytes: this.#skipBytes };
    }
    return events;
  }
}

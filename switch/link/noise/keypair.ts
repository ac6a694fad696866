/**
 * One transport session (wireguard-go `Keypair`): the two keys from the
 * handshake, our send counter, the receive replay window and the creation time.
 * seal/open are the data path: no closures, counters as u32 halves (see
 * replay.ts). Sealed messages are views carved from shared 256 kB slabs: a fresh
 * 1.4 kB Uint8Array per packet is an off-heap allocation that V8 also counts as
 * external memory (more major GCs); a view costs a tenth of it. A slab is never
 * reused: it is dropped when full and freed by the GC once no message of it is
 * left, so a message that is kept (a TCP backlog) stays valid.
 *
 * The send counter is a JS number: exact up to 2^53, which at 10 M packets/s
 * takes 28 years, far past Reject-After-Time (180 s). So Rekey-After-Messages
 * (2^60) and Reject-After-Messages (2^64 − 2^13 − 1) are honoured exactly in the
 * sense that no counter near them can ever be produced; received counters are
 * checked against the exact limit in replay.ts.
 */
import { AEAD_TAG_BYTES } from './constants.js';
import { aeadOpen, aeadSeal } from './crypto.js';
import type { DerivedKeys } from './handshake.js';
import { MESSAGE_TRANSPORT_MIN_SIZE, MESSAGE_TRANSPORT_HEADER_SIZE, type MessageTransport, writeTransportHeader } from './messages.js';
import { ReplayFilter } from './replay.js';

const EMPTY = new Uint8Array(0);
const TWO_32 = 0x1_0000_0000;

const SLAB_BYTES = 256 * 1024;
const SLAB_ALIGN = 8;
let slab = new ArrayBuffer(SLAB_BYTES);
let slabOffset = 0;

/** `length` zeroed bytes of their own (the slab is fresh memory, never handed out twice). */
function carve(length: number): Uint8Array {
  if (length > SLAB_BYTES / 4) return new Uint8Array(length);
  if (slabOffset + length > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabOffset = 0;
  }
  const view = new Uint8Array(slab, slabOffset, length);
  slabOffset += (length + SLAB_ALIGN - 1) & ~(SLAB_ALIGN - 1);
  return view;
}

/** Transport plaintext is zero-padded to a multiple of 16 (whitepaper §5.4.6). */
export const PADDING_MULTIPLE = 16;

export class Keypair {
  readonly sendKey: Uint8Array;
  readonly receiveKey: Uint8Array;
  readonly isInitiator: boolean;
  readonly localIndex: number;
  readonly remoteIndex: number;
  readonly createdMs: number;
  /** Next counter to send. */
  sendCounter = 0;
  readonly replay = new ReplayFilter();

  constructor(keys: DerivedKeys, createdMs: number) {
    this.sendKey = keys.sendKey;
    this.receiveKey = keys.receiveKey;
    this.isInitiator = keys.isInitiator;
    this.localIndex = keys.localIndex;
    this.remoteIndex = keys.remoteIndex;
    this.createdMs = createdMs;
  }

  /** A transport message (type 4) carrying `plaintext` padded to 16; uses the next counter. */
  seal(plaintext: Uint8Array): Uint8Array {
    const counter = this.sendCounter++;
    const padBytes = (PADDING_MULTIPLE - (plaintext.length % PADDING_MULTIPLE)) % PADDING_MULTIPLE;
    const out = carve(MESSAGE_TRANSPORT_MIN_SIZE + plaintext.length + padBytes);
    const lo = counter >>> 0;
    const hi = (counter - lo) / TWO_32;
    writeTransportHeader(out, this.remoteIndex, lo, hi);
    aeadSeal(this.sendKey, lo, hi, plaintext, EMPTY, out, MESSAGE_TRANSPORT_HEADER_SIZE, padBytes);
    return out;
  }

  /** The decrypted payload (padding included), or null if it does not authenticate. */
  open(msg: MessageTransport): Uint8Array | null {
    if (msg.encrypted.length < AEAD_TAG_BYTES) return null;
    return aeadOpen(this.receiveKey, msg.counterLo, msg.counterHi, msg.encrypted, EMPTY);
  }

  zero(): void {
    this.sendKey.fill(0);
    this.receiveKey.fill(0);
  }
}

/**
 * One transport session (wireguard-go `Keypair`): the two keys from the
 * handshake, our send counter, the receive replay window and the creation time.
 * The keys, counter and window live in a KeypairSlot: in JS by default, or in
 * the addon when the daemon turns on flow offload (switch/offload/), so that its
 * fast paths and this code share one counter and one window.
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
import { nodeAeadProvider, type AeadProvider } from './crypto.js';
import type { DerivedKeys } from './handshake.js';
import { MESSAGE_TRANSPORT_MIN_SIZE, MESSAGE_TRANSPORT_HEADER_SIZE, type MessageTransport, writeTransportHeader } from './messages.js';
import { ReplayFilter, type ReplayVerdict } from './replay.js';
import { createSlabAllocator } from '../../slab.js';

const EMPTY = new Uint8Array(0);
const TWO_32 = 0x1_0000_0000;

/** Sealed messages are views of slabs (switch/slab.ts): never reused, so a kept message stays valid. */
const carve = createSlabAllocator();

/** Transport plaintext is zero-padded to a multiple of 16 (whitepaper §5.4.6). */
export const PADDING_MULTIPLE = 16;

/** A transport message's bytes for `plaintextBytes` of plaintext, padding included (carved from a slab). */
export function carveTransportMessage(plaintextBytes: number): { out: Uint8Array; padBytes: number } {
  const padBytes = (PADDING_MULTIPLE - (plaintextBytes % PADDING_MULTIPLE)) % PADDING_MULTIPLE;
  return { out: carve(MESSAGE_TRANSPORT_MIN_SIZE + plaintextBytes + padBytes), padBytes };
}

/** A replay window: accepts each counter once (replay.ts ReplayFilter is the pure one). */
export interface ReplayWindow {
  /** Call only after the packet authenticated: 'ok' records the counter. */
  validate(lo: number, hi: number): ReplayVerdict;
}

/**
 * Where a keypair's mutable state lives — its keys, send counter and replay
 * window — with ONE owner, so another sealer/opener of the same keypair (the
 * addon's flow offload) never disagrees with this one on a counter.
 */
export interface KeypairSlot {
  /** The next counter to send. */
  readonly sendCounter: number;
  readonly replay: ReplayWindow;
  seal(plaintext: Uint8Array, remoteIndex: number): Uint8Array;
  open(msg: MessageTransport): Uint8Array | null;
  /** Forgets the keys. Returns traffic the slot carried that its owner was not yet told of (offload). */
  zero(): SlotTraffic | undefined;
}

/** Packets/bytes a slot carried on its own (the addon's fast paths), not yet reported. */
export interface SlotTraffic {
  txPackets: number;
  txBytes: number;
  rxPackets: number;
  rxBytes: number;
}

/** Makes the slot of a new keypair (crypto.ts injects the AEAD the same way). */
export interface KeypairSlotProvider {
  readonly name: string;
  create(keys: DerivedKeys, createdMs: number): KeypairSlot;
}

/** The pure one: keys and window in JS, sealed with crypto.ts's AEAD. */
export class JsKeypairSlot implements KeypairSlot {
  sendCounter = 0;
  readonly replay = new ReplayFilter();
  private readonly sendKey: Uint8Array;
  private readonly receiveKey: Uint8Array;

  constructor(
    keys: DerivedKeys,
    private readonly aead: AeadProvider = nodeAeadProvider,
  ) {
    this.sendKey = keys.sendKey;
    this.receiveKey = keys.receiveKey;
  }

  seal(plaintext: Uint8Array, remoteIndex: number): Uint8Array {
    const counter = this.sendCounter++;
    const { out, padBytes } = carveTransportMessage(plaintext.length);
    const lo = counter >>> 0;
    const hi = (counter - lo) / TWO_32;
    writeTransportHeader(out, remoteIndex, lo, hi);
    this.aead.seal(this.sendKey, lo, hi, plaintext, EMPTY, out, MESSAGE_TRANSPORT_HEADER_SIZE, padBytes);
    return out;
  }

  open(msg: MessageTransport): Uint8Array | null {
    if (msg.encrypted.length < AEAD_TAG_BYTES) return null;
    return this.aead.open(this.receiveKey, msg.counterLo, msg.counterHi, msg.encrypted, EMPTY);
  }

  zero(): undefined {
    this.sendKey.fill(0);
    this.receiveKey.fill(0);
    return undefined;
  }
}

/** Slots in JS sealed with `aead` (node:crypto unless the root injects the addon's). */
export function jsKeypairSlotsWith(aead: AeadProvider): KeypairSlotProvider {
  return { name: aead === nodeAeadProvider ? 'js' : `js+${aead.name}`, create: (keys) => new JsKeypairSlot(keys, aead) };
}

/** The default: keys, window and AEAD all in JS (what unit tests use). */
export const jsKeypairSlots: KeypairSlotProvider = jsKeypairSlotsWith(nodeAeadProvider);

export class Keypair {
  readonly isInitiator: boolean;
  readonly localIndex: number;
  readonly remoteIndex: number;
  readonly createdMs: number;
  readonly slot: KeypairSlot;

  constructor(keys: DerivedKeys, createdMs: number, slots: KeypairSlotProvider = jsKeypairSlots) {
    this.isInitiator = keys.isInitiator;
    this.localIndex = keys.localIndex;
    this.remoteIndex = keys.remoteIndex;
    this.createdMs = createdMs;
    this.slot = slots.create(keys, createdMs);
  }

  /** Next counter to send. */
  get sendCounter(): number {
    return this.slot.sendCounter;
  }

  get replay(): ReplayWindow {
    return this.slot.replay;
  }

  /** A transport message (type 4) carrying `plaintext` padded to 16; uses the next counter. */
  seal(plaintext: Uint8Array): Uint8Array {
    return this.slot.seal(plaintext, this.remoteIndex);
  }

  /** The decrypted payload (padding included), or null if it does not authenticate. */
  open(msg: MessageTransport): Uint8Array | null {
    return this.slot.open(msg);
  }

  zero(): SlotTraffic | undefined {
    return this.slot.zero();
  }
}

/**
 * Keypair slots in the addon (offload.h): a keypair's keys, send counter and
 * replay window live in ONE native slot, so the addon's fast paths and the
 * noise core seal and open on the same keypair without ever disagreeing on a
 * counter or a window bit. The noise core stays pure: this provider is
 * injected (setKeypairSlotProvider) the way crypto.ts's AEAD provider is.
 *
 * The slots are one NativeOffload's (the one its FlowOffload runs on): a slot id
 * means nothing to another, so nativeSlotId() names a slot only to its own. Once
 * that NativeOffload is closed, new keypairs get pure JS slots (jsKeypairSlots)
 * instead of failing: the link goes on in JS, as with offload off.
 *
 * Deadlines (Reject-After-Time; for the initiator Rekey-After-Time, and the
 * last-minute rekey on receive) go to the slot as "ms from now": past them the
 * fast paths hand packets to JS, which then does what WireGuard says (refuse,
 * or start the rekey) exactly as it always has.
 */
import type { Clock } from '../clock.js';
import { KEEPALIVE_TIMEOUT_MS, REJECT_AFTER_TIME_MS, REKEY_AFTER_TIME_MS, REKEY_TIMEOUT_MS } from '../link/noise/constants.js';
import type { DerivedKeys } from '../link/noise/handshake.js';
import { carveTransportMessage, jsKeypairSlots, type KeypairSlot, type KeypairSlotProvider, type ReplayWindow, type SlotTraffic } from '../link/noise/keypair.js';
import type { MessageTransport } from '../link/noise/messages.js';
import type { ReplayVerdict } from '../link/noise/replay.js';
import type { NativeOffload } from '../port/addon.js';
import { createSlabAllocator } from '../slab.js';

const VERDICTS: readonly ReplayVerdict[] = ['ok', 'replayed-counter', 'out-of-window', 'counter-limit'];
const AEAD_TAG_BYTES = 16;
/** Opened plaintexts are views of slabs (switch/slab.ts, as createNativeAead's): a fresh 1.4 kB array per packet costs more. */
const slabView = createSlabAllocator(64);

class NativeKeypairSlot implements KeypairSlot {
  readonly replay: ReplayWindow;
  private isZeroed = false;

  constructor(
    /** The NativeOffload the slot is in. */
    readonly native: NativeOffload,
    /** Its slot id there (reused after zero()). */
    readonly id: number,
  ) {
    this.replay = { validate: (lo, hi) => (this.isZeroed ? 'counter-limit' : VERDICTS[native.slotReplay(id, lo, hi)] ?? 'counter-limit') };
  }

  get sendCounter(): number {
    return this.isZeroed ? Number.MAX_SAFE_INTEGER : this.native.slotSendCounter(this.id);
  }

  seal(plaintext: Uint8Array, _remoteIndex: number): Uint8Array {
    const { out, padBytes } = carveTransportMessage(plaintext.length);
    // -1: zeroed or past the counter limit; the device checked both before sealing, so this cannot happen
    // in order. A message of zeros (type 0) is then sent, which any peer drops as garbage.
    if (!this.isZeroed) this.native.slotSeal(this.id, plaintext, out, padBytes);
    return out;
  }

  open(msg: MessageTransport): Uint8Array | null {
    if (this.isZeroed || msg.encrypted.length < AEAD_TAG_BYTES) return null;
    const plaintext = slabView(msg.encrypted.length - AEAD_TAG_BYTES);
    return this.native.slotOpen(this.id, msg.counterLo, msg.counterHi, msg.encrypted, plaintext) ? plaintext : null;
  }

  zero(): SlotTraffic | undefined {
    if (this.isZeroed) return undefined;
    this.isZeroed = true;
    const [txPackets = 0, txBytes = 0, rxPackets = 0, rxBytes = 0] = this.native.slotFree(this.id);
    return txPackets + rxPackets > 0 ? { txPackets, txBytes, rxPackets, rxBytes } : undefined;
  }
}

/**
 * The slot's id in `native`, when it is one of that NativeOffload's slots (without `native`: of any); else
 * undefined (a JS slot, or another NativeOffload's).
 */
export function nativeSlotId(slot: KeypairSlot, native?: NativeOffload): number | undefined {
  return slot instanceof NativeKeypairSlot && (native === undefined || slot.native === native) ? slot.id : undefined;
}

/** New keypairs keep their state in `native`'s slots (the NativeOffload its FlowOffload runs on). */
export function createNativeKeypairSlots(native: NativeOffload, clock: Clock): KeypairSlotProvider {
  return {
    name: 'addon',
    create(keys: DerivedKeys, createdMs: number): KeypairSlot {
      if (native.isClosed) return jsKeypairSlots.create(keys, createdMs);
      const left = createdMs - clock.now();
      const id = native.slotCreate(
        keys.sendKey,
        keys.receiveKey,
        keys.localIndex,
        keys.remoteIndex,
        left + REJECT_AFTER_TIME_MS,
        keys.isInitiator ? left + REKEY_AFTER_TIME_MS : Number.POSITIVE_INFINITY,
        keys.isInitiator ? left + REJECT_AFTER_TIME_MS - KEEPALIVE_TIMEOUT_MS - REKEY_TIMEOUT_MS : Number.POSITIVE_INFINITY,
      );
      if (id < 0) throw new Error('offload: the addon refused a keypair slot (keys not 32 bytes)');
      // The handshake's copies of the keys are no longer needed: the slot holds them.
      keys.sendKey.fill(0);
      keys.receiveKey.fill(0);
      return new NativeKeypairSlot(native, id);
    },
  };
}

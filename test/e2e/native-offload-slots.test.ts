/**
 * The addon's keypair slots (offload.h): their replay window must behave exactly as replay.ts (the shared
 * suite, plus a random oracle run against ReplayFilter), a non-committing check must give the verdict a
 * commit would, and sealing/opening must agree byte for byte with the pure JS keypair. Loads the addon,
 * so it is an e2e test (no namespaces).
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { JsKeypairSlot, type ReplayWindow } from '../../switch/link/noise/keypair.js';
import { parsePacket, type MessageTransport } from '../../switch/link/noise/messages.js';
import { ReplayFilter, type ReplayVerdict } from '../../switch/link/noise/replay.js';
import { createNativeKeypairSlots, nativeSlotId } from '../../switch/offload/native-keypair-slots.js';
import { loadAddon } from '../../switch/port/addon.js';
import { runReplaySuite } from '../support/replay-suite.js';

const native = loadAddon().createOffload();
const VERDICTS: readonly ReplayVerdict[] = ['ok', 'replayed-counter', 'out-of-window', 'counter-limit'];
const key = (): Uint8Array => new Uint8Array(randomBytes(32));
const clock = { now: () => 1_000 };

function nativeWindow(): ReplayWindow & { check(lo: number, hi: number): ReplayVerdict; free(): void } {
  const id = native.slotCreate(key(), key(), randomBytes(4).readUInt32LE(0), 7, Infinity, Infinity, Infinity);
  return {
    validate: (lo, hi) => VERDICTS[native.slotReplay(id, lo, hi)]!,
    check: (lo, hi) => VERDICTS[native.slotReplay(id, lo, hi, false)]!,
    free: () => void native.slotFree(id),
  };
}

runReplaySuite('native slot window', nativeWindow);

describe('native keypair slots', () => {
  it('agree with ReplayFilter on random counter streams, and check-without-commit predicts the verdict', () => {
    for (let run = 0; run < 20; run++) {
      const oracle = new ReplayFilter();
      const native = nativeWindow();
      let top = 0;
      for (let i = 0; i < 3000; i++) {
        const r = Math.random();
        // Mostly near the top, some far behind, some jumps (also over the 32-bit boundary).
        top = r < 0.02 ? top + Math.floor(Math.random() * 20_000) : r < 0.6 ? top + Math.floor(Math.random() * 40) : top;
        const back = Math.random() < 0.3 ? Math.floor(Math.random() * 9000) : 0;
        const counter = Math.max(0, top - back) + (run % 4 === 3 ? 0xffff_ff00 : 0);
        const lo = counter >>> 0;
        const hi = Math.floor(counter / 0x1_0000_0000);
        const predicted = native.check(lo, hi);
        const verdict = native.validate(lo, hi);
        expect(verdict).toBe(oracle.validate(lo, hi));
        expect(predicted).toBe(verdict);
      }
      native.free();
    }
  });

  it('seal and open agree with the pure JS keypair (and both windows)', () => {
    const provider = createNativeKeypairSlots(native, clock);
    for (let i = 0; i < 50; i++) {
      const sendKey = key();
      const receiveKey = key();
      const keys = { sendKey, receiveKey, isInitiator: true, localIndex: 1000 + i, remoteIndex: 2000 + i };
      const js = new JsKeypairSlot({ ...keys, sendKey: sendKey.slice(), receiveKey: receiveKey.slice() });
      // The peer's view: sends with our receive key.
      const peer = new JsKeypairSlot({ ...keys, sendKey: receiveKey.slice(), receiveKey: sendKey.slice() });
      const native = provider.create({ ...keys, sendKey: sendKey.slice(), receiveKey: receiveKey.slice() }, 1_000);
      expect(nativeSlotId(native)).toBeGreaterThanOrEqual(0);
      for (let n = 0; n < 5; n++) {
        const plaintext = new Uint8Array(randomBytes(Math.floor(Math.random() * 1500)));
        const a = native.seal(plaintext, keys.remoteIndex);
        const b = js.seal(plaintext, keys.remoteIndex);
        expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
        expect(native.sendCounter).toBe(js.sendCounter);
        const incoming = parsePacket(peer.seal(plaintext, keys.localIndex));
        expect(incoming.ok).toBe(true);
        const msg = (incoming as { msg: MessageTransport }).msg;
        const opened = native.open(msg);
        expect(opened).not.toBeNull();
        expect(Buffer.from(opened!.subarray(0, plaintext.length)).equals(Buffer.from(plaintext))).toBe(true);
        expect(native.replay.validate(msg.counterLo, msg.counterHi)).toBe('ok');
        expect(native.replay.validate(msg.counterLo, msg.counterHi)).toBe('replayed-counter');
        // A flipped bit does not open.
        const bad = msg.bytes.slice();
        bad[bad.length - 1]! ^= 1;
        expect(native.open((parsePacket(bad) as { msg: MessageTransport }).msg)).toBeNull();
      }
      expect(native.zero()).toBeUndefined(); // nothing went through the fast paths
      expect(native.open(msg0(peer, keys.localIndex))).toBeNull(); // zeroed: opens nothing
    }
  });

  it('refuses bad argument shapes without throwing', () => {
    expect(native.slotCreate(new Uint8Array(31), key(), 1, 2, 1, 1, 1)).toBe(-1);
    expect(native.slotSeal(999_999, new Uint8Array(4), new Uint8Array(48), 12)).toBe(-1);
    expect(native.slotOpen(999_999, 0, 0, new Uint8Array(32), new Uint8Array(16))).toBe(false);
    const id = native.slotCreate(key(), key(), 99, 2, Infinity, Infinity, Infinity);
    expect(native.slotSeal(id, new Uint8Array(4), new Uint8Array(10), 12)).toBe(-1); // out too small
    expect(native.slotOpen(id, 0, 0, new Uint8Array(8), new Uint8Array(16))).toBe(false); // runt box
    expect(native.slotFree(id)).toEqual([0, 0, 0, 0]);
    expect(native.flowInstall(0, 1, 2, 12345)).toBe(-1); // no such out-port
  });
});

function msg0(peer: JsKeypairSlot, receiverIndex: number): MessageTransport {
  return (parsePacket(peer.seal(new Uint8Array(10), receiverIndex)) as { msg: MessageTransport }).msg;
}

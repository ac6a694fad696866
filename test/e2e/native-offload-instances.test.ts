/**
 * NativeOffload objects (offload.h): the addon keeps no process-wide offload state, so two of them in one
 * process — or one in a worker thread — share nothing: flow tables, keypair slots, link tables and port outputs
 * are each one's own. And their lifetime is safe in every order: an offload closed (or collected) with handles
 * still attached detaches them, a handle closed first leaves its offload, and anything that is not a
 * NativeOffload is a TypeError. The fast path itself is driven over loopback UDP (a link-to-link flow on one
 * UdpHandle: opened, looked up, sealed again and sent natively), so no namespace, TAP or root is needed: IoHandles
 * are over /dev/null fds and never started. Loads the built addon, so it is an e2e test.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { openSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { JsKeypairSlot } from '../../switch/link/noise/keypair.js';
import { parsePacket, type MessageTransport } from '../../switch/link/noise/messages.js';
import { createNativeKeypairSlots, nativeSlotId } from '../../switch/offload/native-keypair-slots.js';
import { loadAddon, type NativeIoHandle, type NativeOffload, type NativeUdpHandle } from '../../switch/port/addon.js';

const addon = loadAddon();
const MAC_A = 0x02_00_c6_13_01_01;
const MAC_B = 0x02_00_c6_13_02_01;
const SEND_COUNTER_LIMIT = 2 ** 53 - 1;
const key = (): Uint8Array => new Uint8Array(randomBytes(32));

const open: { close(): void | Promise<void> }[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

function offload(): NativeOffload {
  const native = addon.createOffload();
  open.push(native);
  return native;
}

function ioHandle(): NativeIoHandle {
  const handle = new addon.IoHandle(openSync('/dev/null', 'r+'), false, 8, 1518);
  open.push(handle);
  return handle;
}

function udpHandle(): NativeUdpHandle {
  const handle = new addon.UdpHandle('127.0.0.1', 0, 16, 2048, 0, 0);
  open.push(handle);
  return handle;
}

/** A plain dgram socket on 127.0.0.1 that collects what it receives. */
async function peer(): Promise<{ socket: Socket; port: number; got: Buffer[] }> {
  const socket = createSocket('udp4');
  const got: Buffer[] = [];
  socket.on('message', (m) => got.push(m));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  open.push({ close: () => new Promise<void>((resolve) => socket.close(() => resolve())) });
  return { socket, port: socket.address().port, got };
}

function ethernetFrame(dst: number, src: number, payloadBytes: number): Uint8Array {
  const frame = new Uint8Array(14 + payloadBytes);
  const view = new DataView(frame.buffer);
  view.setUint16(0, Math.floor(dst / 2 ** 32));
  view.setUint32(2, dst >>> 0);
  view.setUint16(6, Math.floor(src / 2 ** 32));
  view.setUint32(8, src >>> 0);
  view.setUint16(12, 0x0800);
  frame.set(randomBytes(payloadBytes), 14);
  return frame;
}

/** The link payload of an Ethernet frame: 0x01, its length (big-endian u16), the frame (link-payload.ts). */
function linkPayload(frame: Uint8Array): Uint8Array {
  const out = new Uint8Array(3 + frame.length);
  out[0] = 0x01;
  out[1] = frame.length >> 8;
  out[2] = frame.length & 0xff;
  out.set(frame, 3);
  return out;
}

const until = async (what: string, check: () => boolean, ms = 2000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('two NativeOffloads in one process', () => {
  it('have independent flow tables: a flush of B leaves A’s flows, and port outputs do not cross', () => {
    const a = offload();
    const b = offload();
    const aIn = ioHandle();
    const aOut = ioHandle();
    aIn.setOffloadPort(a, 1);
    aOut.setOffloadPort(a, 2);
    const flow = a.flowInstall(1, MAC_A, MAC_B, 2);
    expect(flow).toBeGreaterThan(0);
    expect(b.flowInstall(1, MAC_A, MAC_B, 2)).toBe(-1); // port 2 is an output of A only

    b.flush();
    expect(a.counters()).toMatchObject({ flows: 1, installs: 1, flushes: 0 });
    expect(b.counters()).toMatchObject({ flows: 0, installs: 0, flushes: 1 });
    expect(a.flowInstall(1, MAC_A, MAC_B, 2)).toBe(flow); // still there: the same flow

    // Another handle taking port id 2 in B flushes nothing in A (it would in A: the id had another handle).
    const bOut = ioHandle();
    bOut.setOffloadPort(b, 2);
    expect(a.counters().flows).toBe(1);
    expect(b.flowInstall(1, MAC_A, MAC_B, 2)).toBeGreaterThan(0);
    a.flush();
    expect(a.counters().flows).toBe(0);
    expect(b.counters().flows).toBe(1);
  });

  it('have independent keypair slots: a slot id of A is not one of B’s', () => {
    const a = offload();
    const b = offload();
    const id = a.slotCreate(key(), key(), 501, 601, Infinity, Infinity, Infinity);
    expect(id).toBeGreaterThanOrEqual(0);
    expect(a.counters().slots).toBe(1);
    expect(b.counters().slots).toBe(0);
    // In B that id names nothing: every slot call answers as for a freed slot.
    expect(b.slotSendCounter(id)).toBe(SEND_COUNTER_LIMIT);
    expect(b.slotSeal(id, new Uint8Array(4), new Uint8Array(32 + 4 + 12), 12)).toBe(-1);
    expect(b.slotOpen(id, 0, 0, new Uint8Array(32), new Uint8Array(16))).toBe(false);
    expect(b.slotReplay(id, 0, 0)).toBe(3);
    b.slotFree(id);
    expect(a.slotSendCounter(id)).toBe(0); // B's free did not touch A's slot
    expect(a.slotSeal(id, new Uint8Array(4), new Uint8Array(32 + 4 + 12), 12)).toBe(0);
    expect(a.slotSendCounter(id)).toBe(1);

    // B's first slot may get the same number: it is a different slot (other keys, its own counter and window).
    const sendKey = key();
    const receiveKey = key();
    const idB = b.slotCreate(sendKey, receiveKey, 502, 602, Infinity, Infinity, Infinity);
    expect(idB).toBe(id);
    expect(b.slotSendCounter(idB)).toBe(0);
    expect(a.slotReplay(id, 7, 0)).toBe(0);
    expect(b.slotReplay(idB, 7, 0)).toBe(0); // A's window did not record it for B
    const keys = { sendKey, receiveKey, isInitiator: false, localIndex: 502, remoteIndex: 602 };
    const peerOfB = new JsKeypairSlot({ ...keys, sendKey: receiveKey.slice(), receiveKey: sendKey.slice() });
    const msg = (parsePacket(peerOfB.seal(new Uint8Array(20), 502)) as { msg: MessageTransport }).msg;
    const out = new Uint8Array(msg.encrypted.length - 16);
    expect(b.slotOpen(idB, msg.counterLo, msg.counterHi, msg.encrypted, out)).toBe(true);
    expect(a.slotOpen(id, msg.counterLo, msg.counterHi, msg.encrypted, out)).toBe(false); // A's keys do not open it
  });

  it('have independent link tables, and a UdpHandle serves the links of the offload it is attached to only', () => {
    const a = offload();
    const b = offload();
    const udp = udpHandle();
    const sockaddr = udp.resolve('127.0.0.1', 9)!;
    expect(() => a.linkSet(5, udp, sockaddr, -1, -1, -1)).toThrow(/not attached/);
    udp.setOffload(a);
    a.linkSet(5, udp, sockaddr, -1, -1, -1);
    expect(() => b.linkSet(5, udp, sockaddr, -1, -1, -1)).toThrow(/not attached/);
    expect(a.counters().links).toBe(1);
    expect(b.counters().links).toBe(0);
    // Moving the handle to B takes its links out of A.
    udp.setOffload(b);
    expect(a.counters().links).toBe(0);
    b.linkSet(5, udp, sockaddr, -1, -1, -1);
    expect(b.counters().links).toBe(1);
  });

  it('keypair slot providers on two offloads name their slots to their own offload only', () => {
    const a = offload();
    const b = offload();
    const clock = { now: () => 1_000 };
    const keys = () => ({ sendKey: key(), receiveKey: key(), isInitiator: true, localIndex: 700, remoteIndex: 800 });
    const slotA = createNativeKeypairSlots(a, clock).create(keys(), 1_000);
    const slotB = createNativeKeypairSlots(b, clock).create(keys(), 1_000);
    expect(nativeSlotId(slotA, a)).toBeGreaterThanOrEqual(0);
    expect(nativeSlotId(slotA, b)).toBeUndefined();
    expect(nativeSlotId(slotB, a)).toBeUndefined();
    expect(nativeSlotId(slotB, b)).toBeGreaterThanOrEqual(0);
    slotA.zero();
    slotB.zero();
    // Once its offload is closed, a provider hands out JS slots: the link goes on in JS.
    a.close();
    const late = createNativeKeypairSlots(a, clock).create(keys(), 1_000);
    expect(late).toBeInstanceOf(JsKeypairSlot);
    expect(nativeSlotId(late)).toBeUndefined();
  });
});

describe('the fast path, per offload (loopback UDP, link to link)', () => {
  /** Link 5 (the peer at p5, sending to us on slot `rx`) → flow MAC_A → MAC_B → link 6 (the peer at p6, slot `tx`). */
  async function linkToLink(native: NativeOffload) {
    const udp = udpHandle();
    const p5 = await peer();
    const p6 = await peer();
    const toJs: Uint8Array[] = [];
    const onMessage: { hook?: () => void } = {};
    const bytes = new Uint8Array(udp.buffer);
    udp.start(
      (count) => {
        for (let i = 0; i < count; i++) toJs.push(bytes.slice(udp.offsets[i]!, udp.offsets[i]! + udp.lengths[i]!));
        onMessage.hook?.();
      },
      () => {},
    );
    const rxKey = key();
    const txKey = key();
    const rx = native.slotCreate(key(), rxKey, 1111, 2222, Infinity, Infinity, Infinity);
    const tx = native.slotCreate(txKey, key(), 3333, 4444, Infinity, Infinity, Infinity);
    udp.setOffload(native);
    native.configure(1518);
    native.linkSet(5, udp, udp.resolve('127.0.0.1', p5.port)!, rx, rx, -1);
    native.linkSet(6, udp, udp.resolve('127.0.0.1', p6.port)!, tx, -1, -1);
    expect(native.flowInstall(5, MAC_A, MAC_B, 6)).toBeGreaterThan(0);
    // The peers' side of both keypairs, in pure JS.
    const sender = new JsKeypairSlot({ sendKey: rxKey.slice(), receiveKey: key(), isInitiator: false, localIndex: 2222, remoteIndex: 1111 });
    const receiver = new JsKeypairSlot({ sendKey: key(), receiveKey: txKey.slice(), isInitiator: false, localIndex: 4444, remoteIndex: 3333 });
    const send = (message: Uint8Array) => p5.socket.send(message, udp.localPort(), '127.0.0.1');
    return { udp, p5, p6, toJs, onMessage, rxKey, sender, receiver, send };
  }

  it('opens, looks up, seals and sends natively on the offload the handle is attached to, and on no other', async () => {
    const a = offload();
    const t = await linkToLink(a);
    const frame = ethernetFrame(MAC_B, MAC_A, 100);
    const first = t.sender.seal(linkPayload(frame), 1111);
    t.send(first);
    await until('the frame to come out of link 6', () => t.p6.got.length === 1);
    expect(t.toJs).toHaveLength(0); // JS never saw it
    const parsed = parsePacket(new Uint8Array(t.p6.got[0]!));
    expect(parsed.ok).toBe(true);
    const msg = (parsed as { msg: MessageTransport }).msg;
    expect(msg.receiverIndex).toBe(4444);
    const opened = t.receiver.open(msg)!;
    expect(Buffer.from(opened.subarray(0, 3 + frame.length)).equals(Buffer.from(linkPayload(frame)))).toBe(true);
    expect(a.counters()).toMatchObject({ rxHits: 1, rxPunts: 0 });
    const polled = a.poll();
    expect(polled.flows[1]).toBe(1); // one packet on the flow
    expect(polled.slots.length).toBe(16); // both slots carried traffic: rx on 1111, tx on 3333

    // The same message again is a replay, and a message of another type is not the fast path's: both go to JS,
    // nothing goes out. A fresh one takes the fast path again.
    t.send(first);
    t.send(new Uint8Array(first.length));
    await until('the replay and the type-0 message to reach JS', () => t.toJs.length === 2);
    expect(Buffer.from(t.toJs[0]!).equals(Buffer.from(first))).toBe(true);
    t.send(t.sender.seal(linkPayload(frame), 1111));
    await until('the second frame', () => t.p6.got.length === 2);
    expect(a.counters()).toMatchObject({ rxHits: 2, rxPunts: 1 });

    // A second offload with the same ids and the same kind of traffic on its own socket sees only its own.
    const b = offload();
    const u = await linkToLink(b);
    u.send(u.sender.seal(linkPayload(frame), 1111));
    await until('B’s frame', () => u.p6.got.length === 1);
    expect(b.counters().rxHits).toBe(1);
    expect(a.counters().rxHits).toBe(2);
    expect(t.p6.got).toHaveLength(2);
  });

  it('closing the offload under traffic, even from inside the handle’s callback, leaves the handle running without it', async () => {
    const a = offload();
    const t = await linkToLink(a);
    const frame = ethernetFrame(MAC_B, MAC_A, 64);
    t.send(t.sender.seal(linkPayload(frame), 1111));
    await until('the fast path', () => t.p6.got.length === 1);
    // A message the fast path hands to JS (a replay of counter 0: re-sealed by a twin of the sender) closes the
    // offload from inside the UdpHandle's callback.
    const twin = new JsKeypairSlot({ sendKey: t.rxKey.slice(), receiveKey: key(), isInitiator: false, localIndex: 2222, remoteIndex: 1111 });
    t.onMessage.hook = () => a.close();
    t.send(twin.seal(linkPayload(frame), 1111));
    await until('the replay to reach JS', () => t.toJs.length === 1);
    expect(a.isClosed).toBe(true);
    expect(a.counters()).toMatchObject({ flows: 0, slots: 0, links: 0, rxHits: 1 });
    // The handle runs on: what would have been forwarded natively now reaches JS, and nothing goes out.
    t.onMessage.hook = undefined;
    for (let i = 0; i < 5; i++) t.send(t.sender.seal(linkPayload(frame), 1111));
    await until('five more in JS', () => t.toJs.length === 6);
    expect(t.p6.got).toHaveLength(1);
    expect(a.counters().rxHits).toBe(1);
    // It cannot be attached again; the handle can go to another offload, or be closed, as usual.
    expect(() => t.udp.setOffload(a)).toThrow(/closed/);
    const b = offload();
    t.udp.setOffload(b);
    t.udp.setOffload(null);
    t.udp.close();
    a.close(); // idempotent
  });
});

describe('lifetime', () => {
  it('an offload closed with handles still attached detaches them all and empties its tables', () => {
    const a = offload();
    const ioIn = ioHandle();
    const ioOut = ioHandle();
    const udp = udpHandle();
    ioIn.setOffloadPort(a, 1);
    ioOut.setOffloadPort(a, 2);
    udp.setOffload(a);
    const slot = a.slotCreate(key(), key(), 901, 902, Infinity, Infinity, Infinity);
    a.linkSet(3, udp, udp.resolve('127.0.0.1', 9)!, slot, slot, -1);
    expect(a.flowInstall(1, MAC_A, MAC_B, 2)).toBeGreaterThan(0);
    expect(a.flowInstall(1, MAC_A, MAC_A + 1, 3)).toBeGreaterThan(0);
    const seal = a.slotSeal; // a slot function kept apart from its offload
    expect(seal(slot, new Uint8Array(1), new Uint8Array(32 + 1 + 15), 15)).toBe(0);

    a.close();
    expect(a.isClosed).toBe(true);
    expect(a.counters()).toMatchObject({ flows: 0, slots: 0, links: 0 });
    expect(a.poll()).toEqual({ flows: new Float64Array(0), slots: new Float64Array(0) });
    // It answers like an empty offload, and refuses to be attached to.
    expect(a.slotCreate(key(), key(), 1, 2, Infinity, Infinity, Infinity)).toBe(-1);
    expect(seal(slot, new Uint8Array(1), new Uint8Array(32 + 1 + 15), 15)).toBe(-1);
    expect(a.slotSendCounter(slot)).toBe(SEND_COUNTER_LIMIT);
    expect(a.flowInstall(1, MAC_A, MAC_B, 2)).toBe(-1);
    expect(() => a.linkSet(3, udp, udp.resolve('127.0.0.1', 9)!, -1, -1, -1)).toThrow(/closed/);
    expect(() => ioIn.setOffloadPort(a, 1)).toThrow(/closed/);
    expect(() => udp.setOffload(a)).toThrow(/closed/);
    // The handles run on, detached: turning offload off is a no-op, another offload takes them.
    ioIn.setOffloadPort(null, -1);
    udp.setOffload(null);
    expect(ioOut.counters()).toMatchObject({ outgoingIgnored: 0, truncatedFrames: 0, coalescedWrites: 0, vnetDrops: {} });
    const b = offload();
    ioIn.setOffloadPort(b, 1);
    ioOut.setOffloadPort(b, 2);
    expect(b.flowInstall(1, MAC_A, MAC_B, 2)).toBeGreaterThan(0);
    ioIn.close();
    ioOut.close();
    udp.close();
    a.close();
    expect(b.counters().flows).toBe(0); // ioOut's going flushed B's flow
  });

  it('a handle closed first leaves its offload: its flows and links go, the offload lives on', () => {
    const a = offload();
    const ioIn = ioHandle();
    const ioOut = ioHandle();
    const udp = udpHandle();
    ioIn.setOffloadPort(a, 1);
    ioOut.setOffloadPort(a, 2);
    udp.setOffload(a);
    a.linkSet(3, udp, udp.resolve('127.0.0.1', 9)!, -1, -1, -1);
    expect(a.flowInstall(1, MAC_A, MAC_B, 2)).toBeGreaterThan(0);
    expect(a.flowInstall(1, MAC_A, MAC_A + 1, 3)).toBeGreaterThan(0);

    ioOut.close();
    expect(a.counters().flows).toBe(0);
    expect(a.flowInstall(1, MAC_A, MAC_B, 2)).toBe(-1); // port 2 has no output any more
    expect(a.flowInstall(1, MAC_A, MAC_A + 1, 3)).toBeGreaterThan(0);
    udp.close();
    expect(a.counters()).toMatchObject({ flows: 0, links: 0 });
    expect(a.flowInstall(1, MAC_A, MAC_A + 1, 3)).toBe(-1);
    // A closed handle stays detached.
    ioOut.setOffloadPort(a, 2);
    expect(a.flowInstall(1, MAC_A, MAC_B, 2)).toBe(-1);
    a.close();
    ioIn.close();
  });

  it('offloads and handles dropped without close() are collected, and a slot function kept apart stays safe', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    let collected = 0;
    const registry = new FinalizationRegistry(() => void collected++);
    // Made in a plain function: a suspended async function's frame would keep its last locals alive.
    const kept = dropSome(20, (native, i) => registry.register(native, i));
    const sealWithKept = () => kept(0, new Uint8Array(1), new Uint8Array(16 + 1 + 15 + 16), 15);
    expect(sealWithKept()).toBe(0); // the first offload's slot 0, alive
    // The handles point at their offloads, not the other way round: once the handles go, so do the offloads (the
    // kept function does not hold its offload either). Its C++ side goes in the addon's finalizer, after which the
    // kept function answers as for a closed offload.
    for (let round = 0; round < 50 && (collected < 20 || sealWithKept() !== -1); round++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(collected).toBe(20);
    expect(sealWithKept()).toBe(-1);
  });
});

describe('wrong objects', () => {
  it('anything but a NativeOffload where one is expected is a TypeError, never a cast', () => {
    const a = offload();
    const io = ioHandle();
    const udp = udpHandle();
    const forged = Object.create(Object.getPrototypeOf(a) as object) as NativeOffload;
    for (const wrong of [{}, io, udp, forged, 7, 'offload']) {
      expect(() => ioHandle().setOffloadPort(wrong as unknown as NativeOffload, 1)).toThrow(TypeError);
      expect(() => udp.setOffload(wrong as unknown as NativeOffload)).toThrow(TypeError);
    }
    // NativeOffload methods on anything else (V8's receiver check, then the type tag).
    const proto = Object.getPrototypeOf(a) as Record<string, (this: unknown, ...args: unknown[]) => unknown>;
    expect(() => proto['flowInstall']!.call(io, 1, MAC_A, MAC_B, 2)).toThrow(TypeError);
    expect(() => proto['counters']!.call({})).toThrow(TypeError);
    expect(() => proto['close']!.call(forged)).toThrow(TypeError);
    expect(() => proto['linkSet']!.call(udp, 1, udp, udp.resolve('127.0.0.1', 9), -1, -1, -1)).toThrow(TypeError);
    // A NativeOffload method is not an IoHandle's.
    const ioProto = (addon.IoHandle as unknown as { prototype: Record<string, (this: unknown, ...args: unknown[]) => unknown> }).prototype;
    expect(() => ioProto['setOffloadPort']!.call(a, a, 1)).toThrow(TypeError);
    // Nothing was attached anywhere by the failed calls.
    expect(a.counters()).toMatchObject({ flows: 0, links: 0 });
    expect(a.flowInstall(1, MAC_A, MAC_B, 1 + 1)).toBe(-1);
  });
});

describe('a worker thread', () => {
  it('has its own offloads (and AEAD contexts): nothing it does is seen here, and its exit with everything attached is safe', async () => {
    const main = offload();
    const mainIn = ioHandle();
    const mainOut = ioHandle();
    mainIn.setOffloadPort(main, 1);
    mainOut.setOffloadPort(main, 2);
    expect(main.flowInstall(1, MAC_A, MAC_B, 2)).toBeGreaterThan(0);
    const mainSlot = main.slotCreate(key(), key(), 4242, 1, Infinity, Infinity, Infinity);
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const { openSync } = require('node:fs');
      const a = require(workerData.path);
      const io = () => new a.IoHandle(openSync('/dev/null', 'r+'), false, 8, 1518);
      const pre = io(); // made before the offload: teardown order is not creation order
      const o = a.createOffload();
      pre.setOffloadPort(o, 1);
      const out = io(); out.setOffloadPort(o, 2);
      const u = new a.UdpHandle('127.0.0.1', 0, 4, 2048, 0, 0); u.setOffload(o);
      const k = new Uint8Array(32).fill(3);
      const slot = o.slotCreate(k, k, 4242, 1, Infinity, Infinity, Infinity);
      o.linkSet(3, u, u.resolve('127.0.0.1', 9), slot, slot, -1);
      o.flowInstall(1, ${MAC_A}, ${MAC_B}, 2);
      o.flowInstall(1, ${MAC_A}, ${MAC_B + 1}, 3);
      const sealed = new Uint8Array(32 + 4 + 12);
      const counter = o.slotSeal(slot, new Uint8Array(4), sealed, 12);
      const boxed = new Uint8Array(16 + 4);
      const aead = a.aeadSeal(k, 0, 0, new Uint8Array(4), new Uint8Array(0), boxed, 0, 0);
      o.flush(); o.flowInstall(1, ${MAC_A}, ${MAC_B}, 2);
      parentPort.postMessage({ slot, counter, aead, counters: o.counters() });
      // Exits with the handles attached, a link and a flow in place and nothing closed.
    `;
    for (let run = 0; run < 3; run++) {
      const worker = new Worker(code, { eval: true, workerData: { path: addonPath() } });
      const message = (await new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      })) as { slot: number; counter: number; aead: boolean; counters: Record<string, number> };
      const exitCode = await new Promise((resolve) => worker.once('exit', resolve));
      expect(exitCode).toBe(0);
      expect(message).toMatchObject({ slot: 0, counter: 0, aead: true });
      expect(message.counters).toMatchObject({ flows: 1, slots: 1, links: 1, installs: 3, flushes: 1 });
    }
    // The main thread's offload saw none of it.
    expect(main.counters()).toMatchObject({ flows: 1, slots: 1, links: 0, installs: 1, flushes: 0 });
    expect(main.slotSendCounter(mainSlot)).toBe(0);
    expect(main.flowInstall(1, MAC_A, MAC_B, 2)).toBeGreaterThan(0);
  });
});

/**
 * Makes `count` offloads, each with an IoHandle and a UdpHandle attached, a slot, a link and a flow, and drops them
 * all without close() (half of the sockets closed first); returns the first one's slotSeal, kept apart from it.
 */
function dropSome(count: number, made: (native: NativeOffload, i: number) => void): NativeOffload['slotSeal'] {
  let kept: NativeOffload['slotSeal'] | undefined;
  for (let i = 0; i < count; i++) {
    const native = addon.createOffload();
    made(native, i);
    const io = new addon.IoHandle(openSync('/dev/null', 'r+'), false, 8, 1518);
    io.setOffloadPort(native, 1);
    const udp = new addon.UdpHandle('127.0.0.1', 0, 4, 2048, 0, 0);
    udp.setOffload(native);
    const slot = native.slotCreate(key(), key(), 10 + i, 1, Infinity, Infinity, Infinity);
    native.linkSet(2, udp, udp.resolve('127.0.0.1', 9)!, slot, slot, -1);
    native.flowInstall(1, MAC_A, MAC_B, 2);
    if (i % 2 === 0) udp.close(); // half of them with the socket closed (its fd freed), the others only dropped
    if (i === 0) kept = native.slotSeal;
  }
  return kept!;
}

/** The addon file loadAddon() loaded (the worker requires it itself). */
function addonPath(): string {
  return process.env['VSWITCH_NATIVE_ADDON'] ?? new URL('../../build/Release/vswitch_native.node', import.meta.url).pathname;
}

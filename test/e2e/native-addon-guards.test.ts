/**
 * The addon's guards, called directly (no namespaces, no TAP: IoHandles over /dev/null fds that are never
 * started, a UdpHandle on 127.0.0.1 port 0). Loads the built addon, so it is an e2e test.
 *
 *   - A wrapped object is what it claims to be: linkSet given anything else as its UdpHandle — another
 *     wrapped class (an IoHandle), a plain object, a forged prototype — throws a TypeError, checked by Node-API
 *     type tag, instead of reinterpreting that object's memory. (Methods called on a foreign `this` are refused
 *     by V8 already, "Illegal invocation", since napi_define_class gives them a receiver check; the type tag,
 *     which every T::Unwrap now checks, is a second guard there.)
 *   - Registering a port id to a second IoHandle flushes the flows (they pointed at the first handle's output),
 *     and the first handle closing later does not take the port id from the second.
 */
import { openSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { loadAddon, type NativeIoHandle, type NativeOffload, type NativeUdpHandle } from '../../switch/port/addon.js';

const addon = loadAddon();
const native: NativeOffload = addon.createOffload();
const MAC_A = 0x02_00_c6_13_01_01;
const MAC_B = 0x02_00_c6_13_02_01;

const open: { close(): void }[] = [];
afterEach(() => {
  while (open.length) open.pop()!.close();
});

function ioHandle(): NativeIoHandle {
  const handle = new addon.IoHandle(openSync('/dev/null', 'r+'), false, 8, 1518);
  open.push(handle);
  return handle;
}

function udpHandle(): NativeUdpHandle {
  const handle = new addon.UdpHandle('127.0.0.1', 0, 8, 2048, 0, 0);
  open.push(handle);
  return handle;
}

type Method = (this: unknown, ...args: unknown[]) => unknown;
const method = (cls: unknown, name: string): Method => (cls as { prototype: Record<string, Method> }).prototype[name]!;

describe('addon type tags', () => {
  it('linkSet refuses an IoHandle, a plain object and a forged UdpHandle as its UdpHandle, with a TypeError', () => {
    const udp = udpHandle();
    udp.setOffload(native);
    const sockaddr = udp.resolve('127.0.0.1', 9)!;
    const before = native.counters().links;
    const forged = Object.create((addon.UdpHandle as unknown as { prototype: object }).prototype) as NativeUdpHandle;
    for (const wrong of [ioHandle(), {}, forged]) {
      expect(() => native.linkSet(901, wrong as unknown as NativeUdpHandle, sockaddr, -1, -1, -1)).toThrow(TypeError);
    }
    expect(() => native.linkSet(901, udp, new Uint16Array(8) as unknown as Uint8Array, -1, -1, -1)).toThrow(TypeError);
    expect(native.counters().links).toBe(before);
    // The real one is taken.
    native.linkSet(901, udp, sockaddr, -1, -1, -1);
    expect(native.counters().links).toBe(before + 1);
    native.linkRemove(901);
  });

  it('a UdpHandle or IoHandle method called on anything else throws a TypeError', () => {
    const io = ioHandle();
    const udp = udpHandle();
    expect(() => method(addon.UdpHandle, 'localPort').call(io)).toThrow(TypeError);
    expect(() => method(addon.UdpHandle, 'counters').call({})).toThrow(TypeError);
    expect(() => method(addon.IoHandle, 'counters').call(udp)).toThrow(TypeError);
    expect(() => method(addon.IoHandle, 'setOffloadPort').call(udp, native, 5)).toThrow(TypeError);
    // On their own kind they work.
    expect(method(addon.UdpHandle, 'localPort').call(udp)).toBeGreaterThan(0);
    expect(method(addon.IoHandle, 'counters').call(io)).toEqual({
      outgoingIgnored: 0,
      truncatedFrames: 0,
      vnetDrops: {},
      vnetWriteDrops: {},
      coalescedWrites: 0,
      coalescedFrames: 0,
    });
  });
});

describe('offload port registration', () => {
  it('registering a port id to a second handle flushes the flows that went out of the first', () => {
    native.flush();
    const a = ioHandle();
    const b = ioHandle();
    const other = ioHandle();
    a.setOffloadPort(native, 907);
    other.setOffloadPort(native, 908);
    expect(native.flowInstall(908, MAC_A, MAC_B, 907)).toBeGreaterThan(0);
    const before = native.counters();
    expect(before.flows).toBe(1);

    b.setOffloadPort(native, 907);
    const after = native.counters();
    expect(after.flows).toBe(0);
    expect(after.flushes).toBe(before.flushes + 1);

    // The same handle again under the same id changes nothing.
    expect(native.flowInstall(908, MAC_A, MAC_B, 907)).toBeGreaterThan(0);
    b.setOffloadPort(native, 907);
    expect(native.counters().flows).toBe(1);
  });

  it('the first handle closing afterwards leaves the port id to the second', () => {
    native.flush();
    const a = ioHandle();
    const b = ioHandle();
    a.setOffloadPort(native, 917);
    b.setOffloadPort(native, 917);
    a.close();
    expect(native.flowInstall(918, MAC_A, MAC_B, 917)).toBeGreaterThan(0); // 917 still has an output: b
    b.close();
    expect(native.counters().flows).toBe(0); // b's going flushed its flow
    expect(native.flowInstall(918, MAC_A, MAC_B, 917)).toBe(-1);
  });
});

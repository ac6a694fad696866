/**
 * How the addon's { errno, syscall } failures become typed port errors: a refusal that a capability would lift names
 * the capability (and whether this process lacks it); a refusal that no capability lifts (the device node's mode, a
 * sandbox) says what does.
 */
import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import { captureOpenError, tapOpenError, type NativeFailure } from '../../../switch/port/port-errors.js';
import type { CapabilityName } from '../../../switch/port/capabilities.js';

const errno = constants.errno;
const failure = (name: keyof typeof errno, syscall: string): NativeFailure => ({ errno: errno[name], syscall });
const none = new Set<CapabilityName>();
const netAdmin = new Set<CapabilityName>(['CAP_NET_ADMIN']);

describe('tapOpenError', () => {
  it('EPERM from creating the TAP needs CAP_NET_ADMIN, which this process lacks', () => {
    const err = tapOpenError(failure('EPERM', 'ioctl(TUNSETIFF)'), 'tap-x', undefined, { capabilities: none });
    expect(err).toMatchObject({ name: 'TapPermissionError', code: 'tap-permission', capability: 'CAP_NET_ADMIN', isCapabilityMissing: true, device: 'tap-x' });
    expect(err.message).toContain('cannot create TAP device: needs CAP_NET_ADMIN, which this process lacks');
    expect(err.message).toContain('(tap-x)');
  });

  it('names the step that was refused: create, attach, MTU, up', () => {
    const step = (syscall: string, create = true): string =>
      tapOpenError(failure('EPERM', syscall), 'tap-x', undefined, { create, capabilities: none }).message.split(':')[0]!;
    expect(step('ioctl(TUNSETIFF)')).toBe('cannot create TAP device');
    expect(step('ioctl(TUNSETIFF)', false)).toBe('cannot attach to TAP device');
    expect(step('ioctl(SIOCSIFMTU)')).toBe('cannot set the MTU of TAP device');
    expect(step('ioctl(SIOCSIFFLAGS)')).toBe('cannot bring TAP device up');
  });

  it('EPERM with CAP_NET_ADMIN held is still a permission error, saying something else refused', () => {
    const err = tapOpenError(failure('EPERM', 'ioctl(TUNSETIFF)'), 'tap-x', undefined, { capabilities: netAdmin });
    expect(err).toMatchObject({ code: 'tap-permission', isCapabilityMissing: false });
  });

  it('without knowing the process capabilities, says only what is needed', () => {
    expect(tapOpenError(failure('EPERM', 'ioctl(TUNSETIFF)'), 'tap-x')).toMatchObject({ code: 'tap-permission', isCapabilityMissing: undefined });
  });

  it('a refused /dev/net/tun is its mode or a device policy, not a capability', () => {
    for (const name of ['EPERM', 'EACCES'] as const) {
      expect(tapOpenError(failure(name, 'open(/dev/net/tun)'), 'tap-x', undefined, { capabilities: none })).toMatchObject({
        name: 'TunDeviceAccessError',
        code: 'tun-device-access',
      });
    }
  });

  it('a missing /dev/net/tun (or driver) is TunDeviceMissingError', () => {
    for (const name of ['ENOENT', 'ENODEV', 'ENXIO'] as const) {
      expect(tapOpenError(failure(name, 'open(/dev/net/tun)'), 'tap-x')).toMatchObject({ code: 'tun-device-missing' });
    }
  });

  it('keeps the other mappings', () => {
    expect(tapOpenError(failure('EBUSY', 'ioctl(TUNSETIFF)'), 'tap-x')).toMatchObject({ code: 'tap-name-taken' });
    expect(tapOpenError(failure('EINVAL', 'ioctl(TUNSETIFF)'), 'lo')).toMatchObject({ code: 'tap-name-taken' });
    expect(tapOpenError(failure('ENODEV', 'ioctl(SIOCGIFINDEX)'), 'tap-x')).toMatchObject({ code: 'interface-not-found' });
    expect(tapOpenError(failure('EINVAL', 'ifname'), 'tap-x')).toMatchObject({ code: 'interface-name-invalid' });
    expect(tapOpenError(failure('EIO', 'ioctl(SIOCSIFMTU)'), 'tap-x')).toMatchObject({ code: 'port-open-failed' });
  });
});

describe('captureOpenError', () => {
  it('EPERM from the packet socket needs CAP_NET_RAW, which this process lacks', () => {
    const err = captureOpenError(failure('EPERM', 'socket(AF_PACKET)'), 'veth0', undefined, netAdmin);
    expect(err).toMatchObject({ name: 'CapturePermissionError', code: 'capture-permission', capability: 'CAP_NET_RAW', isCapabilityMissing: true });
    expect(err.message).toContain('cannot open packet socket: needs CAP_NET_RAW, which this process lacks');
  });

  it('EAFNOSUPPORT from the packet socket is a refused address family (a sandbox), not a capability', () => {
    expect(captureOpenError(failure('EAFNOSUPPORT', 'socket(AF_PACKET)'), 'veth0')).toMatchObject({
      name: 'PacketSocketsRefusedError',
      code: 'packet-sockets-refused',
    });
  });

  it('keeps the other mappings', () => {
    expect(captureOpenError(failure('ENODEV', 'ioctl(SIOCGIFINDEX)'), 'veth0')).toMatchObject({ code: 'interface-not-found' });
    expect(captureOpenError(failure('ENETDOWN', 'ioctl(SIOCGIFFLAGS)'), 'veth0')).toMatchObject({ code: 'interface-down' });
  });
});

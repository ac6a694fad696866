/**
 * Typed errors of the device ports (TAP, capture). The addon throws or reports
 * a bare `{ errno, syscall }`; these helpers turn it into one VswitchError per
 * failure the daemon can act on, with the message "<what>: <why> (<device>)"
 * and the addon's error as `cause`.
 */
import { constants as osConstants } from 'node:os';
import { VswitchError } from '../errors.js';

/** What the addon reports: an errno value and the call that failed. */
export interface NativeFailure {
  errno: number;
  syscall: string;
}

export interface DeviceErrorInit {
  /** Interface name (TAP or captured interface). */
  device: string;
  errno?: number;
  syscall?: string;
  cause?: unknown;
}

/** Base of every port error: the device, and the errno when one is known. */
export abstract class PortDeviceError extends VswitchError {
  readonly device: string;
  readonly errno: number | undefined;
  readonly syscall: string | undefined;

  constructor(code: string, what: string, why: string, init: DeviceErrorInit) {
    super(code, `${what}: ${why}${describeErrno(init)} (${init.device})`, { cause: init.cause });
    this.device = init.device;
    this.errno = init.errno;
    this.syscall = init.syscall;
  }
}

export class TapPermissionError extends PortDeviceError {
  constructor(init: DeviceErrorInit) {
    super('tap-permission', 'cannot open TAP device', 'needs CAP_NET_ADMIN', init);
  }
}

export class CapturePermissionError extends PortDeviceError {
  constructor(init: DeviceErrorInit) {
    super('capture-permission', 'cannot open packet socket', 'needs CAP_NET_RAW', init);
  }
}

export class TapNameTakenError extends PortDeviceError {
  constructor(init: DeviceErrorInit, why = 'the name belongs to another device or to a TAP open elsewhere') {
    super('tap-name-taken', 'cannot create TAP device', why, init);
  }
}

export class InvalidInterfaceNameError extends PortDeviceError {
  constructor(init: DeviceErrorInit) {
    super('interface-name-invalid', 'bad interface name', 'must be 1-15 characters, no "/", ":" or whitespace', init);
  }
}

export class InterfaceNotFoundError extends PortDeviceError {
  constructor(init: DeviceErrorInit) {
    super('interface-not-found', 'cannot open interface', 'no such interface', init);
  }
}

export class InterfaceDownError extends PortDeviceError {
  constructor(init: DeviceErrorInit) {
    super('interface-down', 'interface unusable', 'the interface is down', init);
  }
}

export class DeviceGoneError extends PortDeviceError {
  constructor(init: DeviceErrorInit) {
    super('device-gone', 'device I/O failed', 'the device is gone', init);
  }
}

/** Any other failure to open a device (no /dev/net/tun, bad MTU, ...). */
export class PortOpenError extends PortDeviceError {
  constructor(init: DeviceErrorInit) {
    super('port-open-failed', 'cannot open device', 'the kernel refused', init);
  }
}

/** Any other read/write failure at run time. */
export class PortIoError extends PortDeviceError {
  constructor(init: DeviceErrorInit) {
    super('port-io', 'device I/O failed', 'unexpected error', init);
  }
}

export class AddonUnavailableError extends VswitchError {
  constructor(path: string, cause: unknown) {
    super('addon-unavailable', `cannot load the native port addon: run \`node-gyp rebuild\` (${path})`, { cause });
  }
}

const ERRNO = osConstants.errno as Record<string, number>;
const ERRNO_NAMES = new Map<number, string>(Object.entries(ERRNO).map(([name, value]) => [value, name]));
// Node's table lacks EBADFD (a Linux-only value).
const EBADFD = 77;

/** Errno name for a value, e.g. 1 → "EPERM". */
export function errnoName(errno: number): string {
  if (errno === EBADFD) return 'EBADFD';
  return ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
}

function describeErrno(init: DeviceErrorInit): string {
  if (init.errno === undefined) return '';
  return init.syscall ? ` [${errnoName(init.errno)} from ${init.syscall}]` : ` [${errnoName(init.errno)}]`;
}

/** True for an Error thrown by the addon with errno and syscall attached. */
export function isNativeFailure(value: unknown): value is Error & NativeFailure {
  return (
    value instanceof Error &&
    typeof (value as Partial<NativeFailure>).errno === 'number' &&
    typeof (value as Partial<NativeFailure>).syscall === 'string'
  );
}

const is = (failure: NativeFailure, ...names: string[]): boolean =>
  names.some((name) => (name === 'EBADFD' ? failure.errno === EBADFD : ERRNO[name] === failure.errno));

function initOf(failure: NativeFailure, device: string, cause: unknown): DeviceErrorInit {
  return { device, errno: failure.errno, syscall: failure.syscall, cause };
}

/** Maps a failure of `openTap` to its typed error. */
export function tapOpenError(failure: NativeFailure, device: string, cause?: unknown): PortDeviceError {
  const init = initOf(failure, device, cause);
  if (is(failure, 'EPERM', 'EACCES')) return new TapPermissionError(init);
  if (failure.syscall === 'ifname') return new InvalidInterfaceNameError(init);
  if (is(failure, 'EBUSY')) return new TapNameTakenError(init, 'a TAP of this name is open in another process');
  // TUNSETIFF answers EINVAL when the name exists and is not a TAP (e.g. "lo").
  if (is(failure, 'EINVAL') && failure.syscall === 'ioctl(TUNSETIFF)') {
    return new TapNameTakenError(init, 'the name belongs to a device that is not a TAP');
  }
  if (is(failure, 'ENODEV')) return new InterfaceNotFoundError(init);
  return new PortOpenError(init);
}

/** Maps a failure of `openPacket` to its typed error. */
export function captureOpenError(failure: NativeFailure, device: string, cause?: unknown): PortDeviceError {
  const init = initOf(failure, device, cause);
  if (is(failure, 'EPERM', 'EACCES')) return new CapturePermissionError(init);
  if (failure.syscall === 'ifname') return new InvalidInterfaceNameError(init);
  if (is(failure, 'ENODEV', 'ENXIO')) return new InterfaceNotFoundError(init);
  if (is(failure, 'ENETDOWN')) return new InterfaceDownError(init);
  return new PortOpenError(init);
}

/** Maps a read/write failure at run time to its typed error. */
export function deviceIoError(failure: NativeFailure, device: string): PortDeviceError {
  const init = initOf(failure, device, undefined);
  if (is(failure, 'EBADFD', 'EBADF', 'ENODEV', 'ENXIO', 'EIO')) return new DeviceGoneError(init);
  if (is(failure, 'ENETDOWN')) return new InterfaceDownError(init);
  return new PortIoError(init);
}

const INTERFACE_NAME = /^[^\s/:]{1,15}$/;

/** Linux interface names: at most IFNAMSIZ - 1 = 15 bytes, no '/', ':' or whitespace. */
export function checkInterfaceName(name: string): void {
  if (!INTERFACE_NAME.test(name) || Buffer.byteLength(name) > 15 || name === '.' || name === '..') {
    throw new InvalidInterfaceNameError({ device: name });
  }
}

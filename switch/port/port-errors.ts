/**
 * Typed errors of the device ports (TAP, capture). The addon throws or reports
 * a bare `{ errno, syscall }`; these helpers turn it into one VswitchError per
 * failure the daemon can act on, with the message "<what>: <why> (<device>)"
 * and the addon's error as `cause`.
 */
import { constants as osConstants } from 'node:os';
import { VswitchError } from '../errors.js';
import { needsCapability, type CapabilityName } from './capabilities.js';

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

/**
 * The kernel answered EPERM to an operation that needs a capability. `capability` names it; `isCapabilityMissing`
 * says whether this process lacks it (undefined when /proc could not tell), and the message says both.
 */
abstract class CapabilityError extends PortDeviceError {
  readonly isCapabilityMissing: boolean | undefined;

  constructor(code: string, what: string, readonly capability: CapabilityName, init: CapabilityErrorInit) {
    super(code, what, needsCapability(capability, init.capabilities), init);
    this.isCapabilityMissing = init.capabilities === undefined ? undefined : !init.capabilities.has(capability);
  }
}

export interface CapabilityErrorInit extends DeviceErrorInit {
  /** This process's effective capabilities (capabilities.ts processCapabilities()); undefined: unknown. */
  capabilities?: ReadonlySet<CapabilityName> | undefined;
}

/** Creating (or attaching to) a TAP, setting its MTU or bringing it up needs CAP_NET_ADMIN. */
export class TapPermissionError extends CapabilityError {
  constructor(init: CapabilityErrorInit, what = 'cannot create TAP device') {
    super('tap-permission', what, 'CAP_NET_ADMIN', init);
  }
}

/** A capture port's packet socket needs CAP_NET_RAW. */
export class CapturePermissionError extends CapabilityError {
  constructor(init: CapabilityErrorInit) {
    super('capture-permission', 'cannot open packet socket', 'CAP_NET_RAW', init);
  }
}

/** /dev/net/tun exists but this process may not open it: not a capability, the file's mode or a device policy. */
export class TunDeviceAccessError extends PortDeviceError {
  constructor(init: DeviceErrorInit) {
    super(
      'tun-device-access',
      'cannot open /dev/net/tun',
      'this process may not open it: the file mode, or a device policy (systemd: DevicePolicy= needs DeviceAllow=/dev/net/tun rw)',
      init,
    );
  }
}

/** No /dev/net/tun, or no TUN/TAP driver behind it. */
export class TunDeviceMissingError extends PortDeviceError {
  constructor(init: DeviceErrorInit) {
    super(
      'tun-device-missing',
      'cannot open /dev/net/tun',
      'no TUN/TAP device here: load the tun module (modprobe tun); systemd\'s PrivateDevices=yes hides it',
      init,
    );
  }
}

/** socket(AF_PACKET) refused as a family (EAFNOSUPPORT): a sandbox's address-family list, or a kernel without it. */
export class PacketSocketsRefusedError extends PortDeviceError {
  constructor(init: DeviceErrorInit) {
    super(
      'packet-sockets-refused',
      'cannot open packet socket',
      'packet sockets are refused here (systemd: RestrictAddressFamilies= must list AF_PACKET)',
      init,
    );
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
    super('addon-unavailable', `cannot load the native port addon: build it (\`npm rebuild -g vswitch\` where vswitch is installed, \`npm run install\` in a checkout) (${path})`, { cause });
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

export interface TapFailureContext {
  /** The port was to create the TAP (default) rather than attach to an existing persistent one. */
  create?: boolean;
  /** This process's effective capabilities, for EPERM (capabilities.ts processCapabilities()). */
  capabilities?: ReadonlySet<CapabilityName> | undefined;
}

/** What each step of opening a TAP (netdev.cc OpenTap) was doing, for an EPERM's message. */
function tapStep(syscall: string, create: boolean): string {
  switch (syscall) {
    case 'ioctl(SIOCSIFMTU)':
      return 'cannot set the MTU of TAP device';
    case 'ioctl(SIOCSIFFLAGS)':
      return 'cannot bring TAP device up';
    default:
      return create ? 'cannot create TAP device' : 'cannot attach to TAP device';
  }
}

/** Maps a failure of `openTap` to its typed error. */
export function tapOpenError(failure: NativeFailure, device: string, cause?: unknown, context: TapFailureContext = {}): PortDeviceError {
  const init = initOf(failure, device, cause);
  if (failure.syscall === 'open(/dev/net/tun)') {
    if (is(failure, 'EPERM', 'EACCES')) return new TunDeviceAccessError(init);
    if (is(failure, 'ENOENT', 'ENODEV', 'ENXIO')) return new TunDeviceMissingError(init);
    return new PortOpenError(init);
  }
  if (is(failure, 'EPERM', 'EACCES')) {
    return new TapPermissionError({ ...init, capabilities: context.capabilities }, tapStep(failure.syscall, context.create ?? true));
  }
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
export function captureOpenError(
  failure: NativeFailure,
  device: string,
  cause?: unknown,
  capabilities?: ReadonlySet<CapabilityName>,
): PortDeviceError {
  const init = initOf(failure, device, cause);
  if (is(failure, 'EPERM', 'EACCES')) return new CapturePermissionError({ ...init, capabilities });
  if (is(failure, 'EAFNOSUPPORT') && failure.syscall === 'socket(AF_PACKET)') return new PacketSocketsRefusedError(init);
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

/**
 * The VNET primitives (Virtuoso paper §2.1): add and delete a link, add and
 * delete a forwarding rule, list interfaces, links and rules, and set the
 * upper bound on configuration time — and, as `ovs-vsctl add-port` does for
 * Open vSwitch, add and delete a port (a TAP, or a captured interface such as
 * the TAP QEMU made for a VM) at run time. One interface, two implementations:
 * LocalPrimitives acts on this daemon; on the Proxy, RelayedPrimitives runs
 * them on a named host over the control channel. The HTTP API and the CLI are
 * thin layers over it, and every change carries the actor that asked for it
 * (for the log, and for ownership once plugins arrive).
 */
import { VswitchError, type FieldProblem } from '../errors.js';
import type { LinkStatus } from '../link/link-manager.js';

export interface InterfaceView {
  name: string;
  kind: 'tap' | 'capture' | 'memory' | 'link';
  state: 'up' | 'down';
  lastError?: string;
  rxFrames: number;
  rxBytes: number;
  txFrames: number;
  txBytes: number;
  drops: Record<string, number>;
}

/**
 * A port as `GET /v1/ports` lists it: an interface (links too, kind "link") with who added it and, for a capture
 * port, the Linux interface it captures.
 */
export interface PortView extends InterfaceView {
  /** "config" for the config's ports and links, else the actor that added it ("local", a token's name, "proxy:…"). */
  owner: string;
  /** A capture port: the interface it is attached to. */
  interface?: string;
}

/**
 * A port to add at run time: a TAP the daemon creates (`tap`), or an existing interface attached by packet capture
 * (`capture`) — how a VM's TAP that QEMU or libvirt created is attached, from its host side, as a bridge would.
 */
export interface PortInput {
  /** The switch port's name (a TAP: the device's name), a Linux interface name: 1 to 15 bytes (IFNAMSIZ). */
  name: string;
  type: 'tap' | 'capture';
  /** capture (required): the existing interface to attach. */
  interface?: string;
  /** tap: the device's MTU in bytes (default 1500). A captured interface keeps its own (set it with `ip link`). */
  mtu?: number;
  /** capture: receive frames for every MAC (default true; a VM's NIC has its own MAC, so it must be). */
  promiscuous?: boolean;
}

export interface RuleView {
  id: number;
  /** A MAC (lower-case, colon form) or "any". */
  src: string;
  /** A MAC, "any", or "none" (the default rule). */
  dst: string;
  /** The port or link the frame leaves by. */
  target: string;
  priority: number;
  owner: string;
  hitFrames: number;
  hitBytes: number;
}

/** One MAC learning table entry, as `GET /v1/macs` lists it. */
export interface MacView {
  mac: string;
  port: string;
  static: boolean;
  ageS: number;
}

export interface RuleInput {
  src: string;
  dst: string;
  target: string;
  priority?: number;
}

export interface LinkInput {
  name: string;
  /** Base64 Curve25519 public key of the peer daemon. */
  publicKey: string;
  /** "IP:PORT" for UDP (and TCP unless tcpEndpoint is given). */
  endpoint?: string;
  tcpEndpoint?: string;
  transport?: 'udp' | 'tcp' | 'auto';
  persistentKeepaliveS?: number;
  /**
   * Re-create the link this daemon last deleted under this name, to the same key, exactly as it was — pre-shared
   * key, keepalive, endpoints, transport mode and owner (topology apply's undo). Without such a deleted link, the
   * input is added as given. Not in the HTTP API (in-process callers and the Proxy's relay only); a policy may
   * restore only a link it owned.
   */
  restore?: boolean;
}

export interface Actor {
  /** Who asked: a token's name, "cli", "proxy", a plugin's name. */
  name: string;
}

export interface Primitives {
  interfaces(): Promise<InterfaceView[]>;
  links(): Promise<LinkStatus[]>;
  addLink(input: LinkInput, actor: Actor): Promise<LinkStatus>;
  deleteLink(name: string, actor: Actor): Promise<void>;
  rules(): Promise<RuleView[]>;
  addRule(input: RuleInput, actor: Actor): Promise<RuleView>;
  deleteRule(id: number, actor: Actor): Promise<void>;
  configTimeBound(): Promise<{ upperBoundMs: number }>;
  setConfigTimeBound(upperBoundMs: number, actor: Actor): Promise<{ upperBoundMs: number }>;
  /** Every port (links too, kind "link") with counters, owner and, for capture ports, the interface. */
  ports(): Promise<PortView[]>;
  /** Adds a TAP or capture port; checked whole before anything opens (400/409 naming the field). */
  addPort(input: PortInput, actor: Actor): Promise<PortView>;
  /** Deletes a TAP or capture port: its MACs are forgotten and its flows flushed at once. */
  deletePort(name: string, actor: Actor): Promise<void>;
  /** The MAC learning table (read-only; for `topology route`). Optional: older implementations lack it. */
  macs?(): Promise<MacView[]>;
}

/** A primitive named something that does not exist (a link, a rule, a host). HTTP 404. */
export class NotFoundError extends VswitchError {
  constructor(what: string, name: string | number) {
    super('not-found', `${what} ${JSON.stringify(name)} does not exist`, { httpStatus: 404 });
  }
}

/** The change conflicts with what exists (a link name taken, an equal rule). HTTP 409. */
export class ConflictError extends VswitchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('conflict', message, { ...options, httpStatus: 409 });
  }
}

/** The input is well-formed JSON but means nothing valid (a bad MAC, a bad key). HTTP 400 naming the field. */
export class InvalidInputError extends VswitchError {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super('invalid-input', `${field}: ${problem}`, { httpStatus: 400 });
  }

  override fieldErrors(): FieldProblem[] {
    return [{ field: `/body/${this.field}`, message: this.message }];
  }
}

/**
 * The change would remove the star — a host's link to its Proxy (either end) or its default rule (owner "star"):
 * the control path, which nothing may cut through the primitives (change the daemons' configs instead). HTTP 409.
 */
export class StarProtectedError extends VswitchError {
  constructor(message: string) {
    super('star-protected', message, { httpStatus: 409 });
  }
}

/**
 * A port cannot be deleted while rules that are not a policy's send frames to it (they would be kept and silently
 * skipped): HTTP 409 naming the rules, which the operator deletes first. `rules` are their ids.
 */
export class PortInUseError extends VswitchError {
  constructor(
    readonly port: string,
    readonly rules: readonly number[],
  ) {
    super('port-in-use', `port "${port}" is the target of rule${rules.length === 1 ? '' : 's'} ${rules.join(', ')}: delete ${rules.length === 1 ? 'it' : 'them'} first (vswitch rule del ID)`, {
      httpStatus: 409,
    });
  }
}

/**
 * The device under a port could not be opened (switch/port/port-errors.ts), as the API says it: the device error's
 * own code ("tap-name-taken", "capture-permission", "interface-name-invalid"…) and message, with the status of who
 * can fix it — 400 naming the field for a bad name, 403 when the daemon lacks a capability, 409 when the host's
 * state refuses (a name taken, the kernel said no). Never a 500: the cause is known.
 */
export class PortOpenRefusedError extends VswitchError {
  constructor(
    code: string,
    message: string,
    httpStatus: 400 | 403 | 409,
    readonly field?: string,
    cause?: unknown,
  ) {
    super(code, message, { httpStatus, cause });
  }

  override fieldErrors(): FieldProblem[] | undefined {
    return this.field === undefined ? undefined : [{ field: `/body/${this.field}`, message: this.message }];
  }
}

/**
 * A policy asked for what only an operator may (a priority above the policies' band, a link to a key that is not a
 * peer of the overlay): HTTP 403 naming the field.
 */
export class PolicyLimitError extends VswitchError {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super('policy-forbidden', `${field}: ${problem}`, { httpStatus: 403 });
  }

  override fieldErrors(): FieldProblem[] {
    return [{ field: `/body/${this.field}`, message: this.message }];
  }
}

/**
 * A relayed primitive could not reach its host, the host did not answer in time, or answered with something that is
 * not what the primitive returns ('host-invalid-answer'). HTTP 502/504.
 */
export class RelayError extends VswitchError {
  constructor(code: 'host-unreachable' | 'host-timeout' | 'host-invalid-answer', message: string) {
    super(code, message, { httpStatus: code === 'host-timeout' ? 504 : 502 });
  }
}

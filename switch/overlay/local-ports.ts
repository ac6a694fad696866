/**
 * The port primitives on this daemon: list, add and delete TAP and capture ports at run time, as
 * `ovs-vsctl add-port` / `ip link set master` do for Open vSwitch and the Linux bridge. A VM manager calls them:
 * QEMU's `script=` ifup hook (bin/vswitch-ifup) attaches the TAP QEMU created by packet capture, from its host side.
 *
 * Checked whole, before anything opens (nothing half-applies): the name (a Linux interface name, 1 to 15 bytes:
 * IFNAMSIZ), not taken by a port or a link (409), the type's own fields (a capture port names an `interface` that
 * exists, 400 naming `interface`, and that no other port captures, 409; a TAP's `mtu`), the cap on ports, and the
 * actor (a policy may not add or delete ports: they are the operator's and the VM manager's, 403). Only then is the
 * device opened, and its typed failures (switch/port/port-errors.ts) come back as API errors with their own codes,
 * never as a 500 (PortOpenRefusedError).
 *
 * Delete. A link is not a port of these primitives (409 pointing at `vswitch link del`). A port that rules send
 * frames to: the rules of operators (and the config) block the delete — 409 `port-in-use` naming them, the operator
 * deletes them first; a rule toward nowhere would be kept and silently skipped, and an operator's rule is the
 * operator's to remove. Policies' rules toward it go with the port: a policy adapts around what the operator and the
 * VM manager do, and must not keep a VM's TAP from being detached when the VM stops. A port the star's default rule
 * leaves by is the star (none on a host today): StarProtectedError. Then, at once: the port leaves the datapath —
 * the flow offload drops its flows (FlowOffload.portDetached), the core forgets its MACs and flushes the flow table
 * (SwitchCore.removePort) — and its device is closed (a TAP the daemon created disappears; a captured interface stays).
 *
 * Durability (the `persist` hook: LocalPrimitives', which writes to the state store; the caller runs these one at a
 * time with the other changes). An add opens and attaches the port, writes it, and closes it again if the write
 * fails; a delete, once checked, is written first and then made (with the policies' rules it takes along). Either
 * way a change that could not be saved is not made, and the caller gets the store's error (503 `state-unavailable`).
 * Restored ports (restore, at start) are opened as they were saved, without the add's checks of the host: a capture
 * port whose interface is not there yet (the VM is not running) comes back down, and the datapath's recovery opens
 * it once the interface appears.
 */
import type { PortConfig } from '../config/config.js';
import type { Datapath } from '../datapath.js';
import { NO_EVENTS, type EventSink } from '../events.js';
import type { Logger } from '../log.js';
import type { Port } from '../port/port.js';
import {
  CapturePermissionError,
  InterfaceNotFoundError,
  InvalidInterfaceNameError,
  PortDeviceError,
  TapNameTakenError,
  TapPermissionError,
} from '../port/port-errors.js';
import type { Rule } from '../rules/rule.js';
import type { PrimitiveChange } from './primitive-change.js';
import { interfaceViews } from './interface-views.js';
import {
  ConflictError,
  InvalidInputError,
  NotFoundError,
  PolicyLimitError,
  PortInUseError,
  PortOpenRefusedError,
  StarProtectedError,
  type Actor,
  type PortInput,
  type PortView,
} from './primitives.js';
import { isPolicyActor, STAR_OWNER } from './policy-actors.js';

/** Device ports (TAP and capture, not links) a daemon holds at most: beyond, adding one is a 409 `too-many-ports`. */
export const MAX_PORTS = 1024;

/** A TAP's MTU bounds (as the config's `ports[].mtu`): IPv4's minimum, and the most a TAP with headers takes. */
export const PORT_MTU = { min: 68, max: 65_521 } as const;

const DEFAULT_TAP_MTU = 1500;

export interface LocalPortsOptions {
  datapath: Datapath;
  log: Logger;
  /** Opens a port's device (DaemonDeps.openPort: TAP and capture ports, or memory twins in tests); absent: no run-time ports. */
  openPort?: (config: PortConfig) => Port;
  /** Whether the host has an interface of this name (a capture port's `interface`); absent: the open alone decides. */
  interfaceExists?: (name: string) => boolean;
  /** The owner of link `name` (links are ports of the datapath too), for the list. */
  linkOwner(name: string): string;
  /** Whether a link of this name exists (a link is not one of these primitives' ports). */
  isLink(name: string): boolean;
  events?: EventSink;
  /** After a change (the daemon reports it to the Proxy). */
  onChange?: (actor: Actor) => void;
  maxPorts?: number;
  /** Makes a change durable before it is made or kept (see Durability); absent: memory only. */
  persist?: (change: PrimitiveChange) => Promise<void>;
}

interface PortRecord {
  readonly config: PortConfig;
  readonly owner: string;
}

export class LocalPorts {
  /** Device ports by name: how they were opened, and who added them ("config" for the config's). */
  private readonly records = new Map<string, PortRecord>();
  private readonly events: EventSink;

  constructor(private readonly options: LocalPortsOptions) {
    this.events = options.events ?? NO_EVENTS;
  }

  /** Every port of the datapath (links too) with owner and, for capture ports, the interface. */
  list(): PortView[] {
    return interfaceViews(this.options.datapath).map((view) => {
      const record = this.records.get(view.name);
      const owner = record?.owner ?? (view.kind === 'link' ? this.options.linkOwner(view.name) : 'config');
      return { ...view, owner, ...(record?.config.type === 'capture' ? { interface: record.config.interface } : {}) };
    });
  }

  /** A port of the daemon's config, at start: opened and attached as the config says (owner "config"). */
  openConfigPort(config: PortConfig, open: (config: PortConfig) => Port): Port {
    const port = open(config);
    this.options.datapath.attach(port, { floods: true });
    this.records.set(config.name, { config, owner: 'config' });
    return port;
  }

  /**
   * A saved run-time port, back as it was (daemon start, before links and rules; no event, nothing written). Throws
   * the device's typed errors (a TAP whose name something else took); a capture port whose interface is missing
   * opens down (DaemonDeps.openPort: CapturePort.openWhenReady) and recovers when it appears.
   */
  restore(config: PortConfig, owner: string): Port {
    if (!this.options.openPort) throw new ConflictError('this daemon cannot open ports at run time');
    if (this.options.datapath.get(config.name)) throw new ConflictError(`a port or link named "${config.name}" exists`);
    const port = this.options.openPort(config);
    try {
      this.options.datapath.attach(port, { floods: true });
    } catch (err) {
      port.close();
      throw err;
    }
    this.records.set(config.name, { config, owner });
    return port;
  }

  async add(input: PortInput, actor: Actor): Promise<PortView> {
    const config = this.check(input, actor);
    const open = this.options.openPort!;
    let port: Port;
    try {
      port = open(config);
    } catch (err) {
      throw refusal(err, config);
    }
    try {
      this.options.datapath.attach(port, { floods: true });
    } catch (err) {
      port.close(); // a TAP it created goes with it: nothing is left half-added
      throw err;
    }
    this.records.set(config.name, { config, owner: actor.name });
    try {
      await this.options.persist?.({ type: 'port-added', config, owner: actor.name });
    } catch (err) {
      // Not saved, so not made: the port is closed again (a TAP the daemon created disappears).
      this.records.delete(config.name);
      this.options.datapath.detach(config.name);
      throw err;
    }
    const capture = config.type === 'capture' ? { interface: config.interface } : {};
    this.options.log.info('port added', { port: config.name, type: config.type, ...capture, actor: actor.name });
    this.events.emit({ type: 'port-added', port: config.name, kind: config.type, ...capture, by: actor.name });
    this.options.onChange?.(actor);
    return this.list().find((p) => p.name === config.name)!;
  }

  async delete(name: string, actor: Actor): Promise<void> {
    if (isPolicyActor(actor.name)) throw new PolicyLimitError('name', `a policy may not delete ports (${actor.name}): ports are the operator's and the VM manager's`);
    const { datapath } = this.options;
    if (this.options.isLink(name)) {
      throw new ConflictError(`"${name}" is a link, not a port: delete it with DELETE /v1/links/${name} (vswitch link del ${name})`);
    }
    const attached = datapath.get(name);
    if (!attached) throw new NotFoundError('port', name);
    if (attached.port.kind === 'link') throw new ConflictError(`"${name}" is a link, not a port: delete it with DELETE /v1/links/${name}`);
    const toward = datapath.core.rules.list().filter((r) => r.target === name);
    if (toward.some((r) => r.owner === STAR_OWNER)) {
      throw new StarProtectedError(`port "${name}" is where the star's default rule leads: it comes from the daemon's config and only a config change removes it`);
    }
    const blocking = toward.filter((r) => !isPolicyActor(r.owner ?? 'config'));
    if (blocking.length > 0) throw new PortInUseError(name, blocking.map((r) => r.id));
    const record = this.records.get(name);
    if (record) await this.options.persist?.({ type: 'port-deleted', config: record.config, owner: record.owner, rules: toward });
    // Checked and written: from here on nothing refuses. The policies' rules toward the port go with it.
    for (const rule of toward) this.removePolicyRule(rule, name, actor);
    datapath.detach(name);
    this.records.delete(name);
    this.options.log.info('port deleted', { port: name, rules: toward.length, actor: actor.name });
    this.events.emit({ type: 'port-deleted', port: name, rules: toward.length, by: actor.name });
    this.options.onChange?.(actor);
  }

  /** The input, checked whole, as the PortConfig to open; throws before anything changes. */
  private check(input: PortInput, actor: Actor): PortConfig {
    if (isPolicyActor(actor.name)) throw new PolicyLimitError('name', `a policy may not add ports (${actor.name}): ports are the operator's and the VM manager's`);
    if (!this.options.openPort) throw new ConflictError('this daemon cannot open ports at run time');
    const name = interfaceNameField('name', input.name);
    const { datapath } = this.options;
    if (this.options.isLink(name)) throw new ConflictError(`"${name}" is the name of a link of this daemon: choose another port name`);
    if (datapath.get(name)) throw new ConflictError(`a port named "${name}" exists`);
    const deviceCount = datapath.ports().filter((p) => p.port.kind !== 'link').length;
    const max = this.options.maxPorts ?? MAX_PORTS;
    if (deviceCount >= max) throw new TooManyPortsError(max);
    if (input.type === 'tap') {
      if (input.interface !== undefined) throw new InvalidInputError('interface', 'applies to a capture port only (a tap port is its own device)');
      if (input.promiscuous !== undefined) throw new InvalidInputError('promiscuous', 'applies to a capture port only');
      const mtu = input.mtu ?? DEFAULT_TAP_MTU;
      if (!Number.isInteger(mtu) || mtu < PORT_MTU.min || mtu > PORT_MTU.max) {
        throw new InvalidInputError('mtu', `must be an integer from ${PORT_MTU.min} to ${PORT_MTU.max} (found ${String(input.mtu)})`);
      }
      return { type: 'tap', name, mtu };
    }
    if (input.type !== 'capture') throw new InvalidInputError('type', `must be tap or capture (found ${JSON.stringify(input.type)})`);
    if (input.mtu !== undefined) throw new InvalidInputError('mtu', 'applies to a tap port only (a captured interface keeps its own MTU: set it with `ip link set IF mtu N`)');
    if (input.interface === undefined) throw new InvalidInputError('interface', 'is required for a capture port: the existing interface to attach');
    const iface = interfaceNameField('interface', input.interface);
    if (input.promiscuous !== undefined && typeof input.promiscuous !== 'boolean') throw new InvalidInputError('promiscuous', 'must be true or false');
    const capturedBy = [...this.records].find(([, r]) => r.config.type === 'capture' && r.config.interface === iface)?.[0];
    if (capturedBy !== undefined) throw new ConflictError(`interface "${iface}" is already captured by port "${capturedBy}" (two sockets on one interface would switch every frame twice)`);
    if (this.options.interfaceExists && !this.options.interfaceExists(iface)) {
      throw new PortOpenRefusedError('interface-not-found', `interface: no interface "${iface}" on this host (create it first: QEMU or libvirt makes a VM's TAP when the VM starts)`, 400, 'interface');
    }
    return { type: 'capture', name, interface: iface, promiscuous: input.promiscuous ?? true };
  }

  private removePolicyRule(rule: Rule, port: string, actor: Actor): void {
    const table = this.options.datapath.core.rules;
    if (!table.remove(rule.id)) return;
    this.options.log.info('rule deleted with its port', { rule: rule.id, owner: rule.owner, port, actor: actor.name });
    this.events.emit({ type: 'rule-deleted', rule: rule.id, by: actor.name });
  }
}

/** More device ports than MAX_PORTS. HTTP 409. */
export class TooManyPortsError extends ConflictError {
  constructor(max: number) {
    super(`this daemon has ${max} ports, the most it holds (docs/limits.md): delete one first`);
  }
}

/** A Linux interface name: 1 to 15 bytes (IFNAMSIZ - 1), no "/", ":" or whitespace, not "." or "..". */
const INTERFACE_NAME = /^(?!\.{1,2}$)[^\s/:]{1,15}$/;

/** Whether `value` is a Linux interface name as a port's name and a capture port's interface must be. */
export function isInterfaceName(value: unknown): value is string {
  return typeof value === 'string' && INTERFACE_NAME.test(value) && Buffer.byteLength(value) <= 15;
}

function interfaceNameField(field: string, value: unknown): string {
  if (!isInterfaceName(value)) {
    const found = typeof value === 'string' ? JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value) : typeof value;
    throw new InvalidInputError(field, `must be a Linux interface name: 1 to 15 bytes (IFNAMSIZ), no "/", ":" or whitespace, not "." or ".." (found ${found})`);
  }
  return value;
}

/** A device's typed open failure as the API says it (PortOpenRefusedError); anything else is rethrown as it is. */
function refusal(err: unknown, config: PortConfig): unknown {
  if (!(err instanceof PortDeviceError)) return err;
  const field = config.type === 'capture' ? 'interface' : 'name';
  if (err instanceof InvalidInterfaceNameError) return new PortOpenRefusedError(err.code, err.message, 400, field, err);
  if (err instanceof InterfaceNotFoundError) return new PortOpenRefusedError('interface-not-found', err.message, 400, field, err);
  if (err instanceof TapPermissionError || err instanceof CapturePermissionError) {
    return new PortOpenRefusedError(err.code, `${err.message}: the daemon runs without the capability`, 403, undefined, err);
  }
  if (err instanceof TapNameTakenError) return new PortOpenRefusedError(err.code, err.message, 409, 'name', err);
  // Down, gone, the kernel refused (an MTU it will not take…): the host's state, which the caller may change.
  return new PortOpenRefusedError(err.code, err.message, 409, undefined, err);
}

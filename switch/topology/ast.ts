/**
 * The overlay description as data: hosts, links between two hosts, and
 * forwarding rules per host — the concepts of the VNET primitives, for the
 * whole overlay at once — and, mentioned only, the hosts' ports (the VM
 * manager attaches and detaches those; apply never does). Every declaration remembers where it was written
 * (`at`), for error messages; `withoutPositions` drops that to compare two
 * overlays by meaning.
 *
 * Values are normalised by the parser: MACs lower-case, `transport` always
 * set (default auto), `priority` always set (default 0).
 */

export interface SourcePosition {
  line: number;
  column: number;
}

export type LinkTransport = 'udp' | 'tcp' | 'auto';

export interface HostDecl {
  name: string;
  /** Base64 Curve25519 public key of the host's daemon. */
  publicKey: string;
  /** "IP:PORT" where its links are reached; absent for a host only it can call out from. */
  endpoint?: string;
  /** The star's centre (exactly one host). */
  isProxy: boolean;
  at?: SourcePosition;
}

/** A link joins two hosts, both ways: on each end a primitive link named after the other host. */
export interface LinkDecl {
  a: string;
  b: string;
  transport: LinkTransport;
  at?: SourcePosition;
}

export interface RuleDecl {
  host: string;
  /** A MAC (lower-case, colon form) or "any". */
  src: string;
  /** A MAC, "any" or "none" (the default rule). */
  dst: string;
  /** A link of the host (named after the other host) or a local port name. */
  via: string;
  priority: number;
  /** Who installed it, when the overlay was fetched from daemons (not part of the language). */
  owner?: string;
  at?: SourcePosition;
}

/**
 * A port of a host, mentioned: `show` lists each host's TAP and capture ports, a rule may go `via` one, and `diff`
 * says when a described port is not attached. Never added or deleted by apply: VM ports are the VM manager's
 * (QEMU's ifup hook, libvirt, `vswitch port add`), they come and go with the VMs.
 */
export interface PortDecl {
  host: string;
  /** The port's name on the host (a TAP: its device). */
  name: string;
  type: 'tap' | 'capture';
  /** capture: the interface it captures. */
  interface?: string;
  at?: SourcePosition;
}

export interface Overlay {
  hosts: HostDecl[];
  links: LinkDecl[];
  rules: RuleDecl[];
  /** Mentioned ports; absent when the description names none. */
  ports?: PortDecl[];
}

export function withoutPositions(overlay: Overlay): Overlay {
  return {
    hosts: overlay.hosts.map(({ at: _at, ...h }) => h),
    links: overlay.links.map(({ at: _at, ...l }) => l),
    rules: overlay.rules.map(({ at: _at, ...r }) => r),
    ...(overlay.ports ? { ports: overlay.ports.map(({ at: _at, ...p }) => p) } : {}),
  };
}

export function proxyOf(overlay: Overlay): HostDecl | undefined {
  return overlay.hosts.find((h) => h.isProxy);
}

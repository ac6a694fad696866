/**
 * The VNET primitives (Virtuoso paper §2.1): add and delete a link, add and
 * delete a forwarding rule, list interfaces, links and rules, and set the
 * upper bound on configuration time. One interface, two implementations:
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
 * A relayed primitive could not reach its host, the host did not answer in time, or answered with something that is
 * not what the primitive returns ('host-invalid-answer'). HTTP 502/504.
 */
export class RelayError extends VswitchError {
  constructor(code: 'host-unreachable' | 'host-timeout' | 'host-invalid-answer', message: string) {
    super(code, message, { httpStatus: code === 'host-timeout' ? 504 : 502 });
  }
}

/**
 * The Proxy's view of one host's primitives: each call becomes a control
 * request over the star link to that host, and the host's own
 * LocalPrimitives runs it. Errors come back with their codes.
 *
 * A host cannot tell which keys are the overlay's, so the Proxy checks a
 * policy's link here before relaying it (local-primitives.ts checkPolicyLink):
 * `guard` says which keys the Proxy knows; without one, no policy may add a
 * link through this relay.
 */
import type { LinkStatus } from '../link/link-manager.js';
import { decodeKeyBase64, encodeKeyBase64 } from '../link/noise/crypto.js';
import type { ControlChannel } from './control-channel.js';
import { checkPolicyLink, isPolicyActor } from './local-primitives.js';
import { PolicyLimitError, type Actor, type InterfaceView, type LinkInput, type MacView, type PortInput, type PortView, type Primitives, type RuleInput, type RuleView } from './primitives.js';

export interface RelayGuard {
  /** The keys a policy may link to: the Proxy's and its hosts' (LocalPrimitives.overlayKeys on the Proxy). */
  policyLinkKeys(): ReadonlySet<string>;
}

export class RelayedPrimitives implements Primitives {
  constructor(
    private readonly channel: ControlChannel,
    readonly host: string,
    private readonly guard?: RelayGuard,
  ) {}

  interfaces(): Promise<InterfaceView[]> {
    return this.call('interfaces', [], { name: 'proxy' }) as Promise<InterfaceView[]>;
  }
  links(): Promise<LinkStatus[]> {
    return this.call('links', [], { name: 'proxy' }) as Promise<LinkStatus[]>;
  }
  async addLink(input: LinkInput, actor: Actor): Promise<LinkStatus> {
    if (isPolicyActor(actor.name)) checkPolicyLink(canonicalKey(input.publicKey), this.guard?.policyLinkKeys() ?? new Set());
    return this.call('addLink', [input], actor) as Promise<LinkStatus>;
  }
  async deleteLink(name: string, actor: Actor): Promise<void> {
    await this.call('deleteLink', [name], actor);
  }
  ports(): Promise<PortView[]> {
    return this.call('ports', [], { name: 'proxy' }) as Promise<PortView[]>;
  }
  async addPort(input: PortInput, actor: Actor): Promise<PortView> {
    // The host refuses a policy too; refusing here spares the round trip (and says it as the host would).
    if (isPolicyActor(actor.name)) throw new PolicyLimitError('name', `a policy may not add ports (${actor.name}): ports are the operator's and the VM manager's`);
    return this.call('addPort', [input], actor) as Promise<PortView>;
  }
  async deletePort(name: string, actor: Actor): Promise<void> {
    if (isPolicyActor(actor.name)) throw new PolicyLimitError('name', `a policy may not delete ports (${actor.name}): ports are the operator's and the VM manager's`);
    await this.call('deletePort', [name], actor);
  }
  rules(): Promise<RuleView[]> {
    return this.call('rules', [], { name: 'proxy' }) as Promise<RuleView[]>;
  }
  addRule(input: RuleInput, actor: Actor): Promise<RuleView> {
    return this.call('addRule', [input], actor) as Promise<RuleView>;
  }
  async deleteRule(id: number, actor: Actor): Promise<void> {
    await this.call('deleteRule', [id], actor);
  }
  macs(): Promise<MacView[]> {
    return this.call('macs', [], { name: 'proxy' }) as Promise<MacView[]>;
  }
  configTimeBound(): Promise<{ upperBoundMs: number }> {
    return this.call('configTimeBound', [], { name: 'proxy' }) as Promise<{ upperBoundMs: number }>;
  }
  setConfigTimeBound(upperBoundMs: number, actor: Actor): Promise<{ upperBoundMs: number }> {
    return this.call('setConfigTimeBound', [upperBoundMs], actor) as Promise<{ upperBoundMs: number }>;
  }

  private call(op: Parameters<ControlChannel['request']>[1], args: unknown[], actor: Actor): Promise<unknown> {
    return this.channel.request(this.host, op, args, actor.name);
  }
}

/** A key as the link manager lists it (a key that does not decode is left as it is: the host refuses it, naming the field). */
function canonicalKey(text: string): string {
  try {
    return encodeKeyBase64(decodeKeyBase64(text));
  } catch {
    return text;
  }
}

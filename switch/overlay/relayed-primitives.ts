/**
 * The Proxy's view of one host's primitives: each call becomes a control
 * request over the star link to that host, and the host's own
 * LocalPrimitives runs it. Errors come back with their codes.
 */
import type { LinkStatus } from '../link/link-manager.js';
import type { ControlChannel } from './control-channel.js';
import type { Actor, InterfaceView, LinkInput, MacView, Primitives, RuleInput, RuleView } from './primitives.js';

export class RelayedPrimitives implements Primitives {
  constructor(
    private readonly channel: ControlChannel,
    readonly host: string,
  ) {}

  interfaces(): Promise<InterfaceView[]> {
    return this.call('interfaces', [], { name: 'proxy' }) as Promise<InterfaceView[]>;
  }
  links(): Promise<LinkStatus[]> {
    return this.call('links', [], { name: 'proxy' }) as Promise<LinkStatus[]>;
  }
  addLink(input: LinkInput, actor: Actor): Promise<LinkStatus> {
    return this.call('addLink', [input], actor) as Promise<LinkStatus>;
  }
  async deleteLink(name: string, actor: Actor): Promise<void> {
    await this.call('deleteLink', [name], actor);
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

/** Primitives that always act as `actor`, whatever actor the caller passes: a plugin cannot act as someone else. */
import type { Actor, Primitives } from '../../switch/overlay/primitives.js';

export function actingAs(primitives: Primitives, actor: Actor): Primitives {
  return {
    interfaces: () => primitives.interfaces(),
    links: () => primitives.links(),
    addLink: (input) => primitives.addLink(input, actor),
    deleteLink: (name) => primitives.deleteLink(name, actor),
    rules: () => primitives.rules(),
    addRule: (input) => primitives.addRule(input, actor),
    deleteRule: (id) => primitives.deleteRule(id, actor),
    ports: () => primitives.ports(),
    // A plugin acts as its policy actor, which the primitives refuse for ports (403): they are the operator's.
    addPort: (input) => primitives.addPort(input, actor),
    deletePort: (name) => primitives.deletePort(name, actor),
    configTimeBound: () => primitives.configTimeBound(),
    setConfigTimeBound: (upperBoundMs) => primitives.setConfigTimeBound(upperBoundMs, actor),
    ...(primitives.macs ? { macs: () => primitives.macs!() } : {}),
  };
}

/**
 * Which rules `apply` owns. It installs every rule with the actor
 * "topology": on the Proxy itself the owner is "topology", on a host the
 * relay prefixes it ("proxy:topology"). Rules of other owners (the star's
 * default rule, an operator's `vswitch rule add`, a plugin) are never deleted
 * by apply; one that already does what the description asks satisfies it.
 */
export const TOPOLOGY_ACTOR = { name: 'topology' } as const;

export function isManagedOwner(owner: string): boolean {
  return owner === TOPOLOGY_ACTOR.name || owner === `proxy:${TOPOLOGY_ACTOR.name}`;
}

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

/**
 * What an apply may delete or replace. An operator's apply (the default) owns every non-star link end and the
 * rules it installed itself. A policy's apply (plugins/host) owns only what that policy added: its description
 * adds to the overlay, and what others added, undescribed, is left alone.
 */
export interface ApplyScope {
  ownsRule(owner: string): boolean;
  /** Whether this link end may be deleted or replaced (star links never are, whatever the scope). */
  ownsLink(owner: string | undefined): boolean;
  /** True for a policy: undescribed links and rules of others are left alone instead of deleted. */
  readonly isPolicy: boolean;
}

export const OPERATOR_SCOPE: ApplyScope = { ownsRule: isManagedOwner, ownsLink: () => true, isPolicy: false };

/** The scope of a policy acting as `actor` (its owner is `actor` on the Proxy, "proxy:" + actor on hosts). */
export function policyScope(actor: string): ApplyScope {
  const owns = (owner: string | undefined) => owner === actor || owner === `proxy:${actor}`;
  return { ownsRule: owns, ownsLink: owns, isPolicy: true };
}

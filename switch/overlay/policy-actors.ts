/**
 * Who is a policy, and who is the star: the actors the primitives give less say (policies: plugins that change the
 * overlay on their own) or none (the star's default rule, which only a config change removes). See
 * local-primitives.ts for what each may do.
 */
/** Actors that are policies: they may delete only their own links and rules. */
export const POLICY_ACTORS: ReadonlySet<string> = new Set(['fastpath']);

/** Module and HTTP policies act as "policy:<name>"; API token names cannot contain ":", so no operator can. */
export const POLICY_ACTOR_PREFIX = 'policy:';

/**
 * The priorities a policy's rule may have (absent = 0). Operators (tokens, "local", the CLI, the config, the star,
 * an operator's topology apply) may give any priority the API takes (±1 000 000); policies stay below 10 000 and
 * under every operator rule of the same match.
 */
export const POLICY_PRIORITY_BAND = { min: 0, max: 9999 } as const;

/** A built-in policy ("fastpath", or "proxy:fastpath" on a host): it re-creates what it owns itself after a restart. */
export function isBuiltinPolicyActor(name: string): boolean {
  return POLICY_ACTORS.has(name.startsWith('proxy:') ? name.slice('proxy:'.length) : name);
}

/** "fastpath" and "proxy:fastpath" are the same policy; so are "policy:x" and "proxy:policy:x". */
export function isPolicyActor(name: string): boolean {
  const bare = name.startsWith('proxy:') ? name.slice('proxy:'.length) : name;
  return POLICY_ACTORS.has(bare) || bare.startsWith(POLICY_ACTOR_PREFIX);
}

/** The owner of a host's default rule toward its Proxy (daemon/daemon.ts installs it from the config). */
export const STAR_OWNER = 'star';

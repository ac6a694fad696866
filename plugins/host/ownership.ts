/**
 * What a plugin owns, found where it lives: every link and rule carries its owner on the daemon that holds it
 * (the Proxy: the plugin's actor; a host: "proxy:" + actor, as the relay prefixes it). Nothing is booked twice, so
 * a plugin's belongings can never drift from what the switches really have. Removing them deletes rules before
 * links on each daemon (a rule without its link would black-hole; without the rule traffic falls back to the star).
 */
import type { Actor, Primitives } from '../../switch/overlay/primitives.js';

export interface OwnedPlaces {
  proxy: Primitives;
  hostNames(): string[];
  host(name: string): Primitives | undefined;
}

/** The operator actor the Proxy uses to clean up after a plugin (not a policy: may delete anything). */
export const PLUGIN_HOST_ACTOR: Actor = { name: 'plugins' };

export const hostOwner = (actor: string): string => `proxy:${actor}`;

export interface RemovedCount {
  links: number;
  rules: number;
  errors: string[];
  /** Where removing failed ("proxy" or a host's name), each with its error: what is left to retry there. */
  failed: { where: string; error: string }[];
}

/** The Proxy is "proxy" here (the name a cleanup left to retry goes by). */
export const PROXY_PLACE = 'proxy';

/** Removes what `actor` owns from every place; a place that fails is reported (`failed`), the others are done. */
export async function removeOwned(actor: string, places: OwnedPlaces): Promise<RemovedCount> {
  const removed: RemovedCount = { links: 0, rules: 0, errors: [], failed: [] };
  const names = [PROXY_PLACE, ...places.hostNames().filter((name) => places.host(name) !== undefined)];
  await Promise.all(
    names.map(async (where) => {
      const done = await removeOwnedAt(actor, where, places);
      removed.links += done.links;
      removed.rules += done.rules;
      if (done.error !== undefined) {
        removed.errors.push(`${where}: ${done.error}`);
        removed.failed.push({ where, error: done.error });
      }
    }),
  );
  return removed;
}

/** Removes what `actor` owns from one place (PROXY_PLACE or a host): what went, and the error that stopped it. */
export async function removeOwnedAt(actor: string, where: string, places: OwnedPlaces): Promise<{ links: number; rules: number; error?: string }> {
  const done = { links: 0, rules: 0 };
  const primitives = where === PROXY_PLACE ? places.proxy : places.host(where);
  if (!primitives) return { ...done, error: `no link to host ${where}` };
  const owner = where === PROXY_PLACE ? actor : hostOwner(actor);
  try {
    for (const rule of await primitives.rules()) {
      if (rule.owner !== owner) continue;
      await primitives.deleteRule(rule.id, PLUGIN_HOST_ACTOR);
      done.rules++;
    }
    for (const link of await primitives.links()) {
      if ((link as { owner?: string }).owner !== owner) continue;
      await primitives.deleteLink(link.name, PLUGIN_HOST_ACTOR);
      done.links++;
    }
    return done;
  } catch (err) {
    return { ...done, error: (err as Error).message };
  }
}

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
}

export async function removeOwned(actor: string, places: OwnedPlaces): Promise<RemovedCount> {
  const removed: RemovedCount = { links: 0, rules: 0, errors: [] };
  const targets: [string, Primitives, string][] = [['proxy', places.proxy, actor]];
  for (const name of places.hostNames()) {
    const primitives = places.host(name);
    if (primitives) targets.push([name, primitives, hostOwner(actor)]);
  }
  await Promise.all(
    targets.map(async ([where, primitives, owner]) => {
      try {
        for (const rule of await primitives.rules()) {
          if (rule.owner !== owner) continue;
          await primitives.deleteRule(rule.id, PLUGIN_HOST_ACTOR);
          removed.rules++;
        }
        for (const link of await primitives.links()) {
          if ((link as { owner?: string }).owner !== owner) continue;
          await primitives.deleteLink(link.name, PLUGIN_HOST_ACTOR);
          removed.links++;
        }
      } catch (err) {
        removed.errors.push(`${where}: ${(err as Error).message}`);
      }
    }),
  );
  return removed;
}

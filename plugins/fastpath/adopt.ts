/**
 * A Proxy that takes over (Proxy HA) adopts the fast paths the hosts already have: what the old active Proxy's
 * plugin made is owned "proxy:fastpath" on the hosts, exactly as what this one would make. Pure: from each host's
 * links and rules (as it answered), the fast links (one per host pair, from either end), the VM pairs their rules
 * carry, those rules with their ids, and where each VM lives. The plugin puts them in its books as its own, so it
 * neither adds them again nor leaves them unowned: when their traffic stops it removes them as its own.
 */
import type { LinkStatus } from '../../switch/link/link-manager.js';
import type { RuleView } from '../../switch/overlay/primitives.js';
import { hostPairKey, vmPairKey, type VmPair } from './adapt.js';

/** What one host answered. */
export interface HostFastPaths {
  readonly host: string;
  readonly links: readonly (LinkStatus & { owner?: string })[];
  readonly rules: readonly RuleView[];
}

export interface AdoptedLink {
  /** Hosts, a < b. */
  readonly a: string;
  readonly b: string;
  /** Both ends seen up (an end not answered yet or not there: false; the watch judges it). */
  readonly up: boolean;
  readonly vmPairs: ReadonlyMap<string, VmPair>;
}

export interface AdoptedRule {
  readonly pairKey: string;
  readonly host: string;
  readonly peer: string;
  readonly src: string;
  readonly dst: string;
  readonly id: number;
}

export interface Adopted {
  readonly links: ReadonlyMap<string, AdoptedLink>;
  readonly rules: readonly AdoptedRule[];
  /** VM MAC → the host it lives on (a rule's source is on its host). */
  readonly macs: ReadonlyMap<string, string>;
}

/** Fast links, by the name on a host: `fp-<peer>`. */
export function adoptFastPaths(hosts: readonly HostFastPaths[], opts: { owner: string; linkPrefix: string; nowMs: number }): Adopted {
  const ends = new Map<string, Map<string, boolean>>(); // pair → host → its end is up
  const peerOf = (name: string): string | undefined => (name.startsWith(opts.linkPrefix) ? name.slice(opts.linkPrefix.length) : undefined);
  for (const h of hosts) {
    for (const l of h.links) {
      const peer = peerOf(l.name);
      if (l.owner !== opts.owner || peer === undefined || peer === h.host) continue;
      const key = hostPairKey(h.host, peer);
      const seen = ends.get(key) ?? new Map<string, boolean>();
      seen.set(h.host, l.state === 'up');
      ends.set(key, seen);
    }
  }
  const vmPairs = new Map<string, Map<string, VmPair>>();
  const rules: AdoptedRule[] = [];
  const macs = new Map<string, string>();
  for (const h of hosts) {
    for (const r of h.rules) {
      const peer = peerOf(r.target);
      if (r.owner !== opts.owner || peer === undefined) continue;
      const key = hostPairKey(h.host, peer);
      if (!ends.get(key)?.has(h.host)) continue; // a rule toward a link that is not there carries nothing
      const [a] = key.split(' ');
      const pair: VmPair = h.host === a ? { macA: r.src, macB: r.dst, lastSeenMs: opts.nowMs } : { macA: r.dst, macB: r.src, lastSeenMs: opts.nowMs };
      const pairs = vmPairs.get(key) ?? new Map<string, VmPair>();
      pairs.set(vmPairKey(pair.macA, pair.macB), pair);
      vmPairs.set(key, pairs);
      rules.push({ pairKey: key, host: h.host, peer, src: r.src, dst: r.dst, id: r.id });
      if (!macs.has(r.src)) macs.set(r.src, h.host);
      if (!macs.has(r.dst)) macs.set(r.dst, peer);
    }
  }
  const links = new Map<string, AdoptedLink>();
  for (const [key, seen] of ends) {
    const [a = '', b = ''] = key.split(' ');
    links.set(key, { a, b, up: seen.get(a) === true && seen.get(b) === true, vmPairs: vmPairs.get(key) ?? new Map() });
  }
  return { links, rules, macs };
}

/**
 * The running overlay as the Proxy sees it: per daemon (the Proxy itself and
 * every host it has a star link to), its link ends and rules as its
 * primitives list them — and, for `route`, its interfaces and MAC table.
 * fetch.ts builds it; diff.ts compares a description against it; route.ts
 * walks it; `toOverlay` turns it into the language's terms for `show`.
 */
import type { LinkStatus } from '../link/link-manager.js';
import type { InterfaceView, MacView, PortView, RuleView } from '../overlay/primitives.js';
import type { HostDecl, LinkDecl, Overlay, PortDecl, RuleDecl } from './ast.js';
import { INTERFACE_PATTERN } from './parser.js';

export type LinkEndView = Pick<LinkStatus, 'name' | 'publicKey' | 'mode' | 'state'> & { endpoint?: string; owner?: string };

export interface HostState {
  name: string;
  isProxy: boolean;
  /** False when its primitives could not be run (error says why); its lists are then empty. */
  reachable: boolean;
  error?: { code: string; message: string };
  links: LinkEndView[];
  rules: RuleView[];
  /** Its TAP and capture ports (not links); absent when the host could not list them (an older daemon). */
  ports?: Pick<PortView, 'name' | 'kind' | 'interface'>[];
  /** Present when fetched with `forwarding: true`. */
  interfaces?: Pick<InterfaceView, 'name' | 'kind'>[];
  macs?: MacView[];
}

export interface TopologyState {
  proxy: { name: string; publicKey?: string };
  /** The Proxy first, then its hosts by name. */
  hosts: HostState[];
}

/** "udp:198.18.0.1:51820#3" → "198.18.0.1:51820" (the language's endpoint form). */
export function plainEndpoint(endpoint: string | undefined): string | undefined {
  return endpoint?.replace(/^(udp|tcp):/, '').replace(/#\d+$/, '');
}

/**
 * Who is at the other end of a link: a link's peer is a host, known by its public key — not by the link's name
 * (the fast-path plugin names its ends "fp-<peer>", an operator may name a link anything). The hosts' keys come
 * from the Proxy's own link ends (the star: one per host, named after it) and the Proxy's key.
 */
export interface PeerIndex {
  /** The public key of a host (undefined: not known). */
  keyOf(host: string): string | undefined;
  /** The host at the other end of a link end: the host with its key, else (a peer the Proxy does not know) the end's name. */
  peerOf(end: Pick<LinkEndView, 'name' | 'publicKey'>): string;
  /** Whether peerOf names a host the Proxy knows (not just the end's name). */
  isKnownPeer(end: Pick<LinkEndView, 'name' | 'publicKey'>): boolean;
  /** The link end on `host` whose peer is `peer`. */
  endTo(host: HostState, peer: string): LinkEndView | undefined;
}

export function peerIndex(state: TopologyState): PeerIndex {
  const proxyName = state.proxy.name;
  const keys = new Map<string, string>();
  const self = state.hosts.find((h) => h.name === proxyName);
  const proxyKey = state.proxy.publicKey ?? state.hosts.flatMap((h) => (h === self ? [] : h.links)).find((l) => l.name === proxyName)?.publicKey;
  if (proxyKey) keys.set(proxyName, proxyKey);
  for (const l of self?.links ?? []) if (!keys.has(l.name)) keys.set(l.name, l.publicKey);
  const byKey = new Map<string, string>();
  for (const [host, key] of keys) if (!byKey.has(key)) byKey.set(key, host);
  const resolve = (end: Pick<LinkEndView, 'name' | 'publicKey'>): string | undefined =>
    keys.get(end.name) === end.publicKey ? end.name : byKey.get(end.publicKey);
  const peerOf = (end: Pick<LinkEndView, 'name' | 'publicKey'>): string => resolve(end) ?? end.name;
  return {
    keyOf: (host) => keys.get(host),
    peerOf,
    isKnownPeer: (end) => resolve(end) !== undefined,
    endTo: (host, peer) => host.links.find((l) => resolve(l) === peer) ?? host.links.find((l) => l.name === peer && resolve(l) === undefined),
  };
}

/**
 * The state in the language's terms: a host per daemon, a link for every pair of hosts with at least one end
 * (whatever the ends are named), all rules with their owners; a rule via a link says via the host it leads to.
 */
export function toOverlay(state: TopologyState): Overlay {
  const proxyName = state.proxy.name;
  const peers = peerIndex(state);
  const hosts = new Map<string, HostDecl>();
  const self = state.hosts.find((h) => h.name === proxyName);
  const proxyEnd = state.hosts.filter((h) => h !== self).flatMap((h) => h.links).find((l) => peers.peerOf(l) === proxyName);
  const proxyEndpoint = plainEndpoint(proxyEnd?.endpoint);
  hosts.set(proxyName, { name: proxyName, publicKey: peers.keyOf(proxyName) ?? '', ...(proxyEndpoint ? { endpoint: proxyEndpoint } : {}), isProxy: true });
  // The Proxy's link ends name its hosts first: they carry the hosts' keys and endpoints.
  const ends = [...(self?.links ?? []).map((l) => ({ host: proxyName, end: l })), ...state.hosts.filter((h) => h !== self).flatMap((h) => h.links.map((l) => ({ host: h.name, end: l })))];
  for (const { end } of ends) {
    const peer = peers.peerOf(end);
    if (hosts.has(peer)) continue;
    const endpoint = plainEndpoint(end.endpoint);
    hosts.set(peer, { name: peer, publicKey: end.publicKey, ...(endpoint ? { endpoint } : {}), isProxy: false });
  }
  for (const h of state.hosts) if (!hosts.has(h.name)) hosts.set(h.name, { name: h.name, publicKey: '', isProxy: false });
  const links = new Map<string, LinkDecl>();
  for (const { host, end } of ends) {
    const peer = peers.peerOf(end);
    const key = host < peer ? `${host} ${peer}` : `${peer} ${host}`;
    if (!links.has(key)) links.set(key, { a: host, b: peer, transport: end.mode });
  }
  const rules: RuleDecl[] = state.hosts.flatMap((h) =>
    h.rules.map((r) => {
      const end = h.links.find((l) => l.name === r.target);
      return { host: h.name, src: r.src, dst: r.dst, via: end ? peers.peerOf(end) : r.target, priority: r.priority, owner: r.owner };
    }),
  );
  // Ports whose names the language can write (a Linux name may hold characters a `port` word may not: left out).
  const ports: PortDecl[] = state.hosts.flatMap((h) =>
    (h.ports ?? [])
      .filter((p) => INTERFACE_PATTERN.test(p.name) && (p.interface === undefined || INTERFACE_PATTERN.test(p.interface)))
      .map((p): PortDecl => (p.interface === undefined ? { host: h.name, name: p.name, type: 'tap' } : { host: h.name, name: p.name, type: 'capture', interface: p.interface })),
  );
  return { hosts: [...hosts.values()], links: [...links.values()], rules, ...(ports.length > 0 ? { ports } : {}) };
}

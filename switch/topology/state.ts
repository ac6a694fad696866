/**
 * The running overlay as the Proxy sees it: per daemon (the Proxy itself and
 * every host it has a star link to), its link ends and rules as its
 * primitives list them — and, for `route`, its interfaces and MAC table.
 * fetch.ts builds it; diff.ts compares a description against it; route.ts
 * walks it; `toOverlay` turns it into the language's terms for `show`.
 */
import type { LinkStatus } from '../link/link-manager.js';
import type { InterfaceView, MacView, RuleView } from '../overlay/primitives.js';
import type { HostDecl, LinkDecl, Overlay, RuleDecl } from './ast.js';

export type LinkEndView = Pick<LinkStatus, 'name' | 'publicKey' | 'mode' | 'state'> & { endpoint?: string; owner?: string };

export interface HostState {
  name: string;
  isProxy: boolean;
  /** False when its primitives could not be run (error says why); its lists are then empty. */
  reachable: boolean;
  error?: { code: string; message: string };
  links: LinkEndView[];
  rules: RuleView[];
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

/** The state in the language's terms: a link for every pair with at least one end, all rules with their owners. */
export function toOverlay(state: TopologyState): Overlay {
  const proxyName = state.proxy.name;
  const hosts = new Map<string, HostDecl>();
  const proxyEnd = state.hosts.flatMap((h) => h.links).find((l) => l.name === proxyName);
  const proxyKey = state.proxy.publicKey ?? proxyEnd?.publicKey ?? '';
  const proxyEndpoint = plainEndpoint(proxyEnd?.endpoint);
  hosts.set(proxyName, { name: proxyName, publicKey: proxyKey, ...(proxyEndpoint ? { endpoint: proxyEndpoint } : {}), isProxy: true });
  const self = state.hosts.find((h) => h.name === proxyName);
  // The Proxy's link ends name its hosts first: they carry the hosts' keys and endpoints.
  const ends = [...(self?.links ?? []).map((l) => ({ host: proxyName, end: l })), ...state.hosts.filter((h) => h !== self).flatMap((h) => h.links.map((l) => ({ host: h.name, end: l })))];
  for (const { end } of ends) {
    if (hosts.has(end.name)) continue;
    const endpoint = plainEndpoint(end.endpoint);
    hosts.set(end.name, { name: end.name, publicKey: end.publicKey, ...(endpoint ? { endpoint } : {}), isProxy: false });
  }
  for (const h of state.hosts) if (!hosts.has(h.name)) hosts.set(h.name, { name: h.name, publicKey: '', isProxy: false });
  const links = new Map<string, LinkDecl>();
  for (const { host, end } of ends) {
    const key = host < end.name ? `${host} ${end.name}` : `${end.name} ${host}`;
    if (!links.has(key)) links.set(key, { a: host, b: end.name, transport: end.mode });
  }
  const rules: RuleDecl[] = state.hosts.flatMap((h) =>
    h.rules.map((r) => ({ host: h.name, src: r.src, dst: r.dst, via: r.target, priority: r.priority, owner: r.owner })),
  );
  return { hosts: [...hosts.values()], links: [...links.values()], rules };
}

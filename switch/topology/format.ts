/**
 * The canonical text of an overlay: hosts (the proxy first, then by name),
 * links (ends in name order, sorted), ports (by host as the hosts, then
 * name; only when there are any), rules (by host as the hosts, then src,
 * dst, priority descending, via), defaults left out (transport auto,
 * priority 0). `parseTopology(formatTopology(x))` gives `canonicalTopology(x)`
 * back (positions aside), so what `show` prints can be edited and applied.
 * A fetched rule that apply does not own carries its owner as a comment.
 */
import type { HostDecl, LinkDecl, Overlay, PortDecl, RuleDecl } from './ast.js';
import { isManagedOwner } from './ownership.js';

export function canonicalTopology(overlay: Overlay): Overlay {
  const hostRank = rankHosts(overlay.hosts);
  const rank = (name: string) => hostRank.get(name) ?? Number.MAX_SAFE_INTEGER;
  const hosts = [...overlay.hosts].sort((x, y) => rank(x.name) - rank(y.name) || cmp(x.name, y.name));
  const links = overlay.links
    .map((l): LinkDecl => (l.b < l.a ? { ...l, a: l.b, b: l.a } : { ...l }))
    .sort((x, y) => cmp(x.a, y.a) || cmp(x.b, y.b));
  const rules = [...overlay.rules].sort(
    (x, y) => rank(x.host) - rank(y.host) || cmp(x.host, y.host) || cmp(x.src, y.src) || cmp(x.dst, y.dst) || y.priority - x.priority || cmp(x.via, y.via),
  );
  const ports = [...(overlay.ports ?? [])].sort((x, y) => rank(x.host) - rank(y.host) || cmp(x.host, y.host) || cmp(x.name, y.name));
  return { hosts, links, rules, ...(ports.length > 0 ? { ports } : {}) };
}

export function formatTopology(overlay: Overlay): string {
  const { hosts, links, rules, ports = [] } = canonicalTopology(overlay);
  const sections = [hosts.map(formatHost), links.map(formatLink), ports.map(formatPort), rules.map(formatRule)].filter((s) => s.length > 0);
  return sections.map((lines) => lines.join('\n')).join('\n\n') + '\n';
}

function formatHost(h: HostDecl): string {
  return `host ${h.name} key "${h.publicKey}"${h.endpoint ? ` endpoint ${h.endpoint}` : ''}${h.isProxy ? ' proxy' : ''}`;
}

function formatLink(l: LinkDecl): string {
  return `link ${l.a} ${l.b}${l.transport === 'auto' ? '' : ` transport ${l.transport}`}`;
}

function formatPort(p: PortDecl): string {
  return `port ${p.host} ${p.name} ${p.type === 'capture' ? `capture ${p.interface}` : 'tap'}`;
}

function formatRule(r: RuleDecl): string {
  const text = `rule ${r.host} src ${r.src} dst ${r.dst} via ${r.via}${r.priority === 0 ? '' : ` priority ${r.priority}`}`;
  return r.owner !== undefined && !isManagedOwner(r.owner) ? `${text}  # owner: ${r.owner}` : text;
}

function rankHosts(hosts: readonly HostDecl[]): Map<string, number> {
  const names = [...hosts].sort((x, y) => Number(y.isProxy) - Number(x.isProxy) || cmp(x.name, y.name)).map((h) => h.name);
  return new Map(names.map((n, i) => [n, i]));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

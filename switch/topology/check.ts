/**
 * Validation of a parsed description, whole, before anything acts on it.
 * Every problem is collected (not just the first) with where it was written.
 *
 * Errors: duplicate host names or keys; a key that is not 32 bytes of
 * base64; not exactly one proxy; a link naming an unknown host, joining a
 * host to itself, or declared twice (either order); a host without a link to
 * the proxy (the resilient star is the overlay's backbone, and the Proxy
 * reaches hosts only over it); a rule on an unknown host; two rules on one
 * host with the same (src, dst, priority) — the rule table refuses that; a
 * rule whose `via` names another host that this host has no link to.
 *
 * Ports are mentioned only (`port H NAME tap|capture IF`): a port on an
 * unknown host, one declared twice on a host, or one named as a link end of
 * its host (the link to that host) is a problem.
 *
 * Warnings: a `via` that names neither a host nor a port described on the
 * host is taken as a local port of the host, which cannot be checked
 * statically (diff checks it against the running host).
 */
import type { Overlay, SourcePosition } from './ast.js';
import { TopologyInvalidError, type TopologyProblem } from './errors.js';

const KEY_PATTERN = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

export interface CheckResult {
  problems: TopologyProblem[];
  warnings: TopologyProblem[];
}

export function checkTopology(overlay: Overlay, file = 'topology'): CheckResult {
  const problems: TopologyProblem[] = [];
  const warnings: TopologyProblem[] = [];
  const report = (list: TopologyProblem[], at: SourcePosition | undefined, message: string) =>
    list.push({ file, line: at?.line ?? 1, column: at?.column ?? 1, message });
  const where = (at: SourcePosition | undefined) => (at ? `${at.line}:${at.column}` : '?');

  const hosts = new Map<string, (typeof overlay.hosts)[number]>();
  const keys = new Map<string, string>();
  for (const host of overlay.hosts) {
    const first = hosts.get(host.name);
    if (first) {
      report(problems, host.at, `host "${host.name}" is declared twice (first at ${where(first.at)})`);
      continue;
    }
    hosts.set(host.name, host);
    if (!KEY_PATTERN.test(host.publicKey)) {
      report(problems, host.at, `host "${host.name}": the key must be 32 bytes in base64 (44 characters, as \`vswitch genkey | vswitch pubkey\` prints)`);
    } else if (keys.has(host.publicKey)) {
      report(problems, host.at, `host "${host.name}" has the same key as host "${keys.get(host.publicKey)}"`);
    } else keys.set(host.publicKey, host.name);
  }

  const proxies = [...hosts.values()].filter((h) => h.isProxy);
  if (proxies.length === 0) report(problems, { line: 1, column: 1 }, 'no host is marked "proxy": mark the star\'s centre (exactly one host)');
  for (const extra of proxies.slice(1)) report(problems, extra.at, `host "${extra.name}" is a second proxy (the first is "${proxies[0]!.name}")`);
  const proxy = proxies[0];

  const linked = new Map<string, SourcePosition | undefined>();
  const pairKey = (a: string, b: string) => (a < b ? `${a} ${b}` : `${b} ${a}`);
  for (const link of overlay.links) {
    const unknown = [link.a, link.b].filter((h) => !hosts.has(h));
    if (unknown.length > 0) {
      report(problems, link.at, `link names unknown host ${unknown.map((h) => `"${h}"`).join(' and ')}`);
      continue;
    }
    if (link.a === link.b) {
      report(problems, link.at, `link joins "${link.a}" to itself`);
      continue;
    }
    const key = pairKey(link.a, link.b);
    if (linked.has(key)) {
      report(problems, link.at, `link ${link.a} ${link.b} is declared twice (first at ${where(linked.get(key))})`);
      continue;
    }
    linked.set(key, link.at);
  }
  if (proxy) {
    for (const host of hosts.values()) {
      if (host !== proxy && !linked.has(pairKey(host.name, proxy.name))) {
        report(problems, host.at, `host "${host.name}" has no link to the proxy "${proxy.name}" (the star backbone is required)`);
      }
    }
  }

  const ports = new Map<string, SourcePosition | undefined>();
  for (const port of overlay.ports ?? []) {
    if (!hosts.has(port.host)) {
      report(problems, port.at, `port is on unknown host "${port.host}"`);
      continue;
    }
    const key = `${port.host} ${port.name}`;
    if (ports.has(key)) {
      report(problems, port.at, `port ${port.name} on "${port.host}" is declared twice (first at ${where(ports.get(key))})`);
      continue;
    }
    ports.set(key, port.at);
    if (hosts.has(port.name) && linked.has(pairKey(port.host, port.name))) {
      report(problems, port.at, `port ${port.name} on "${port.host}" has the name of its link to host "${port.name}": a port and a link cannot share a name`);
    }
  }

  const rules = new Map<string, SourcePosition | undefined>();
  for (const rule of overlay.rules) {
    if (!hosts.has(rule.host)) {
      report(problems, rule.at, `rule is on unknown host "${rule.host}"`);
      continue;
    }
    const key = `${rule.host} ${rule.src} ${rule.dst} ${rule.priority}`;
    if (rules.has(key)) {
      report(problems, rule.at, `rule on "${rule.host}" for src ${rule.src} dst ${rule.dst} priority ${rule.priority} is declared twice (first at ${where(rules.get(key))})`);
      continue;
    }
    rules.set(key, rule.at);
    if (hosts.has(rule.via)) {
      if (!linked.has(pairKey(rule.host, rule.via))) report(problems, rule.at, `rule on "${rule.host}" goes via host "${rule.via}", but there is no link ${rule.host} ${rule.via}`);
    } else if (!ports.has(`${rule.host} ${rule.via}`)) {
      report(warnings, rule.at, `rule on "${rule.host}" goes via "${rule.via}", which is not a host: taken as a port of ${rule.host} (it must exist there for the rule to be used)`);
    }
  }
  const byPosition = (x: TopologyProblem, y: TopologyProblem) => x.line - y.line || x.column - y.column;
  return { problems: problems.sort(byPosition), warnings: warnings.sort(byPosition) };
}

/** Throws TopologyInvalidError listing every problem; returns the warnings. */
export function assertValidTopology(overlay: Overlay, file = 'topology'): TopologyProblem[] {
  const { problems, warnings } = checkTopology(overlay, file);
  if (problems.length > 0) throw new TopologyInvalidError(problems);
  return warnings;
}

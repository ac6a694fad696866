/**
 * Pure: what must change for the running overlay (TopologyState) to match a
 * description (Overlay, already checked). The answer is an ordered change
 * list plus what stands in the way:
 *
 *   changes    in the order they must run: rule deletes, link deletes, link
 *              adds, rule adds — deletes first, so a replaced link or rule
 *              frees its name/key/(src,dst,priority) before its successor
 *              comes. Within a group: the Proxy, then hosts by name.
 *   conflicts  reasons apply must refuse, whole, before anything changes.
 *   pending    changes on described hosts the Proxy cannot reach yet (a new
 *              host not started): they are left for a later apply; and
 *              described ports that are not attached (or attached otherwise):
 *              apply never adds, deletes or changes a port — the VM manager
 *              does (bin/vswitch-ifup, `vswitch port add`).
 *
 * What apply owns (docs/topology-language.md):
 *   - links: every link end on a reachable daemon, except the star links
 *     (host ↔ Proxy), which are the control path: the Proxy's end is added
 *     for a new host, but star links are never deleted or replaced (a
 *     difference is a conflict: change it in the daemons' configs). A link
 *     end matches when its peer's key and transport mode agree, whatever it
 *     is named (a fast path's end is "fp-<peer>"; an end with the peer's name
 *     and another key is that link with a wrong key); endpoints are not
 *     compared (WireGuard roams: the current endpoint is where the peer
 *     was last heard from).
 *   - rules: only those it installed (isManagedOwner). A rule of another
 *     owner with the same (src, dst, priority, target) satisfies the
 *     description; one with the same (src, dst, priority) and another target
 *     blocks it (conflict), since the rule table holds one per key.
 *   - hosts: never added or removed; a running host that is not described
 *     is a conflict.
 *   - ports: mentioned only. A rule `via` a name that is neither a link end
 *     (now or after the changes) nor a port of the host is a conflict when
 *     the host listed its ports: it would be refused (400 target) mid-apply.
 *   A policy's apply (ApplyScope, ownership.ts) owns only its own links and
 *   rules: it adds what is described, deletes what it owns and no longer
 *   describes, and leaves everything else alone; replacing another's link
 *   end is a conflict naming the owner.
 */
import type { LinkInput, RuleInput, RuleView } from '../overlay/primitives.js';
import type { Overlay, PortDecl, RuleDecl } from './ast.js';
import { OPERATOR_SCOPE, type ApplyScope } from './ownership.js';
import { plainEndpoint, type HostState, type LinkEndView, type TopologyState } from './state.js';

export type TopologyChange =
  | { op: 'delete-rule'; host: string; id: number; was: RuleInput }
  | { op: 'delete-link'; host: string; name: string; was: LinkInput }
  | { op: 'add-link'; host: string; link: LinkInput }
  | { op: 'add-rule'; host: string; rule: RuleInput };

export interface TopologyDiff {
  changes: TopologyChange[];
  conflicts: string[];
  pending: string[];
}

const OP_ORDER: Record<TopologyChange['op'], number> = { 'delete-rule': 0, 'delete-link': 1, 'add-link': 2, 'add-rule': 3 };

export function diffTopology(current: TopologyState, desired: Overlay, scope: ApplyScope = OPERATOR_SCOPE): TopologyDiff {
  const conflicts: string[] = [];
  const pending: string[] = [];
  const changes: TopologyChange[] = [];
  const proxyName = current.proxy.name;
  const desiredProxy = desired.hosts.find((h) => h.isProxy);
  if (desiredProxy && desiredProxy.name !== proxyName) {
    conflicts.push(`the description's proxy is "${desiredProxy.name}", but this Proxy is "${proxyName}"`);
  }
  const described = new Map(desired.hosts.map((h) => [h.name, h]));
  const running = new Map(current.hosts.map((h) => [h.name, h]));
  for (const h of current.hosts) {
    if (!described.has(h.name)) conflicts.push(`host "${h.name}" is linked to the Proxy but not described (apply never removes a host: describe it)`);
  }
  const proxyKey = desiredProxy?.publicKey ?? current.proxy.publicKey;
  const isStar = (host: string, peer: string) => host === proxyName || peer === proxyName;
  // A running end to the Proxy, by name or by key.
  const isStarEnd = (host: string, end: LinkEndView) => isStar(host, end.name) || (proxyKey !== undefined && end.publicKey === proxyKey);

  for (const host of desired.hosts) {
    const state = running.get(host.name);
    const wantLinks = desiredEnds(desired, host.name);
    const wantRules = desired.rules.filter((r) => r.host === host.name);
    if (state && !state.reachable) {
      conflicts.push(`host "${host.name}" did not answer (${state.error?.code ?? 'error'}): cannot compare or change it`);
      continue;
    }
    if (!state) {
      const waiting = wantLinks.filter((l) => !isStar(host.name, l.name)).length + wantRules.length;
      if (waiting > 0) pending.push(`host "${host.name}" is not linked to the Proxy yet: its ${waiting} link(s)/rule(s) wait until it is up (start it with its config, then apply again)`);
      continue;
    }
    const linkNames = diffLinks(state, wantLinks, isStar, isStarEnd, scope, changes, conflicts);
    diffRules(state, wantRules, linkNames, scope, changes, conflicts);
    diffPorts(state, (desired.ports ?? []).filter((p) => p.host === host.name), pending);
  }
  const rank = new Map([proxyName, ...desired.hosts.map((h) => h.name).filter((n) => n !== proxyName).sort()].map((n, i) => [n, i]));
  changes.sort((x, y) => OP_ORDER[x.op] - OP_ORDER[y.op] || (rank.get(x.host) ?? 0) - (rank.get(y.host) ?? 0));
  return { changes, conflicts, pending };
}

/** The link ends the description puts on `host`: one per link, named after the other end. */
function desiredEnds(desired: Overlay, host: string): LinkInput[] {
  const keyOf = new Map(desired.hosts.map((h) => [h.name, h]));
  return desired.links
    .filter((l) => l.a === host || l.b === host)
    .map((l) => {
      const peer = keyOf.get(l.a === host ? l.b : l.a)!;
      return { name: peer.name, publicKey: peer.publicKey, ...(peer.endpoint ? { endpoint: peer.endpoint } : {}), transport: l.transport };
    })
    .sort((x, y) => (x.name < y.name ? -1 : 1));
}

/**
 * A running end matches a described link by its peer's key, whatever its name (the fast-path plugin's ends are
 * "fp-<peer>"); an end with the peer's name but another key is the described link with a wrong key. Returns, per
 * described peer, the name its link has on this host once the changes ran (for the rules via that peer).
 */
function diffLinks(
  state: HostState,
  want: LinkInput[],
  isStar: (h: string, p: string) => boolean,
  isStarEnd: (h: string, end: LinkEndView) => boolean,
  scope: ApplyScope,
  changes: TopologyChange[],
  conflicts: string[],
): Map<string, string> {
  const matched = new Map<LinkInput, LinkEndView>();
  const taken = new Set<LinkEndView>();
  for (const link of want) {
    const end = state.links.find((l) => l.publicKey === link.publicKey && !taken.has(l));
    if (end) {
      matched.set(link, end);
      taken.add(end);
    }
  }
  for (const link of want) {
    if (matched.has(link)) continue;
    const end = state.links.find((l) => l.name === link.name && !taken.has(l));
    if (end) {
      matched.set(link, end);
      taken.add(end);
    }
  }
  const names = new Map<string, string>();
  for (const link of want) {
    const end = matched.get(link);
    names.set(link.name, end?.name ?? link.name);
    if (end && end.publicKey === link.publicKey && end.mode === (link.transport ?? 'auto')) continue;
    if (end && isStar(state.name, link.name)) {
      conflicts.push(`star link ${state.name} → ${link.name} differs from the description (key or transport): change it in the daemons' configs`);
      continue;
    }
    if (!end && isStar(state.name, link.name) && !state.isProxy) continue; // a host's end of its star link comes from its config
    if (end && !scope.ownsLink(end.owner)) {
      conflicts.push(`${state.name}: link ${end.name} (owner ${end.owner ?? 'config'}) differs from the description (key or transport), and this apply may not replace it`);
      continue;
    }
    if (end) changes.push({ op: 'delete-link', host: state.name, name: end.name, was: linkInputOf(end) });
    changes.push({ op: 'add-link', host: state.name, link });
    names.set(link.name, link.name);
  }
  for (const end of state.links) {
    if (taken.has(end)) continue;
    if (isStarEnd(state.name, end)) continue; // undescribed hosts are reported as conflicts above
    if (!scope.ownsLink(end.owner)) continue; // a policy leaves what others made alone
    changes.push({ op: 'delete-link', host: state.name, name: end.name, was: linkInputOf(end) });
  }
  return names;
}

/** A rule via a host goes out of this host's link to it, whatever that link is named (`linkNames`). */
function diffRules(state: HostState, wantDecls: RuleDecl[], linkNames: ReadonlyMap<string, string>, scope: ApplyScope, changes: TopologyChange[], conflicts: string[]): void {
  const sameKey = (r: RuleView, d: RuleDecl) => r.src === d.src && r.dst === d.dst && r.priority === d.priority;
  const want = wantDecls.map((rule) => ({ ...rule, via: linkNames.get(rule.via) ?? rule.via }));
  const kept = new Set<number>();
  const exits = new Set([...state.links.map((l) => l.name), ...linkNames.values(), ...(state.ports ?? []).map((p) => p.name)]);
  for (const rule of want) {
    if (state.ports !== undefined && !exits.has(rule.via)) {
      conflicts.push(`${state.name}: the rule src ${rule.src} dst ${rule.dst} goes via "${rule.via}", which is no port or link of ${state.name}: attach the port first (apply does not add ports)`);
      continue;
    }
    const exact = state.rules.find((r) => sameKey(r, rule) && r.target === rule.via);
    if (exact) {
      kept.add(exact.id);
      continue;
    }
    const blocker = state.rules.find((r) => sameKey(r, rule) && !scope.ownsRule(r.owner));
    if (blocker) {
      conflicts.push(
        `${state.name}: rule ${blocker.id} (src ${blocker.src} dst ${blocker.dst} priority ${blocker.priority} via ${blocker.target}, owner ${blocker.owner}) blocks the described rule via ${rule.via}: delete it or change the description`,
      );
      continue;
    }
    changes.push({ op: 'add-rule', host: state.name, rule: ruleInputOf(rule) });
  }
  for (const r of state.rules) {
    if (scope.ownsRule(r.owner) && !kept.has(r.id)) {
      changes.push({ op: 'delete-rule', host: state.name, id: r.id, was: { src: r.src, dst: r.dst, target: r.target, priority: r.priority } });
    }
  }
}

/** Described ports are compared, never changed: what differs is noted in `pending` for the VM manager. */
function diffPorts(state: HostState, want: PortDecl[], pending: string[]): void {
  if (state.ports === undefined) {
    if (want.length > 0) pending.push(`${state.name}: did not list its ports (an older daemon): its ${want.length} described port(s) are not compared`);
    return;
  }
  for (const port of want) {
    const running = state.ports.find((p) => p.name === port.name);
    const described = port.type === 'capture' ? `capture on ${port.interface}` : 'tap';
    if (!running) {
      pending.push(`${state.name}: port ${port.name} (${described}) is not attached: apply does not add ports (the VM manager attaches it: vswitch-ifup, vswitch port add)`);
      continue;
    }
    const actual = running.interface === undefined ? 'tap' : `capture on ${running.interface}`;
    if (actual !== described) pending.push(`${state.name}: port ${port.name} is attached as ${actual}, described as ${described}: apply does not change ports`);
  }
}

function ruleInputOf(rule: RuleDecl): RuleInput {
  return { src: rule.src, dst: rule.dst, target: rule.via, priority: rule.priority };
}

/** What re-creates a link end as it is (for undo). */
function linkInputOf(end: LinkEndView): LinkInput {
  const endpoint = plainEndpoint(end.endpoint);
  return { name: end.name, publicKey: end.publicKey, transport: end.mode, ...(endpoint ? { endpoint } : {}) };
}

/** One line per change, for people: "h1: add rule src any dst none via proxy". */
export function describeChange(change: TopologyChange): string {
  switch (change.op) {
    case 'add-link':
      return `${change.host}: add link ${change.link.name} (transport ${change.link.transport ?? 'auto'}${change.link.endpoint ? `, endpoint ${change.link.endpoint}` : ''})`;
    case 'delete-link':
      return `${change.host}: delete link ${change.name}`;
    case 'add-rule':
      return `${change.host}: add rule ${ruleText(change.rule)}`;
    case 'delete-rule':
      return `${change.host}: delete rule ${change.id} (${ruleText(change.was)})`;
  }
}

function ruleText(r: RuleInput): string {
  return `src ${r.src} dst ${r.dst} via ${r.target}${r.priority ? ` priority ${r.priority}` : ''}`;
}

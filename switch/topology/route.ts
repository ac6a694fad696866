/**
 * Pure: the route a unicast frame from `src` to `dst` takes through the
 * overlay, hop by hop, as each daemon's switch core would decide it (the
 * order of switch/pipeline/forward.ts): group destination → flood; the best
 * non-default rule whose target exists → out; a learned destination → out
 * (learned on the in-port → dropped, the frame is already there); the best
 * default rule → out; else flood. Rules are looked up in a real RuleTable
 * built from each daemon's listed rules, so the winner is the one the
 * daemon would pick. A hop out of a link goes to the host at its other end —
 * the host with the link's public key, whatever the link is named (a fast
 * path's ends are "fp-<peer>") — and arrives there on that host's link back
 * to this one.
 *
 * The walk ends when the frame leaves by a local port (delivered), floods,
 * is dropped, reaches a host the Proxy could not read (unreachable), or comes
 * back to a (host, in-port) it already passed (loop).
 */
import { isMulticast, parseMac, type Mac } from '../frame/mac.js';
import { InvalidInputError, type RuleView } from '../overlay/primitives.js';
import { RuleTable, type RuleEntry } from '../rules/rule-table.js';
import { peerIndex, type HostState, type TopologyState } from './state.js';

export interface RouteQuery {
  src: string;
  dst: string;
  /** The host the frame enters at; default: the host that learned `src` on a local (non-link) port. */
  from?: string;
}

export type RouteStep = 'rule' | 'learned' | 'default-rule' | 'flood' | 'drop';

export interface RouteHop {
  host: string;
  inPort: string;
  step: RouteStep;
  /** The rule matched (step rule / default-rule). */
  rule?: RuleView;
  outPort?: string;
  /** The host the frame goes to next, when it leaves by a link. */
  next?: string;
  /** Why it was dropped or flooded. */
  reason?: string;
}

export type RouteOutcome = 'delivered' | 'flooded' | 'dropped' | 'unreachable' | 'loop';

export interface RouteResult {
  src: string;
  dst: string;
  hops: RouteHop[];
  outcome: RouteOutcome;
}

const MAX_HOPS = 64;
const ORIGIN_PORT = '(local)';

export function traceRoute(state: TopologyState, query: RouteQuery): RouteResult {
  const src = macOf('src', query.src);
  const dst = macOf('dst', query.dst);
  const srcText = query.src.toLowerCase();
  const dstText = query.dst.toLowerCase();
  const hosts = new Map(state.hosts.map((h) => [h.name, h]));
  const peers = peerIndex(state);
  let { host, inPort } = origin(state, hosts, srcText, query.from);
  const hops: RouteHop[] = [];
  const seen = new Set<string>();
  const result = (outcome: RouteOutcome): RouteResult => ({ src: srcText, dst: dstText, hops, outcome });

  for (;;) {
    const visit = `${host.name}\u0000${inPort}`;
    if (seen.has(visit) || hops.length >= MAX_HOPS) return result('loop');
    seen.add(visit);
    if (!host.reachable) {
      hops.push({ host: host.name, inPort, step: 'drop', reason: `unreachable (${host.error?.code ?? 'error'})` });
      return result('unreachable');
    }
    const hop = decide(host, inPort, src, dst, dstText);
    hops.push(hop);
    if (hop.step === 'flood') return result('flooded');
    if (hop.step === 'drop') return result('dropped');
    const out = hop.outPort!;
    const end = host.links.find((l) => l.name === out);
    const isLink = end !== undefined || host.interfaces?.some((i) => i.name === out && i.kind === 'link') === true;
    if (!isLink) return result('delivered');
    const peer = end ? peers.peerOf(end) : out;
    hop.next = peer;
    const next = hosts.get(peer);
    if (!next) {
      hops.push({ host: peer, inPort: host.name, step: 'drop', reason: 'not a host the Proxy knows' });
      return result('unreachable');
    }
    inPort = peers.endTo(next, host.name)?.name ?? host.name;
    host = next;
  }
}

function decide(host: HostState, inPort: string, src: Mac, dst: Mac, dstText: string): RouteHop {
  const base = { host: host.name, inPort };
  if (isMulticast(dst)) return { ...base, step: 'flood', reason: 'group destination' };
  const ports = host.interfaces ? new Set(host.interfaces.map((i) => i.name)) : undefined;
  const { table, views } = ruleTableOf(host.rules);
  const isUsable = (e: RuleEntry) => ports === undefined || ports.has(e.rule.target);
  const viaRule = (entry: RuleEntry, step: 'rule' | 'default-rule'): RouteHop => {
    const rule = views.get(entry.rule.id)!;
    if (rule.target === inPort) return { ...base, step: 'drop', rule, reason: 'hairpin: the rule sends it back where it came from' };
    return { ...base, step, rule, outPort: rule.target };
  };
  const explicit = table.matchExplicit(src, dst, isUsable);
  if (explicit) return viaRule(explicit, 'rule');
  const learned = host.macs?.find((m) => m.mac === dstText);
  if (learned && (ports === undefined || ports.has(learned.port))) {
    if (learned.port === inPort) return { ...base, step: 'drop', reason: 'same-port: the destination was learned on the in-port' };
    return { ...base, step: 'learned', outPort: learned.port };
  }
  const fallback = table.matchDefault(src, isUsable);
  if (fallback) return viaRule(fallback, 'default-rule');
  return { ...base, step: 'flood', reason: 'unknown unicast: no rule, not learned' };
}

function ruleTableOf(rules: readonly RuleView[]): { table: RuleTable; views: Map<number, RuleView> } {
  const table = new RuleTable();
  const views = new Map<number, RuleView>();
  for (const view of rules) {
    const src = view.src === 'any' ? 'any' : parseMac(view.src);
    const dst = view.dst === 'any' || view.dst === 'none' ? view.dst : parseMac(view.dst);
    if (src === undefined || dst === undefined) continue;
    const rule = table.replace({ src, dst, target: view.target, priority: view.priority }).rule;
    views.set(rule.id, view);
  }
  return { table, views };
}

function origin(state: TopologyState, hosts: Map<string, HostState>, src: string, from: string | undefined): { host: HostState; inPort: string } {
  const localPortOf = (h: HostState) => {
    const entry = h.macs?.find((m) => m.mac === src);
    const isLink = entry !== undefined && (h.links.some((l) => l.name === entry.port) || h.interfaces?.some((i) => i.name === entry.port && i.kind === 'link'));
    return entry && !isLink ? entry.port : undefined;
  };
  if (from !== undefined) {
    const host = hosts.get(from);
    if (!host) throw new InvalidInputError('from', `no host named "${from}" in the overlay`);
    return { host, inPort: localPortOf(host) ?? ORIGIN_PORT };
  }
  const candidates = state.hosts.filter((h) => localPortOf(h) !== undefined);
  if (candidates.length !== 1) {
    const why = candidates.length === 0 ? 'is not learned on a local port of any host' : `is learned on local ports of ${candidates.map((h) => h.name).join(', ')}`;
    throw new InvalidInputError('from', `src ${src} ${why}: name the host it enters at`);
  }
  return { host: candidates[0]!, inPort: localPortOf(candidates[0]!)! };
}

function macOf(field: string, text: string): Mac {
  const mac = parseMac(text.toLowerCase());
  if (mac === undefined) throw new InvalidInputError(field, `must be a MAC address (found "${text}")`);
  return mac;
}

/**
 * adapt: VTTIF's application topology → the fast-path overlay the Proxy wants (Virtuoso paper §4: "add direct
 * overlay links between the hosts whose VMs talk, heaviest first"). Pure: no I/O, time is `nowMs`.
 *
 *   1. Each edge (VM a, VM b, intensity) is mapped to its hosts (macToHost); edges inside one host, or with an
 *      unknown VM, are left to the star. A host pair's weight is the sum of its VM pairs' intensities.
 *   2. A pair becomes a candidate once it has been in the topology for addAfterMs and is not backing off after a
 *      failure (unreachableUntilMs).
 *   3. Links absent from the topology but inside their hysteresis (removeAfterMs since last seen) are kept and
 *      hold their slots; then candidates, heaviest first, take links up to maxLinksPerHost on each end and
 *      maxLinks in all. Existing links keep their slots before newcomers, so near-equal pairs do not churn;
 *      a lowered cap drops the lightest existing links (the cap is the operator's knob: Figure 11's k).
 *   4. VM pairs get the same hysteresis as links: a rule stays until its pair has been absent for removeAfterMs.
 *
 * The result is the new state plus the changes that take the old state to it, in a safe order: rules before the
 * link they use are deleted; links before the rules that use them are added (the glue adds those rules only when
 * the link is up). The star is never touched: it carries everything no rule claims.
 */

export interface FastPathParameters {
  /** Fast-path links at most per host (7 = every pair of 8 hosts). 0 = the star alone. */
  readonly maxLinksPerHost: number;
  /** Fast-path links at most in all (the paper's Figure 11 varies this: 0, 7, 14, 21, 28). */
  readonly maxLinks: number;
  /** A host pair must be in VTTIF's topology this long before its link is added. */
  readonly addAfterMs: number;
  /** A link (and a VM pair's rules) goes only once its pair has been absent from the topology this long. */
  readonly removeAfterMs: number;
  /** After a fast link failed, the pair is left to the star this long. */
  readonly unreachableBackoffMs: number;
}

export const DEFAULT_FASTPATH_PARAMETERS: FastPathParameters = {
  maxLinksPerHost: 7,
  maxLinks: 1000,
  addAfterMs: 0,
  removeAfterMs: 10_000,
  unreachableBackoffMs: 30_000,
};

/** An edge of VTTIF's application topology (MACs in colon form). */
export interface AppEdge {
  readonly a: string;
  readonly b: string;
  readonly intensity: number;
}

/** A VM pair on a fast link: `macA` lives on host `a`, `macB` on host `b` (the link's ends). */
export interface VmPair {
  readonly macA: string;
  readonly macB: string;
  readonly lastSeenMs: number;
}

export interface FastLinkRecord {
  /** Hosts, a < b. */
  readonly a: string;
  readonly b: string;
  /** Sum of the VM pairs' intensities when last seen. */
  readonly weight: number;
  readonly lastSeenMs: number;
  /** By vmPairKey. */
  readonly vmPairs: ReadonlyMap<string, VmPair>;
}

export interface AdaptState {
  /** By hostPairKey. */
  readonly links: ReadonlyMap<string, FastLinkRecord>;
  /** Pairs in the topology that have no link yet: when they were first seen. */
  readonly firstSeenMs: ReadonlyMap<string, number>;
  /** Pairs whose link failed: not tried again before this time. */
  readonly unreachableUntilMs: ReadonlyMap<string, number>;
}

export const EMPTY_ADAPT_STATE: AdaptState = { links: new Map(), firstSeenMs: new Map(), unreachableUntilMs: new Map() };

/** On `host`, frames src → dst leave by the fast link to `peer`. */
export interface FastRuleChange {
  readonly host: string;
  readonly peer: string;
  readonly src: string;
  readonly dst: string;
}

export type FastPathChange =
  | { readonly kind: 'delete-rule'; readonly rule: FastRuleChange }
  | { readonly kind: 'delete-link'; readonly a: string; readonly b: string }
  | { readonly kind: 'add-link'; readonly a: string; readonly b: string }
  | { readonly kind: 'add-rule'; readonly rule: FastRuleChange };

export interface AdaptInput {
  readonly edges: readonly AppEdge[];
  readonly macToHost: ReadonlyMap<string, string>;
  readonly state: AdaptState;
  readonly parameters: FastPathParameters;
  readonly nowMs: number;
}

export interface AdaptResult {
  readonly state: AdaptState;
  readonly changes: FastPathChange[];
}

export function hostPairKey(a: string, b: string): string {
  return a < b ? `${a} ${b}` : `${b} ${a}`;
}

export function vmPairKey(macA: string, macB: string): string {
  return `${macA} ${macB}`;
}

interface Present {
  a: string;
  b: string;
  weight: number;
  vmPairs: Map<string, VmPair>;
}

export function adapt(input: AdaptInput): AdaptResult {
  const { state, parameters, nowMs } = input;
  const present = presentPairs(input.edges, input.macToHost, nowMs);

  const firstSeenMs = new Map<string, number>();
  for (const key of present.keys()) if (!state.links.has(key)) firstSeenMs.set(key, state.firstSeenMs.get(key) ?? nowMs);
  const unreachableUntilMs = new Map([...state.unreachableUntilMs].filter(([, until]) => until > nowMs));

  const slots = new Map<string, number>();
  let total = 0;
  const take = (a: string, b: string): boolean => {
    const cap = parameters.maxLinksPerHost;
    if (total >= parameters.maxLinks) return false;
    if ((slots.get(a) ?? 0) >= cap || (slots.get(b) ?? 0) >= cap) return false;
    slots.set(a, (slots.get(a) ?? 0) + 1);
    slots.set(b, (slots.get(b) ?? 0) + 1);
    total++;
    return true;
  };

  const links = new Map<string, FastLinkRecord>();
  // Absent links inside their hysteresis hold their slots first, oldest-seen last.
  const lingering = [...state.links].filter(([key, l]) => !present.has(key) && nowMs - l.lastSeenMs < parameters.removeAfterMs);
  lingering.sort(([ka, la], [kb, lb]) => lb.lastSeenMs - la.lastSeenMs || lb.weight - la.weight || ka.localeCompare(kb));
  for (const [key, link] of lingering) {
    if (unreachableUntilMs.has(key) || !take(link.a, link.b)) continue;
    links.set(key, { ...link, vmPairs: lingeringVmPairs(link.vmPairs, undefined, nowMs, parameters.removeAfterMs) });
  }
  // Then the pairs in the topology, heaviest first.
  const candidates = [...present].filter(([key]) => {
    if (unreachableUntilMs.has(key)) return false;
    if (state.links.has(key)) return true;
    return nowMs - (firstSeenMs.get(key) ?? nowMs) >= parameters.addAfterMs;
  });
  // Links that exist keep their slots before newcomers (no churn among near-equal pairs: BSP patterns are all ties).
  const isKept = (key: string): number => (state.links.has(key) ? 1 : 0);
  candidates.sort(([ka, pa], [kb, pb]) => isKept(kb) - isKept(ka) || pb.weight - pa.weight || ka.localeCompare(kb));
  for (const [key, pair] of candidates) {
    if (!take(pair.a, pair.b)) continue;
    const old = state.links.get(key);
    links.set(key, {
      a: pair.a,
      b: pair.b,
      weight: pair.weight,
      lastSeenMs: nowMs,
      vmPairs: lingeringVmPairs(old?.vmPairs ?? new Map(), pair.vmPairs, nowMs, parameters.removeAfterMs),
    });
    firstSeenMs.delete(key);
  }

  return { state: { links, firstSeenMs, unreachableUntilMs }, changes: diffStates(state.links, links) };
}

/**
 * The pair failed (its link never came up, or went down): forget its link (the caller has removed it, rules
 * first) and leave the pair to the star for unreachableBackoffMs.
 */
export function markUnreachable(state: AdaptState, a: string, b: string, nowMs: number, parameters: FastPathParameters): AdaptState {
  const key = hostPairKey(a, b);
  const links = new Map(state.links);
  links.delete(key);
  const firstSeenMs = new Map(state.firstSeenMs);
  firstSeenMs.delete(key);
  const unreachableUntilMs = new Map(state.unreachableUntilMs);
  unreachableUntilMs.set(key, nowMs + parameters.unreachableBackoffMs);
  return { links, firstSeenMs, unreachableUntilMs };
}

/**
 * VM `mac` now lives on `host` (the Proxy announced a move): every VM pair that has it on another host leaves the
 * state at once — no hysteresis, since its rules send the VM's frames to where it was — and so does a link left with
 * no VM pair (nothing would use it; its slot is free for the link at the new host). Returns the rules and links to
 * delete. The next adapt() maps the VM's edges to `host` and forms fast paths there.
 */
export function forgetMovedVm(state: AdaptState, mac: string, host: string): AdaptResult {
  const links = new Map(state.links);
  const deleteRules: FastPathChange[] = [];
  const deleteLinks: FastPathChange[] = [];
  for (const [key, link] of state.links) {
    const stale = [...link.vmPairs].filter(([, p]) => (p.macA === mac && link.a !== host) || (p.macB === mac && link.b !== host));
    if (stale.length === 0) continue;
    for (const [, pair] of stale) for (const rule of rulesOf(link, pair)) deleteRules.push({ kind: 'delete-rule', rule });
    const vmPairs = new Map(link.vmPairs);
    for (const [vmKey] of stale) vmPairs.delete(vmKey);
    if (vmPairs.size > 0) links.set(key, { ...link, vmPairs });
    else {
      links.delete(key);
      deleteLinks.push({ kind: 'delete-link', a: link.a, b: link.b });
    }
  }
  return { state: { ...state, links }, changes: [...deleteRules, ...deleteLinks] };
}

/** The rules of one fast link, both directions, on both ends. */
export function rulesOf(link: Pick<FastLinkRecord, 'a' | 'b'>, pair: Pick<VmPair, 'macA' | 'macB'>): FastRuleChange[] {
  return [
    { host: link.a, peer: link.b, src: pair.macA, dst: pair.macB },
    { host: link.b, peer: link.a, src: pair.macB, dst: pair.macA },
  ];
}

/** Changes that take `before` to `after`: rule deletions, link deletions, link additions, rule additions. */
export function diffStates(before: ReadonlyMap<string, FastLinkRecord>, after: ReadonlyMap<string, FastLinkRecord>): FastPathChange[] {
  const deleteRules: FastPathChange[] = [];
  const deleteLinks: FastPathChange[] = [];
  const addLinks: FastPathChange[] = [];
  const addRules: FastPathChange[] = [];
  for (const [key, old] of before) {
    const now = after.get(key);
    for (const [vmKey, pair] of old.vmPairs) {
      if (now?.vmPairs.has(vmKey)) continue;
      for (const rule of rulesOf(old, pair)) deleteRules.push({ kind: 'delete-rule', rule });
    }
    if (!now) deleteLinks.push({ kind: 'delete-link', a: old.a, b: old.b });
  }
  for (const [key, now] of after) {
    const old = before.get(key);
    if (!old) addLinks.push({ kind: 'add-link', a: now.a, b: now.b });
    for (const [vmKey, pair] of now.vmPairs) {
      if (old?.vmPairs.has(vmKey)) continue;
      for (const rule of rulesOf(now, pair)) addRules.push({ kind: 'add-rule', rule });
    }
  }
  return [...deleteRules, ...deleteLinks, ...addLinks, ...addRules];
}

function presentPairs(edges: readonly AppEdge[], macToHost: ReadonlyMap<string, string>, nowMs: number): Map<string, Present> {
  const present = new Map<string, Present>();
  for (const edge of edges) {
    const hostOfA = macToHost.get(edge.a);
    const hostOfB = macToHost.get(edge.b);
    if (hostOfA === undefined || hostOfB === undefined || hostOfA === hostOfB) continue;
    const [a, b, macA, macB] = hostOfA < hostOfB ? [hostOfA, hostOfB, edge.a, edge.b] : [hostOfB, hostOfA, edge.b, edge.a];
    const key = hostPairKey(a, b);
    const pair = present.get(key) ?? { a, b, weight: 0, vmPairs: new Map<string, VmPair>() };
    pair.weight += edge.intensity;
    pair.vmPairs.set(vmPairKey(macA, macB), { macA, macB, lastSeenMs: nowMs });
    present.set(key, pair);
  }
  return present;
}

/** Current VM pairs plus old ones still inside their hysteresis. */
function lingeringVmPairs(
  old: ReadonlyMap<string, VmPair>,
  current: ReadonlyMap<string, VmPair> | undefined,
  nowMs: number,
  removeAfterMs: number,
): Map<string, VmPair> {
  const pairs = new Map(current ?? []);
  for (const [key, pair] of old) if (!pairs.has(key) && nowMs - pair.lastSeenMs < removeAfterMs) pairs.set(key, pair);
  return pairs;
}

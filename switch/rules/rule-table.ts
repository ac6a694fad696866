/**
 * RuleTable: the VNET forwarding table, a priority classifier over
 * (source MAC, destination MAC) — the vocabulary is OVS lib/classifier.h.
 *
 * Which rule wins. Among the rules that match a frame, the winner is the
 * first in this order:
 *   1. non-default rules (dst exact or `any`) before default rules (dst `none`),
 *      whatever their explicit priority — the paper's default rule "has the
 *      lowest possible priority";
 *   2. explicit `priority` descending (absent = 0; may be negative);
 *   3. match strength descending: (src exact, dst exact) > (any, exact) >
 *      (exact, any) > (any, any) > (exact, none) > (any, none). See
 *      MATCH_KIND_STRENGTH for why destination-exact beats source-exact;
 *   4. lower id (the older rule).
 * Step 4 is the documented total order, but it is never reached: for a given
 * frame a match kind determines the whole (src, dst) key, so two matching
 * rules of the same kind have the same key, and the same key at the same
 * priority is refused at insert (RuleConflictError).
 *
 * How it is found. One hash index per match kind, keyed by the exact fields
 * (a nested Map src → dst for exact-exact: 96 bits do not fit one double and
 * a string key would allocate per lookup). Each index slot holds a small
 * bucket of rules with that key, sorted by priority descending (priorities
 * in a bucket are distinct). A lookup probes the kinds strongest first and
 * skips a kind whose highest priority cannot beat the best found so far; an
 * empty kind has no priority and is always skipped. With no explicit
 * priorities this is at most one probe per kind up to the first hit.
 *
 * `isUsable` lets the caller skip rules as if absent (e.g. a target port that
 * does not exist yet); the next-best usable rule is returned.
 */
import { formatMac, isMac, type Mac } from '../frame/mac.js';
import { matchKindOf, type MatchKind, type Rule, type RuleSpec } from './rule.js';
import { RuleConflictError, RuleInvalidError, RuleNotFoundError } from './rule-errors.js';

/** A rule plus what the table and the pipeline keep about it. */
export interface RuleEntry {
  readonly rule: Rule;
  readonly kind: MatchKind;
  /** `rule.priority ?? 0` */
  readonly priority: number;
  readonly isDefault: boolean;
  hitFrames: number;
  hitBytes: number;
}

export interface RuleStats {
  id: number;
  hitFrames: number;
  hitBytes: number;
}

export type RuleUsable = (entry: RuleEntry) => boolean;

type Bucket = RuleEntry[];

const KIND_INDEX: Readonly<Record<MatchKind, number>> = {
  'exact-exact': 0,
  'any-exact': 1,
  'exact-any': 2,
  'any-any': 3,
  'exact-none': 4,
  'any-none': 5,
};
const KIND_COUNT = 6;

export class RuleTable {
  private nextId = 1;
  private changeCount = 0;
  /** Called after every insert/remove/replace (a decision cache outside JS must be flushed at once). */
  onChange: (() => void) | undefined;
  /** Called before list()/stats() read hit counters (counters kept elsewhere, e.g. the flow offload, are folded in first). */
  onRead: (() => void) | undefined;
  private readonly byId = new Map<number, RuleEntry>();

  // One index per match kind (see the design note).
  private readonly exactExact = new Map<Mac, Map<Mac, Bucket>>();
  private readonly anyExact = new Map<Mac, Bucket>(); // keyed by dst
  private readonly exactAny = new Map<Mac, Bucket>(); // keyed by src
  private anyAny: Bucket = [];
  private readonly exactNone = new Map<Mac, Bucket>(); // keyed by src
  private anyNone: Bucket = [];

  /** Per kind: priority → number of rules, and the max (-Infinity when the kind is empty). */
  private readonly priorityCounts: Map<number, number>[] = Array.from({ length: KIND_COUNT }, () => new Map());
  private readonly maxPriority: number[] = new Array<number>(KIND_COUNT).fill(-Infinity);

  get size(): number {
    return this.byId.size;
  }

  /** Bumped on every insert/remove/replace: lets a decision cache know it is stale. */
  get version(): number {
    return this.changeCount;
  }

  /** Adds a rule; throws RuleInvalidError or RuleConflictError. Ids increase monotonically. */
  insert(spec: RuleSpec): Rule {
    validateSpec(spec);
    const existing = this.find(spec.src, spec.dst, spec.priority ?? 0);
    if (existing) throw new RuleConflictError(existing.id, describeMatch(spec), spec.priority ?? 0);
    return this.add(spec);
  }

  /** The id the next insert gets (the durable state saves it, so a restart never gives a deleted rule's id again). */
  get nextRuleId(): number {
    return this.nextId;
  }

  /** Ids below `nextId` are never given by insert (a restored state's rules keep theirs). */
  reserveIdsBelow(nextId: number): void {
    if (Number.isSafeInteger(nextId) && nextId > this.nextId) this.nextId = nextId;
  }

  /**
   * Re-inserts a saved rule under its own id (state restore), with fresh counters; later inserts get larger ids.
   * Throws RuleConflictError (a rule with the same match and priority exists) or RuleInvalidError (a bad spec, or
   * an id that is taken or not a positive integer).
   */
  restore(rule: Rule): Rule {
    const { id, ...spec } = rule;
    if (!Number.isSafeInteger(id) || id < 1) throw new RuleInvalidError('id', 'a rule id must be a positive integer');
    if (this.byId.has(id)) throw new RuleInvalidError('id', `rule id ${id} is taken`);
    validateSpec(spec);
    const existing = this.find(spec.src, spec.dst, spec.priority ?? 0);
    if (existing) throw new RuleConflictError(existing.id, describeMatch(spec), spec.priority ?? 0);
    this.reserveIdsBelow(id + 1);
    return this.add(spec, id);
  }

  /**
   * Inserts `spec`, displacing the rule with the same (src, dst, priority) if
   * there is one (OVS classifier_replace). The new rule gets a new id and
   * fresh counters. Returns the displaced rule.
   */
  replace(spec: RuleSpec): { rule: Rule; replaced: Rule | undefined } {
    validateSpec(spec);
    const replaced = this.find(spec.src, spec.dst, spec.priority ?? 0);
    if (replaced) this.remove(replaced.id);
    return { rule: this.add(spec), replaced };
  }

  remove(id: number): boolean {
    const entry = this.byId.get(id);
    if (!entry) return false;
    this.byId.delete(id);
    const { rule } = entry;
    const kindIndex = KIND_INDEX[entry.kind];
    switch (kindIndex) {
      case 0: {
        const inner = this.exactExact.get(rule.src as Mac)!;
        if (removeFromBucket(inner.get(rule.dst as Mac)!, entry) === 0) {
          inner.delete(rule.dst as Mac);
          if (inner.size === 0) this.exactExact.delete(rule.src as Mac);
        }
        break;
      }
      case 1:
        removeKeyed(this.anyExact, rule.dst as Mac, entry);
        break;
      case 2:
        removeKeyed(this.exactAny, rule.src as Mac, entry);
        break;
      case 3:
        removeFromBucket(this.anyAny, entry);
        break;
      case 4:
        removeKeyed(this.exactNone, rule.src as Mac, entry);
        break;
      default:
        removeFromBucket(this.anyNone, entry);
    }
    const counts = this.priorityCounts[kindIndex]!;
    const left = counts.get(entry.priority)! - 1;
    if (left > 0) {
      counts.set(entry.priority, left);
    } else {
      counts.delete(entry.priority);
      if (entry.priority === this.maxPriority[kindIndex]) {
        let max = -Infinity;
        for (const priority of counts.keys()) if (priority > max) max = priority;
        this.maxPriority[kindIndex] = max;
      }
    }
    this.changeCount++;
    this.onChange?.();
    return true;
  }

  /** Removes every rule whose `owner` is `owner`; returns how many. */
  removeOwnedBy(owner: string): number {
    let removed = 0;
    for (const entry of [...this.byId.values()]) {
      if (entry.rule.owner === owner && this.remove(entry.rule.id)) removed++;
    }
    return removed;
  }

  /** The rule with exactly this match and priority (OVS classifier_find_rule_exactly). */
  find(src: Mac | 'any', dst: Mac | 'any' | 'none', priority = 0): Rule | undefined {
    const bucket = this.bucketFor(src, dst);
    if (!bucket) return undefined;
    for (let i = 0; i < bucket.length; i++) if (bucket[i]!.priority === priority) return bucket[i]!.rule;
    return undefined;
  }

  get(id: number): Rule | undefined {
    return this.byId.get(id)?.rule;
  }

  entry(id: number): RuleEntry | undefined {
    return this.byId.get(id);
  }

  /** All rules, oldest first. */
  list(): Rule[] {
    this.onRead?.();
    const rules: Rule[] = [];
    for (const entry of this.byId.values()) rules.push(entry.rule);
    return rules;
  }

  stats(): RuleStats[] {
    this.onRead?.();
    const stats: RuleStats[] = [];
    for (const entry of this.byId.values()) {
      stats.push({ id: entry.rule.id, hitFrames: entry.hitFrames, hitBytes: entry.hitBytes });
    }
    return stats;
  }

  statsOf(id: number): RuleStats {
    const entry = this.byId.get(id);
    if (!entry) throw new RuleNotFoundError(id);
    return { id, hitFrames: entry.hitFrames, hitBytes: entry.hitBytes };
  }

  /** The winning rule for a frame from `src` to `dst`, default rules included. */
  lookup(src: Mac, dst: Mac): Rule | undefined {
    return (this.matchExplicit(src, dst) ?? this.matchDefault(src))?.rule;
  }

  /** Like lookup, but returns the entry (with its counters) and honours `isUsable`. */
  match(src: Mac, dst: Mac, isUsable?: RuleUsable): RuleEntry | undefined {
    return this.matchExplicit(src, dst, isUsable) ?? this.matchDefault(src, isUsable);
  }

  /** The best non-default rule (dst exact or any). */
  matchExplicit(src: Mac, dst: Mac, isUsable?: RuleUsable): RuleEntry | undefined {
    const maxPriority = this.maxPriority;
    let best: RuleEntry | undefined;
    let candidate: RuleEntry | undefined;
    // Kinds are probed strongest first, so a later kind wins only with a strictly higher priority.
    if (maxPriority[0]! > -Infinity) {
      const bucket = this.exactExact.get(src)?.get(dst);
      if (bucket) best = firstUsable(bucket, isUsable);
    }
    if (best === undefined ? maxPriority[1]! > -Infinity : maxPriority[1]! > best.priority) {
      const bucket = this.anyExact.get(dst);
      if (bucket && (candidate = firstUsable(bucket, isUsable)) && (!best || candidate.priority > best.priority)) {
        best = candidate;
      }
    }
    if (best === undefined ? maxPriority[2]! > -Infinity : maxPriority[2]! > best.priority) {
      const bucket = this.exactAny.get(src);
      if (bucket && (candidate = firstUsable(bucket, isUsable)) && (!best || candidate.priority > best.priority)) {
        best = candidate;
      }
    }
    if (best === undefined ? maxPriority[3]! > -Infinity : maxPriority[3]! > best.priority) {
      candidate = firstUsable(this.anyAny, isUsable);
      if (candidate && (!best || candidate.priority > best.priority)) best = candidate;
    }
    return best;
  }

  /** The best default rule (dst none) for this source. */
  matchDefault(src: Mac, isUsable?: RuleUsable): RuleEntry | undefined {
    let best: RuleEntry | undefined;
    if (this.maxPriority[4]! > -Infinity) {
      const bucket = this.exactNone.get(src);
      if (bucket) best = firstUsable(bucket, isUsable);
    }
    if (best === undefined ? this.maxPriority[5]! > -Infinity : this.maxPriority[5]! > best.priority) {
      const candidate = firstUsable(this.anyNone, isUsable);
      if (candidate && (!best || candidate.priority > best.priority)) best = candidate;
    }
    return best;
  }

  private add(spec: RuleSpec, id = this.nextId++): Rule {
    const rule: Rule = Object.freeze({
      id,
      src: spec.src,
      dst: spec.dst,
      target: spec.target,
      ...(spec.priority !== undefined ? { priority: spec.priority } : {}),
      ...(spec.owner !== undefined ? { owner: spec.owner } : {}),
    });
    const kind = matchKindOf(rule);
    const entry: RuleEntry = {
      rule,
      kind,
      priority: rule.priority ?? 0,
      isDefault: rule.dst === 'none',
      hitFrames: 0,
      hitBytes: 0,
    };
    insertSorted(this.bucketFor(rule.src, rule.dst, true)!, entry);
    const kindIndex = KIND_INDEX[kind];
    const counts = this.priorityCounts[kindIndex]!;
    counts.set(entry.priority, (counts.get(entry.priority) ?? 0) + 1);
    if (entry.priority > this.maxPriority[kindIndex]!) this.maxPriority[kindIndex] = entry.priority;
    this.byId.set(rule.id, entry);
    this.changeCount++;
    this.onChange?.();
    return rule;
  }

  private bucketFor(src: Mac | 'any', dst: Mac | 'any' | 'none', create = false): Bucket | undefined {
    if (dst === 'none') return src === 'any' ? this.anyNone : keyed(this.exactNone, src, create);
    if (dst === 'any') return src === 'any' ? this.anyAny : keyed(this.exactAny, src, create);
    if (src === 'any') return keyed(this.anyExact, dst, create);
    let inner = this.exactExact.get(src);
    if (!inner) {
      if (!create) return undefined;
      inner = new Map();
      this.exactExact.set(src, inner);
    }
    return keyed(inner, dst, create);
  }
}

function keyed(index: Map<Mac, Bucket>, key: Mac, create: boolean): Bucket | undefined {
  let bucket = index.get(key);
  if (!bucket && create) {
    bucket = [];
    index.set(key, bucket);
  }
  return bucket;
}

function firstUsable(bucket: Bucket, isUsable: RuleUsable | undefined): RuleEntry | undefined {
  if (isUsable === undefined) return bucket[0];
  for (let i = 0; i < bucket.length; i++) {
    const entry = bucket[i]!;
    if (isUsable(entry)) return entry;
  }
  return undefined;
}

/** Priority descending; a bucket never holds two equal priorities. */
function insertSorted(bucket: Bucket, entry: RuleEntry): void {
  let i = bucket.length;
  while (i > 0 && bucket[i - 1]!.priority < entry.priority) i--;
  bucket.splice(i, 0, entry);
}

function removeFromBucket(bucket: Bucket, entry: RuleEntry): number {
  const i = bucket.indexOf(entry);
  if (i >= 0) bucket.splice(i, 1);
  return bucket.length;
}

function removeKeyed(index: Map<Mac, Bucket>, key: Mac, entry: RuleEntry): void {
  const bucket = index.get(key);
  if (bucket && removeFromBucket(bucket, entry) === 0) index.delete(key);
}

function validateSpec(spec: RuleSpec): void {
  if (spec.src !== 'any' && !isMac(spec.src)) throw new RuleInvalidError('src', 'source must be a MAC or "any"');
  if (spec.dst !== 'any' && spec.dst !== 'none' && !isMac(spec.dst)) {
    throw new RuleInvalidError('dst', 'destination must be a MAC, "any" or "none"');
  }
  if (typeof spec.target !== 'string' || spec.target.length === 0) {
    throw new RuleInvalidError('target', 'target must name a port');
  }
  if (spec.priority !== undefined && !Number.isSafeInteger(spec.priority)) {
    throw new RuleInvalidError('priority', 'priority must be an integer');
  }
}

function describeMatch(spec: Pick<Rule, 'src' | 'dst'>): string {
  const src = spec.src === 'any' ? 'any' : formatMac(spec.src);
  const dst = spec.dst === 'any' || spec.dst === 'none' ? spec.dst : formatMac(spec.dst);
  return `src ${src} dst ${dst}`;
}

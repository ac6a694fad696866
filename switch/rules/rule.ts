/**
 * A VNET forwarding rule (Virtuoso paper §2.1, Figure 2): match the source
 * and destination MAC, each exact or `any`; destination `none` makes it the
 * source's default rule. `target` names the port (or link) the frame leaves
 * by; it is resolved by name at forwarding time, so a rule may name a port
 * that does not exist yet.
 */
import type { Mac } from '../frame/mac.js';

export interface Rule {
  readonly id: number;
  readonly src: Mac | 'any';
  readonly dst: Mac | 'any' | 'none';
  readonly target: string;
  /** Explicit priority, integer, larger wins. Absent = 0. */
  readonly priority?: number;
  /** Who installed it (e.g. 'fastpath', 'api'), so an owner can withdraw its rules. */
  readonly owner?: string;
}

export type RuleSpec = Omit<Rule, 'id'>;

/**
 * Match kinds, strongest first. Destination-exact outranks source-exact
 * because a forwarding rule decides where a frame GOES: a rule that names
 * this destination says more about the right exit than one that names only
 * the sender (which is what the paper's default rule does too).
 */
export type MatchKind = 'exact-exact' | 'any-exact' | 'exact-any' | 'any-any' | 'exact-none' | 'any-none';

export const MATCH_KINDS: readonly MatchKind[] = [
  'exact-exact',
  'any-exact',
  'exact-any',
  'any-any',
  'exact-none',
  'any-none',
];

/** Larger is stronger; default kinds (dst none) are the two weakest. */
export const MATCH_KIND_STRENGTH: Readonly<Record<MatchKind, number>> = {
  'exact-exact': 5,
  'any-exact': 4,
  'exact-any': 3,
  'any-any': 2,
  'exact-none': 1,
  'any-none': 0,
};

export function matchKindOf(rule: Pick<Rule, 'src' | 'dst'>): MatchKind {
  const srcPart = rule.src === 'any' ? 'any' : 'exact';
  const dstPart = rule.dst === 'any' ? 'any' : rule.dst === 'none' ? 'none' : 'exact';
  return `${srcPart}-${dstPart}`;
}

export function isDefaultRule(rule: Pick<Rule, 'dst'>): boolean {
  return rule.dst === 'none';
}

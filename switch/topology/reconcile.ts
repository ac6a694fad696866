/**
 * The `diff` and `apply` tools end to end: parse and check the description
 * whole, fetch the running overlay from the Proxy, diff, and (apply) refuse
 * on any conflict before anything changes, else run the changes with
 * rollback. Applying the same description twice changes nothing the second
 * time: the second diff is empty.
 */
import type { Overlay } from './ast.js';
import { applyChanges } from './apply.js';
import { assertValidTopology } from './check.js';
import { diffTopology, type TopologyDiff } from './diff.js';
import { TopologyConflictError, type TopologyProblem } from './errors.js';
import { fetchTopology, type TopologySource } from './fetch.js';
import { parseTopology } from './parser.js';
import { OPERATOR_SCOPE, policyScope } from './ownership.js';
import type { Actor } from '../overlay/primitives.js';

export interface TopologyPlan extends TopologyDiff {
  desired: Overlay;
  warnings: TopologyProblem[];
}

/** `policy`: the actor of a policy applying (plugins/host): it owns only what it added (ownership.ts policyScope). */
export async function planTopology(source: TopologySource, text: string, file = 'topology', policy?: Actor): Promise<TopologyPlan> {
  const desired = parseTopology(text, file);
  const warnings = assertValidTopology(desired, file);
  const diff = diffTopology(await fetchTopology(source), desired, policy ? policyScope(policy.name) : OPERATOR_SCOPE);
  return { desired, warnings, ...diff };
}

/** Throws TopologySyntaxError, TopologyInvalidError, TopologyConflictError (nothing changed) or ApplyFailedError (rolled back). */
export async function applyTopology(source: TopologySource, text: string, file = 'topology', policy?: Actor): Promise<TopologyPlan> {
  const plan = await planTopology(source, text, file, policy);
  if (plan.conflicts.length > 0) throw new TopologyConflictError(plan.conflicts);
  await applyChanges(plan.changes, (host) => (host === source.proxyName ? source.local : source.host(host)), policy);
  return plan;
}

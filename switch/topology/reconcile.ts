/**
 * The `diff` and `apply` tools end to end: parse and check the description
 * whole, fetch the running overlay from the Proxy, diff, and (apply) refuse
 * on any conflict before anything changes, else run the changes with
 * rollback. Applying the same description twice changes nothing the second
 * time: the second diff is empty.
 *
 * Applies run one at a time per Proxy (keyed by its own primitives, which
 * every request's TopologySource shares): two at once would plan against the
 * same state and interleave their steps and rollbacks. A second apply while
 * one runs is refused whole (TopologyBusyError, 409 `topology-busy`); a diff
 * (a plan only) is never refused.
 */
import type { Overlay } from './ast.js';
import { applyChanges } from './apply.js';
import { assertValidTopology } from './check.js';
import { diffTopology, type TopologyDiff } from './diff.js';
import { TopologyBusyError, TopologyConflictError, type TopologyProblem } from './errors.js';
import { fetchTopology, type TopologySource } from './fetch.js';
import { parseTopology } from './parser.js';
import { OPERATOR_SCOPE, policyScope, TOPOLOGY_ACTOR } from './ownership.js';
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

/** The apply running on each Proxy, by its own primitives (an entry lives only while its apply runs). */
const running = new Map<unknown, { file: string; actor: string }>();

/**
 * Throws TopologySyntaxError, TopologyInvalidError, TopologyConflictError (nothing changed), TopologyBusyError
 * (another apply runs; nothing changed) or ApplyFailedError (rolled back).
 */
export async function applyTopology(source: TopologySource, text: string, file = 'topology', policy?: Actor): Promise<TopologyPlan> {
  const busy = running.get(source.local);
  if (busy) throw new TopologyBusyError(busy);
  running.set(source.local, { file, actor: (policy ?? TOPOLOGY_ACTOR).name });
  try {
    const plan = await planTopology(source, text, file, policy);
    if (plan.conflicts.length > 0) throw new TopologyConflictError(plan.conflicts);
    await applyChanges(plan.changes, (host) => (host === source.proxyName ? source.local : source.host(host)), policy);
    return plan;
  } finally {
    running.delete(source.local);
  }
}

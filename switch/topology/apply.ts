/**
 * Runs a change list (from diff.ts) through each daemon's primitives, in
 * order. On the first failure it undoes what it applied, newest first, and
 * throws ApplyFailedError naming the failed change, its error code, and how
 * many were rolled back (plus any undo that failed too — then the overlay is
 * not back where it was, and the error says exactly where). So an apply
 * either happens whole or leaves every daemon as it found it: never half.
 * Undo re-creates what was deleted from what diff recorded (`was`): a
 * re-added rule gets a new id and fresh counters, otherwise the same.
 */
import { NotFoundError, type Actor, type Primitives } from '../overlay/primitives.js';
import { describeChange, type TopologyChange } from './diff.js';
import { ApplyFailedError, type FailedStep } from './errors.js';
import { TOPOLOGY_ACTOR } from './ownership.js';

export type HostPrimitives = (host: string) => Primitives | undefined;

export async function applyChanges(changes: readonly TopologyChange[], hostPrimitives: HostPrimitives, actor: Actor = TOPOLOGY_ACTOR): Promise<void> {
  const undos: { change: TopologyChange; undo: () => Promise<unknown> }[] = [];
  for (const change of changes) {
    try {
      const primitives = primitivesOf(hostPrimitives, change.host);
      undos.push({ change, undo: await run(primitives, change, actor) });
    } catch (err) {
      const rollbackFailures: FailedStep[] = [];
      for (const { change: done, undo } of undos.reverse()) {
        try {
          await undo();
        } catch (undoErr) {
          rollbackFailures.push(step(`undo of ${describeChange(done)}`, undoErr));
        }
      }
      throw new ApplyFailedError(step(describeChange(change), err), undos.length - rollbackFailures.length, rollbackFailures, { cause: err });
    }
  }
}

/** Applies one change; returns how to undo it. */
async function run(p: Primitives, change: TopologyChange, actor: Actor): Promise<() => Promise<unknown>> {
  switch (change.op) {
    case 'add-link':
      await p.addLink(change.link, actor);
      return () => p.deleteLink(change.link.name, actor);
    case 'delete-link':
      await p.deleteLink(change.name, actor);
      return () => p.addLink(change.was, actor);
    case 'add-rule': {
      const added = await p.addRule(change.rule, actor);
      return () => p.deleteRule(added.id, actor);
    }
    case 'delete-rule':
      await p.deleteRule(change.id, actor);
      return () => p.addRule(change.was, actor);
  }
}

function primitivesOf(hostPrimitives: HostPrimitives, host: string): Primitives {
  const p = hostPrimitives(host);
  if (!p) throw new NotFoundError('host', host);
  return p;
}

function step(change: string, err: unknown): FailedStep {
  const code = (err as { code?: unknown }).code;
  return { change, code: typeof code === 'string' ? code : 'error', message: (err as Error).message };
}

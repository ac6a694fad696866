/**
 * Runs a change list (from diff.ts) through each daemon's primitives, in
 * order. On the first failure it undoes what it applied, newest first, and
 * throws ApplyFailedError naming the failed change, its error code, and how
 * many were rolled back (plus any undo that failed too — then the overlay is
 * not back where it was, and the error says exactly where). So an apply
 * either happens whole or leaves every daemon as it found it: never half.
 *
 * The failed step is undone too when it may have happened: a daemon that
 * refused it (a 4xx: conflict, invalid input, not found…) changed nothing —
 * the primitives check their input whole first — but one that did not answer
 * in time, or answered with a server error, may have applied it. Its undo
 * looks first and changes only what the step did (a link or rule of that
 * name/match owned by this apply's actor; a deleted link or rule that is
 * gone), so undoing a step that did not happen changes nothing and does not
 * fail (unless the daemon still does not answer: then the error says so).
 *
 * Undo re-creates what was deleted: a link is restored by the daemon that
 * deleted it exactly as it was — pre-shared key, keepalive, endpoints,
 * transport mode and owner (LinkInput.restore; a daemon that no longer
 * remembers it re-adds it from what diff recorded, `was`); a re-added rule
 * gets a new id and fresh counters, otherwise the same.
 */
import type { LinkStatus } from '../link/link-manager.js';
import { NotFoundError, type Actor, type Primitives } from '../overlay/primitives.js';
import { describeChange, type TopologyChange } from './diff.js';
import { ApplyFailedError, type FailedStep } from './errors.js';
import { TOPOLOGY_ACTOR } from './ownership.js';

export type HostPrimitives = (host: string) => Primitives | undefined;

export async function applyChanges(changes: readonly TopologyChange[], hostPrimitives: HostPrimitives, actor: Actor = TOPOLOGY_ACTOR): Promise<void> {
  const undos: { change: TopologyChange; undo: () => Promise<unknown> }[] = [];
  for (const change of changes) {
    let primitives: Primitives | undefined;
    try {
      primitives = primitivesOf(hostPrimitives, change.host);
      undos.push({ change, undo: await run(primitives, change, actor) });
    } catch (err) {
      const rollbackFailures: FailedStep[] = [];
      if (primitives && mayHaveHappened(err)) {
        try {
          await undoIfDone(primitives, change, actor);
        } catch (undoErr) {
          rollbackFailures.push(step(`undo of ${describeChange(change)} (it may have been applied)`, undoErr));
        }
      }
      let rolledBack = 0;
      for (const { change: done, undo } of undos.reverse()) {
        try {
          await undo();
          rolledBack++;
        } catch (undoErr) {
          rollbackFailures.push(step(`undo of ${describeChange(done)}`, undoErr));
        }
      }
      throw new ApplyFailedError(step(describeChange(change), err), rolledBack, rollbackFailures, { cause: err });
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
      return () => p.addLink({ ...change.was, restore: true }, actor);
    case 'add-rule': {
      const added = await p.addRule(change.rule, actor);
      return () => p.deleteRule(added.id, actor);
    }
    case 'delete-rule':
      await p.deleteRule(change.id, actor);
      return () => p.addRule(change.was, actor);
  }
}

/** A refusal (4xx) changed nothing; no answer, or a server error, may have come after the change was made. */
function mayHaveHappened(err: unknown): boolean {
  const status = (err as { httpStatus?: unknown }).httpStatus;
  return !(typeof status === 'number' && status >= 400 && status < 500);
}

/** Undoes `change` if the daemon shows it happened; otherwise does nothing. */
async function undoIfDone(p: Primitives, change: TopologyChange, actor: Actor): Promise<void> {
  const ours = (owner: string | undefined) => owner === actor.name || owner === `proxy:${actor.name}`;
  switch (change.op) {
    case 'add-link': {
      const added = (await p.links()).find((l) => l.name === change.link.name);
      if (added && ours(ownerOf(added))) await p.deleteLink(added.name, actor);
      return;
    }
    case 'delete-link':
      if (!(await p.links()).some((l) => l.name === change.name)) await p.addLink({ ...change.was, restore: true }, actor);
      return;
    case 'add-rule': {
      const r = change.rule;
      const lower = (mac: string) => mac.trim().toLowerCase();
      const added = (await p.rules()).find(
        (v) => v.src === lower(r.src) && v.dst === lower(r.dst) && v.priority === (r.priority ?? 0) && v.target === r.target && ours(v.owner),
      );
      if (added) await p.deleteRule(added.id, actor);
      return;
    }
    case 'delete-rule':
      if (!(await p.rules()).some((v) => v.id === change.id)) await p.addRule(change.was, actor);
      return;
  }
}

function ownerOf(link: LinkStatus): string | undefined {
  const owner = (link as { owner?: unknown }).owner;
  return typeof owner === 'string' ? owner : undefined;
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

/**
 * Errors of the overlay description language and its tools. Each has a
 * stable `code` (the API and tests match on it) and carries where it happened
 * as fields, so a caller can point at the line without parsing the message.
 */
import { VswitchError, type FieldProblem } from '../errors.js';

/** A description that does not follow the grammar. Message: "file:line:column: expected X, found Y". */
export class TopologySyntaxError extends VswitchError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly found: string,
    readonly expected: string,
  ) {
    super('topology-syntax', `${file}:${line}:${column}: expected ${expected}, found ${found}`, { httpStatus: 400 });
  }

  override fieldErrors(): FieldProblem[] {
    return [{ field: '/body/text', message: this.message }];
  }
}

/** One thing wrong with a well-formed description (an unknown host, a duplicate key…). */
export interface TopologyProblem {
  file: string;
  line: number;
  column: number;
  message: string;
}

export function formatProblem(p: TopologyProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.message}`;
}

/** A description that parses but means nothing valid; lists every problem found, in file order. */
export class TopologyInvalidError extends VswitchError {
  constructor(readonly problems: readonly TopologyProblem[]) {
    const first = problems[0];
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    super('topology-invalid', first ? `${formatProblem(first)}${more}` : 'the topology is invalid', { httpStatus: 400 });
  }

  override fieldErrors(): FieldProblem[] {
    return this.problems.map((p) => ({ field: '/body/text', message: formatProblem(p) }));
  }
}

/** The running overlay cannot be brought to the description without touching what apply does not own. Nothing changed. */
export class TopologyConflictError extends VswitchError {
  constructor(readonly conflicts: readonly string[]) {
    super('topology-conflict', `cannot apply: ${conflicts[0] ?? 'conflict'}${conflicts.length > 1 ? ` (and ${conflicts.length - 1} more)` : ''}; nothing was changed`, { httpStatus: 409 });
  }

  override fieldErrors(): FieldProblem[] {
    return this.conflicts.map((m) => ({ field: '/body/text', message: m }));
  }
}

/** What one failed step of an apply was, and why. */
export interface FailedStep {
  change: string;
  code: string;
  message: string;
}

/** A daemon refused a change mid-way; every change applied before it was undone (rolledBack of them). */
export class ApplyFailedError extends VswitchError {
  constructor(
    readonly failed: FailedStep,
    readonly rolledBack: number,
    /** Undo steps that failed too: then the overlay is NOT back where it was, and this says where. */
    readonly rollbackFailures: readonly FailedStep[],
    options?: { cause?: unknown },
  ) {
    const tail =
      rollbackFailures.length === 0
        ? `all ${rolledBack} change(s) applied before it were rolled back`
        : `rollback incomplete: ${rollbackFailures.map((f) => `${f.change} (${f.code})`).join('; ')}`;
    super('topology-apply-failed', `apply failed at ${failed.change}: ${failed.message} (${failed.code}); ${tail}`, { ...options, httpStatus: 409 });
  }
}

/** Another apply is running on this Proxy: applies run one at a time (their steps would interleave). Nothing changed. */
export class TopologyBusyError extends VswitchError {
  constructor(running: { file: string; actor: string }) {
    super('topology-busy', `another topology apply (${running.file}, by ${running.actor}) is running on this Proxy: applies run one at a time; try again when it is done`, {
      httpStatus: 409,
    });
  }
}

/** configsFor was not given the private key of a described host. */
export class MissingPrivateKeyError extends VswitchError {
  constructor(readonly host: string) {
    super('topology-missing-key', `configsFor: no private key for host "${host}" (pass it in privateKeys)`);
  }
}

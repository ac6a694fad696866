import { VswitchError } from '../errors.js';

/** Two rules with the same (src, dst) match and the same priority: neither could ever be chosen deterministically. */
export class RuleConflictError extends VswitchError {
  constructor(
    readonly existingId: number,
    readonly match: string,
    readonly priority: number,
  ) {
    super('rule-conflict', `insert rule: rule ${existingId} already has match ${match} at priority ${priority}`);
  }
}

/** A rule spec that is not well formed (bad MAC, empty target, non-integer priority). */
export class RuleInvalidError extends VswitchError {
  constructor(
    readonly field: string,
    why: string,
  ) {
    super('rule-invalid', `rule: ${why} (${field})`);
  }
}

export class RuleNotFoundError extends VswitchError {
  constructor(readonly id: number) {
    super('rule-not-found', `rule: no rule has id ${id}`);
  }
}

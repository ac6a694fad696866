/**
 * Findings already reported to the owner of the code, which do not fail a run (they are still printed, marked
 * "known"). Each names where the fix belongs; remove the entry with the fix, and the fuzzer guards it again.
 */
export interface KnownIssue {
  readonly target: string;
  /** Matched against the finding's signature. */
  readonly signature: RegExp;
  readonly where: string;
  readonly note: string;
}

export const KNOWN_ISSUES: readonly KnownIssue[] = [];

export function knownIssueOf(target: string, signature: string): KnownIssue | undefined {
  return KNOWN_ISSUES.find((k) => k.target === target && k.signature.test(signature));
}

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

export const KNOWN_ISSUES: readonly KnownIssue[] = [
  {
    target: 'config',
    signature: /^hang config( many keys| one mapping, many keys)?$/,
    where: 'the yaml package (parseDocument), from switch/config/load-config.ts',
    note: 'linear but slow: ~1–1.3 µs of CPU per byte, so a 64 KiB config (2400 port entries) takes 65–95 ms on an idle machine and over 100 ms on a loaded one; only a smaller size bound or another parser would change it',
  },
];

export function knownIssueOf(target: string, signature: string): KnownIssue | undefined {
  return KNOWN_ISSUES.find((k) => k.target === target && k.signature.test(signature));
}

/**
 * TopologyDamper: decides when an inferred topology becomes a reported change. Pure; time is `nowMs`.
 *
 * The paper (§2.2, Figure 6): "there is a maximum rate of topology change that VTTIF can keep up with. Beyond this
 * rate, we have designed VTTIF to stop reacting, settling into a topology that is effectively a union of all the
 * topologies that are unfolding in the network ... the reported change rate settles and declines." And (§4.1)
 * "Through this interaction, we make it impossible for our adaptation system to oscillate."
 *
 * Input: the edge set inferred at each tick (edge keys). Two modes:
 *
 *   following   A candidate (the latest inferred set) that stays unchanged for settleMs is reported, if it differs
 *               from the last report. A change that then reverts before settleMs is never reported. Since the
 *               smoothing window makes every real change pass through a brief mixed state, settleMs is at least
 *               the window (see vttif.ts), so the mixed state itself is not reported either.
 *               If the candidate keeps changing and nothing settles for dampAfterMs (2 × settleMs: one change and
 *               its transition always settle within that), the changes are coming faster than we can follow:
 *               report the UNION of every candidate seen since the last settled state, and switch to damped.
 *   damped      Quiet. Candidates only grow the union; a grown union is reported once it has not grown for
 *               settleMs while candidates keep changing (growth is monotone and bounded by the node pairs, so this cannot oscillate). The damper
 *               returns to following only after one candidate has held for releaseMs (4 × settleMs) — reporting
 *               it if it differs. The gap between settleMs (to be followed) and releaseMs (to be released) is
 *               hysteresis: an alternation whose phases last between the two does not flip the damper between
 *               modes, and with any periodic alternation the damper either follows every phase or, once damped,
 *               stays damped.
 *
 * So the reported change rate against the alternation rate rises while phases outlast settleMs (one report per
 * phase), then collapses to the single union report (plus the first topology) — flattening and declining, with the
 * knee at phases ≈ settleMs + the window's transition, the Nyquist-like limit the paper describes.
 */

export type DamperReason = 'settled' | 'damped' | 'released';

export interface DamperChange {
  readonly reason: DamperReason;
  readonly edges: ReadonlySet<string>;
}

export interface DamperTiming {
  readonly settleMs: number;
  readonly dampAfterMs: number;
  readonly releaseMs: number;
}

export const DAMP_AFTER_SETTLES = 2;
export const RELEASE_AFTER_SETTLES = 4;

export function damperTiming(settleMs: number): DamperTiming {
  return { settleMs, dampAfterMs: DAMP_AFTER_SETTLES * settleMs, releaseMs: RELEASE_AFTER_SETTLES * settleMs };
}

function isSameSet(x: ReadonlySet<string>, y: ReadonlySet<string>): boolean {
  if (x.size !== y.size) return false;
  for (const item of x) if (!y.has(item)) return false;
  return true;
}

export class TopologyDamper {
  #timing: DamperTiming;
  #reported: ReadonlySet<string> = new Set();
  #candidate: ReadonlySet<string> = new Set();
  #candidateSinceMs: number | undefined;
  /** Following mode: when the candidate first left a settled state, and every candidate seen since. */
  #unsettledSinceMs: number | undefined;
  #seen = new Set<string>();
  #isDamped = false;
  #union = new Set<string>();
  #unionGrewAtMs = 0;
  #changes = 0;

  constructor(timing: DamperTiming) {
    this.#timing = timing;
  }

  get timing(): DamperTiming {
    return this.#timing;
  }

  setTiming(timing: DamperTiming): void {
    this.#timing = timing;
  }

  get isDamped(): boolean {
    return this.#isDamped;
  }

  /** The last reported edge set (empty before the first report). */
  get reported(): ReadonlySet<string> {
    return this.#reported;
  }

  get changesReported(): number {
    return this.#changes;
  }

  /** Feeds the edge set inferred at nowMs; returns a change to report, if any. */
  observe(edges: ReadonlySet<string>, nowMs: number): DamperChange | undefined {
    this.#candidateSinceMs ??= nowMs;
    if (!isSameSet(edges, this.#candidate)) this.#onCandidateChange(new Set(edges), nowMs);
    const stableMs = nowMs - this.#candidateSinceMs;
    const { settleMs, dampAfterMs, releaseMs } = this.#timing;

    if (!this.#isDamped) {
      if (stableMs >= settleMs) {
        this.#unsettledSinceMs = undefined;
        this.#seen.clear();
        return this.#reportIfNew('settled', this.#candidate);
      }
      if (this.#unsettledSinceMs !== undefined && nowMs - this.#unsettledSinceMs >= dampAfterMs) {
        this.#isDamped = true;
        this.#union = new Set([...this.#seen, ...this.#candidate]);
        this.#unionGrewAtMs = nowMs;
        this.#unsettledSinceMs = undefined;
        this.#seen.clear();
        return this.#reportIfNew('damped', this.#union);
      }
      return undefined;
    }

    if (stableMs >= releaseMs) {
      this.#isDamped = false;
      this.#union = new Set();
      return this.#reportIfNew('released', this.#candidate);
    }
    // Growth is reported only while the alternation goes on (the candidate changed since the union grew): a new
    // set that simply holds is a real change, reported once by the release instead of twice (union, then itself).
    const isStillAlternating = this.#candidateSinceMs > this.#unionGrewAtMs;
    if (isStillAlternating && nowMs - this.#unionGrewAtMs >= settleMs) return this.#reportIfNew('damped', this.#union);
    return undefined;
  }

  #onCandidateChange(edges: ReadonlySet<string>, nowMs: number): void {
    this.#candidate = edges;
    this.#candidateSinceMs = nowMs;
    if (this.#isDamped) {
      const sizeBefore = this.#union.size;
      for (const edge of edges) this.#union.add(edge);
      if (this.#union.size > sizeBefore) this.#unionGrewAtMs = nowMs;
      return;
    }
    this.#unsettledSinceMs ??= nowMs;
    for (const edge of edges) this.#seen.add(edge);
  }

  #reportIfNew(reason: DamperReason, edges: ReadonlySet<string>): DamperChange | undefined {
    if (isSameSet(edges, this.#reported)) return undefined;
    this.#reported = new Set(edges);
    this.#changes++;
    return { reason, edges: this.#reported };
  }
}

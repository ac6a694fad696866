/**
 * PollBackoff: how long FlowOffload waits before its next read-back of the addon's counters.
 *
 * A read-back that finds traffic keeps the base interval (what the VTTIF report rate asks for, 100 ms at most), so
 * counters, MAC refresh and the matrix lag by one base interval at most while traffic flows. A read-back that finds
 * nothing doubles the wait, up to MAX_IDLE_POLL_MS: an idle host (no flows, or flows that carry nothing) wakes four
 * times a second instead of forty. Not longer: VTTIF must see a resumed flow within its 1 s reaction (a 1 s cap made
 * the lab's patterns that reuse earlier flows report late). Anything that suggests traffic again — a flow installed, a read-back that finds
 * deltas — snaps back to the base at once. What an idle second can delay: the first counts of a flow that was
 * installed earlier and resumes after a pause (at most MAX_IDLE_POLL_MS late), and a link's noise timers learning of
 * offloaded packets (their granularity is seconds: keepalive 10 s, rekey 120 s). Explicit reads (status, metrics,
 * flushes) still read back first, so nothing shown is stale.
 * Pure: the caller owns the timer.
 */

/** The longest wait between read-backs while nothing moves. */
export const MAX_IDLE_POLL_MS = 250;

export class PollBackoff {
  #waitMs: number;

  constructor(private baseMs: number) {
    this.#waitMs = baseMs;
  }

  /** The wait before the next read-back. */
  get waitMs(): number {
    return this.#waitMs;
  }

  /** The base changed (the report rate did): back to it. */
  setBase(baseMs: number): void {
    this.baseMs = baseMs;
    this.#waitMs = baseMs;
  }

  /** After a read-back: `hadTraffic` when it returned any delta. Returns the next wait. */
  next(hadTraffic: boolean): number {
    this.#waitMs = hadTraffic ? this.baseMs : Math.min(Math.max(this.baseMs, MAX_IDLE_POLL_MS), this.#waitMs * 2);
    return this.#waitMs;
  }

  /** Traffic is likely (a flow was installed): back to the base. True when the wait got shorter. */
  snapBack(): boolean {
    const wasLonger = this.#waitMs > this.baseMs;
    this.#waitMs = this.baseMs;
    return wasLonger;
  }
}

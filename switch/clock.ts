/**
 * Time as an argument: core code receives `nowMs` from its caller, and only edges (daemon, ports, transports,
 * plugins' glue) hold a clock. The edges also take their timers from it (`TimerClock`), so a test drives a whole
 * overlay on a ManualClock — advancing time instead of sleeping — and the real daemon runs on `systemClock`.
 */
export interface Clock {
  /** Monotonic milliseconds; only differences are meaningful. */
  now(): number;
}

/** A pending timer; cancel() is idempotent. */
export interface Timer {
  cancel(): void;
}

/** A clock that also runs timers. Its timers never keep the process alive by themselves (as `unref()`). */
export interface TimerClock extends Clock {
  /** Calls `fn` once, `ms` from now. */
  after(ms: number, fn: () => void): Timer;
  /** Calls `fn` every `ms` until cancelled. */
  every(ms: number, fn: () => void): Timer;
}

export const systemClock: TimerClock = {
  now: () => performance.now(),
  after(ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
  every(ms, fn) {
    const t = setInterval(fn, Math.max(1, ms));
    t.unref();
    return { cancel: () => clearInterval(t) };
  },
};

interface PendingTimer {
  readonly id: number;
  atMs: number;
  readonly everyMs: number | undefined;
  readonly fn: () => void;
  isCancelled: boolean;
}

/**
 * Time that moves only when a test says so. `advance(ms)` fires every timer that falls due, in time order (equal
 * times in the order they were set), and between firings lets the event loop run what is already queued (the
 * memory network's deliveries, promise continuations) — so an overlay on memory transports behaves as it would in
 * real time, without waiting for it.
 */
export class ManualClock implements TimerClock {
  private nowMs: number;
  private nextId = 1;
  private readonly timers: PendingTimer[] = [];

  constructor(startMs = 0) {
    this.nowMs = startMs;
  }

  now(): number {
    return this.nowMs;
  }

  after(ms: number, fn: () => void): Timer {
    return this.add(Math.max(0, ms), undefined, fn);
  }

  every(ms: number, fn: () => void): Timer {
    return this.add(Math.max(1, ms), Math.max(1, ms), fn);
  }

  /** Timers not yet fired or cancelled. */
  get pending(): number {
    return this.timers.filter((t) => !t.isCancelled).length;
  }

  /** Moves time forward by `ms`, firing what falls due on the way. */
  async advance(ms: number): Promise<void> {
    const endMs = this.nowMs + ms;
    await settle();
    for (;;) {
      const next = this.nextDue(endMs);
      if (next === undefined) break;
      this.nowMs = Math.max(this.nowMs, next.atMs);
      if (next.everyMs === undefined) next.isCancelled = true;
      else next.atMs += next.everyMs;
      next.fn();
      await settle();
    }
    this.nowMs = endMs;
    this.timers.splice(0, this.timers.length, ...this.timers.filter((t) => !t.isCancelled));
    await settle();
  }

  /** Advances in `stepMs` steps until `check()` holds, at most `limitMs` of clock time; false when it never did. */
  async advanceUntil(check: () => boolean | Promise<boolean>, limitMs: number, stepMs = 10): Promise<boolean> {
    const endMs = this.nowMs + limitMs;
    while (!(await check())) {
      if (this.nowMs >= endMs) return false;
      await this.advance(Math.min(stepMs, endMs - this.nowMs));
    }
    return true;
  }

  private add(ms: number, everyMs: number | undefined, fn: () => void): Timer {
    const timer: PendingTimer = { id: this.nextId++, atMs: this.nowMs + ms, everyMs, fn, isCancelled: false };
    this.timers.push(timer);
    return { cancel: () => void (timer.isCancelled = true) };
  }

  private nextDue(endMs: number): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const t of this.timers) {
      if (t.isCancelled || t.atMs > endMs) continue;
      if (best === undefined || t.atMs < best.atMs || (t.atMs === best.atMs && t.id < best.id)) best = t;
    }
    return best;
  }
}

/** Lets the event loop run what is queued now (I/O callbacks, setImmediate, promise continuations) — no waiting. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

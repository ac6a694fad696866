/**
 * SharedTickClock: a TimerClock whose periodic timers of one period share ONE timer of the clock it wraps.
 *
 * Why: on an idle daemon the number of wake-ups is what costs (a JS timer callback is ~200 µs of CPU in the lab),
 * and several parts each kept a once-a-second interval — the overlay's heartbeat tick, the daemon's housekeeping,
 * on the Proxy the plugin host and the fast-path watch — each waking the process at its own phase. Through this
 * clock they wake it once a second, together.
 *
 * What a caller of `every(ms, fn)` still gets: `fn` every `ms`, in step with the others of that period; only the
 * phase of its first call moves — it comes on the period's next shared tick, so within `ms` of subscribing, never
 * later (a heartbeat goes out sooner, not later). Callbacks of one tick run in the order they subscribed; one that
 * throws does not keep the others from running (the first error is thrown again after them, as its own timer would
 * have thrown). The shared timer goes away with the period's last subscriber. `now()` and `after()` are the
 * wrapped clock's, unchanged: one-shot deadlines are never moved.
 */
import type { Timer, TimerClock } from './clock.js';

interface Subscriber {
  readonly fn: () => void;
  isCancelled: boolean;
}

interface Period {
  readonly subscribers: Subscriber[];
  timer: Timer | undefined;
}

export class SharedTickClock implements TimerClock {
  readonly #inner: TimerClock;
  readonly #periods = new Map<number, Period>();

  constructor(inner: TimerClock) {
    this.#inner = inner;
  }

  now(): number {
    return this.#inner.now();
  }

  after(ms: number, fn: () => void): Timer {
    return this.#inner.after(ms, fn);
  }

  every(ms: number, fn: () => void): Timer {
    const periodMs = Math.max(1, ms);
    let period = this.#periods.get(periodMs);
    if (period === undefined) {
      period = { subscribers: [], timer: undefined };
      this.#periods.set(periodMs, period);
    }
    const subscriber: Subscriber = { fn, isCancelled: false };
    period.subscribers.push(subscriber);
    const shared = period;
    shared.timer ??= this.#inner.every(periodMs, () => this.#tick(shared));
    return { cancel: () => this.#cancel(periodMs, shared, subscriber) };
  }

  /** Shared timers running now (one per period with subscribers): what the wrapped clock wakes for. */
  get sharedTimers(): number {
    return this.#periods.size;
  }

  #tick(period: Period): void {
    let firstError: { error: unknown } | undefined;
    // A snapshot: a callback that subscribes another starts it on the next tick; one cancelled here is skipped.
    for (const subscriber of [...period.subscribers]) {
      if (subscriber.isCancelled) continue;
      try {
        subscriber.fn();
      } catch (error) {
        firstError ??= { error };
      }
    }
    if (firstError) throw firstError.error;
  }

  #cancel(periodMs: number, period: Period, subscriber: Subscriber): void {
    if (subscriber.isCancelled) return;
    subscriber.isCancelled = true;
    period.subscribers.splice(period.subscribers.indexOf(subscriber), 1);
    if (period.subscribers.length > 0) return;
    period.timer?.cancel();
    period.timer = undefined;
    if (this.#periods.get(periodMs) === period) this.#periods.delete(periodMs);
  }
}

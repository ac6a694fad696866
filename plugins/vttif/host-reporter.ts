/**
 * VttifReporter: the host side's edge glue. It owns the host's TrafficCounter (which the daemon installs on its
 * Datapath) and one timer: every 1000 / updateRateHz ms it drains the counter and hands the update to `send` —
 * the control channel to the Proxy, or the Proxy's own VttifService when the Proxy has VMs of its own. An empty
 * update is not sent: a quiet host costs the star nothing. Nor the host: once a drain leaves the counter empty the
 * timer is not re-armed, and the counter's next frame (`whenCounting`) starts it again, one interval later — so the
 * first update after a quiet spell comes when it would have, and an idle host has no VTTIF wake-up at all (at the
 * default 20 Hz that was 20 a second). The rate can change at run time (the Proxy's API sends `vttif-rate` to every
 * host); the next interval uses it.
 */
import type { Timer, TimerClock } from '../../switch/clock.js';
import type { MatrixUpdate } from './matrix.js';
import { checkParameters } from './parameters.js';
import { TrafficCounter } from './traffic-counter.js';

export interface VttifReporterOptions {
  /** The name the updates carry (the Proxy replaces it by the link's name). */
  readonly host: string;
  readonly clock: TimerClock;
  readonly updateRateHz: number;
  /** Sends one non-empty update; never throws. */
  send(update: MatrixUpdate): void;
}

export class VttifReporter {
  readonly counter: TrafficCounter;
  #updateRateHz: number;
  #timer: Timer | undefined;
  #updatesSent = 0;
  #isStarted = false;

  constructor(private readonly options: VttifReporterOptions) {
    this.counter = new TrafficCounter(options.host);
    this.#updateRateHz = options.updateRateHz;
  }

  get updateRateHz(): number {
    return this.#updateRateHz;
  }

  get updatesSent(): number {
    return this.#updatesSent;
  }

  /** True while a timer is armed (false while asleep on an empty counter, or stopped). */
  get isAwake(): boolean {
    return this.#timer !== undefined;
  }

  start(): void {
    this.#isStarted = true;
    this.#schedule();
  }

  stop(): void {
    this.#isStarted = false;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.counter.whenCounting(undefined);
  }

  /** Throws VttifParameterError out of 1..20 Hz (the control message was checked already). */
  setUpdateRate(updateRateHz: number): void {
    checkParameters({ updateRateHz, smoothingMs: 1000, threshold: 0 });
    this.#updateRateHz = updateRateHz;
  }

  /** Drains now and sends what there is; what the timer runs. */
  flush(): void {
    const update = this.counter.drain(this.options.clock.now());
    if (update.entries.length === 0) return;
    this.#updatesSent++;
    this.options.send(update);
  }

  #schedule(): void {
    this.#timer = this.options.clock.after(1000 / this.#updateRateHz, () => {
      this.#timer = undefined;
      this.flush();
      if (!this.#isStarted) return;
      if (this.counter.isEmpty) this.counter.whenCounting(() => this.#schedule());
      else this.#schedule();
    });
  }
}

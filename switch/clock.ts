/**
 * Time as an argument: core code receives `nowMs` from its caller, and only
 * edges (daemon, ports, transports) hold a Clock. Tests use a manual clock.
 */
export interface Clock {
  /** Monotonic milliseconds; only differences are meaningful. */
  now(): number;
}

export const systemClock: Clock = {
  now: () => performance.now(),
};

/**
 * VTTIF's three parameters (paper §2.2) and the rules that derive the rest.
 *
 *   updateRateHz   1..20   how often host daemons send their local matrix ("at fastest ... 20 Hz")
 *   smoothingMs    ≥ 100   the Proxy's aggregation window; when not set it is DERIVED from VNET's upper bound on
 *                          configuration time (the "set an upper bound on VNET configuration time" primitive, which
 *                          the paper says is passed to VTTIF "to determine its sampling and smoothing intervals"):
 *                              smoothingMs = max(1000, 2 × configTimeBoundMs)
 *                          so VTTIF never asks for topology changes faster than twice what VNET needs to make one,
 *                          and never smooths over less than the paper's best-case 1 s.
 *   threshold      0..1    the detection threshold (fraction of the heaviest pair's intensity)
 *
 * The damper's settle time is then settleMs = max(smoothingMs, 2 × 1000 / updateRateHz): at least one window (so a
 * change's mixed transition, shorter than a window, is never reported) and at least two updates (Nyquist: a
 * candidate must be seen twice). Best case (20 Hz, 1 s window): 1 s, the paper's best-case settle time.
 */
import { VttifParameterError } from './errors.js';

export interface VttifParameters {
  readonly updateRateHz: number;
  readonly smoothingMs: number;
  readonly threshold: number;
}

export const MIN_UPDATE_RATE_HZ = 1;
export const MAX_UPDATE_RATE_HZ = 20;
export const MIN_SMOOTHING_MS = 100;
export const MIN_DERIVED_SMOOTHING_MS = 1000;
export const DEFAULT_UPDATE_RATE_HZ = 20;
export const DEFAULT_THRESHOLD = 0.1;

export function deriveSmoothingMs(configTimeBoundMs: number): number {
  return Math.max(MIN_DERIVED_SMOOTHING_MS, 2 * configTimeBoundMs);
}

export function deriveSettleMs(parameters: VttifParameters): number {
  return Math.max(parameters.smoothingMs, (2 * 1000) / parameters.updateRateHz);
}

/** Throws VttifParameterError for the first value out of range. */
export function checkParameters(parameters: VttifParameters): VttifParameters {
  const { updateRateHz, smoothingMs, threshold } = parameters;
  if (typeof updateRateHz !== 'number' || !(updateRateHz >= MIN_UPDATE_RATE_HZ && updateRateHz <= MAX_UPDATE_RATE_HZ)) {
    throw new VttifParameterError('updateRateHz', updateRateHz, `must be ${MIN_UPDATE_RATE_HZ}..${MAX_UPDATE_RATE_HZ}`);
  }
  if (typeof smoothingMs !== 'number' || !Number.isFinite(smoothingMs) || smoothingMs < MIN_SMOOTHING_MS) {
    throw new VttifParameterError('smoothingMs', smoothingMs, `must be a number of ms >= ${MIN_SMOOTHING_MS}`);
  }
  if (typeof threshold !== 'number' || !(threshold >= 0 && threshold <= 1)) {
    throw new VttifParameterError('threshold', threshold, 'must be 0..1');
  }
  return parameters;
}

export function checkConfigTimeBoundMs(configTimeBoundMs: number): number {
  if (typeof configTimeBoundMs !== 'number' || !Number.isFinite(configTimeBoundMs) || configTimeBoundMs < 0) {
    throw new VttifParameterError('configTimeBoundMs', configTimeBoundMs, 'must be a number of ms >= 0');
  }
  return configTimeBoundMs;
}

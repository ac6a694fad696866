/**
 * VTTIF's `matrix-delta` event source: each plugin that takes it gets its own MatrixDeltaTracker (matrix-delta.ts),
 * so what it is sent is a change against what it holds. `matrix` stays as it was (the whole matrix every second).
 */
import { DEFAULT_MATRIX_DELTA, MatrixDeltaTracker, type MatrixDeltaSettings, type MatrixLike } from './matrix-delta.js';
import type { PluginEvent } from '../host/plugin.js';
import type { PluginEventSource } from '../host/registry.js';

/** `matrix()`: the matrix now, or undefined while VTTIF is not running (nothing is sent, nothing forgotten). */
export function matrixDeltaSource(matrix: () => MatrixLike | undefined, settings: MatrixDeltaSettings = DEFAULT_MATRIX_DELTA): PluginEventSource {
  return {
    type: 'matrix-delta',
    perSubscriber: () => {
      const tracker = new MatrixDeltaTracker(settings);
      let resyncDue = false;
      return {
        next(resync) {
          const m = matrix();
          // A loss while VTTIF is off is remembered for when it is back.
          resyncDue ||= resync;
          if (m === undefined) return undefined;
          const delta = tracker.next({ windowMs: m.windowMs, pairs: m.pairs }, resyncDue);
          resyncDue = false;
          return delta && { type: 'matrix-delta', matrixDelta: delta as NonNullable<PluginEvent['matrixDelta']> };
        },
      };
    },
  };
}

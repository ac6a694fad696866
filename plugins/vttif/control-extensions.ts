/**
 * VTTIF's messages on the control channel (switch/overlay/control-messages.ts ControlExtension):
 *   matrix      host → Proxy: the traffic-matrix deltas since its last one (MACs in colon form on the wire,
 *               matrix-codec.ts); checked whole: one bad entry rejects the message
 *   vttif-rate  Proxy → host: the new update rate (1..20 Hz)
 * The channel refuses and counts a malformed one before VTTIF sees it.
 */
import type { ControlExtension } from '../../switch/overlay/control-messages.js';
import { decodeMatrixUpdate, encodeMatrixUpdate } from './matrix-codec.js';
import type { MatrixUpdate } from './matrix.js';
import { MAX_UPDATE_RATE_HZ, MIN_UPDATE_RATE_HZ } from './parameters.js';

export const MATRIX_MESSAGE = 'matrix';
export const RATE_MESSAGE = 'vttif-rate';

export const matrixExtension: ControlExtension = {
  type: MATRIX_MESSAGE,
  needs: 'update { host, atMs, entries [{ src, dst, frames, bytes }] }',
  decode: (fields) => decodeMatrixUpdate(fields['update']),
  encode: (body) => ({ update: encodeMatrixUpdate(body as MatrixUpdate) }),
};

export const rateExtension: ControlExtension = {
  type: RATE_MESSAGE,
  needs: `updateRateHz ${MIN_UPDATE_RATE_HZ}..${MAX_UPDATE_RATE_HZ}`,
  decode: (fields) => {
    const hz = fields['updateRateHz'];
    return typeof hz === 'number' && hz >= MIN_UPDATE_RATE_HZ && hz <= MAX_UPDATE_RATE_HZ ? hz : undefined;
  },
  encode: (body) => ({ updateRateHz: body as number }),
};

export const VTTIF_CONTROL_EXTENSIONS: readonly ControlExtension[] = [matrixExtension, rateExtension];

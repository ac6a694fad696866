/**
 * Errors the noise core throws. Only configuration and programmer errors throw
 * (a malformed key, a duplicate peer); bad packets never do: they become
 * `{ kind: 'drop', reason }` actions, see drop-reason.ts.
 */
import { VswitchError } from '../../errors.js';

/** A key is not 32 bytes, or its base64 text does not decode to 32 bytes. */
export class NoiseKeyError extends VswitchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('noise-key-invalid', message, options);
  }
}

/** addPeer with a public key that is already known, or our own public key. */
export class NoisePeerExistsError extends VswitchError {
  constructor(message: string) {
    super('noise-peer-exists', message);
  }
}

/** A PeerHandle that does not belong to this device (or was removed). */
export class NoisePeerUnknownError extends VswitchError {
  constructor(message: string) {
    super('noise-peer-unknown', message);
  }
}

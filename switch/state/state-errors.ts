/**
 * The durable state's failures, one class each (switch/errors.ts). A state file that cannot be trusted stops the
 * daemon at start — it never silently starts from nothing — and the message says what to run to get out.
 */
import { VswitchError } from '../errors.js';

/** The state file (or one of its records) is not what this daemon writes: it refuses to start on it. */
export class StateCorruptError extends VswitchError {
  constructor(
    readonly file: string,
    /** Where in it: "line 7 (byte 2310)", or a record: 'link "x1"'. */
    readonly where: string,
    readonly problem: string,
    resetHint: string,
  ) {
    super('state-corrupt', `${file}: ${where}: ${problem} — the daemon will not start on a state it cannot trust; ${resetHint}`);
  }
}

/** The change could not be made durable (disk full, I/O error): it was undone, and the API says 503. */
export class StateUnavailableError extends VswitchError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('state-unavailable', message, { ...options, httpStatus: 503 });
  }
}

/** The change would put more rows in the state than it holds (MAX_RECORDS, state-record.ts): refused, HTTP 507. */
export class StateFullError extends VswitchError {
  constructor(message: string) {
    super('state-full', message, { httpStatus: 507 });
  }
}

/** A change the store refuses as it stands (a bad kind, key or size): a programming error of its writer. */
export class StateChangeError extends VswitchError {
  constructor(problem: string) {
    super('state-change-invalid', `state change refused: ${problem}`);
  }
}

/** Another live process holds the state directory (two daemons must never share one). */
export class StateLockedError extends VswitchError {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super('state-locked', `${dir}: the state directory is in use by process ${pid} (a daemon with the same state dir is running: stop it, or give this one its own --state-dir)`);
  }
}

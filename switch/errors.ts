/**
 * One base class for every error vswitch throws on purpose. Code is stable and
 * machine-readable (tests and the API match on it, never on message text);
 * the message reads "<what failed>: <why> (<where>)".
 */
export class VswitchError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

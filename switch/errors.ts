/**
 * One base class for every error vswitch throws on purpose. Code is stable and
 * machine-readable (kebab-case; tests and the API match on it, never on message
 * text); the message reads "<what failed>: <why> (<where>)". Each class says
 * which HTTP status it is (`httpStatus`), so the API maps every error in one
 * handler (api/http/errors.ts) with no table to keep in step: an error that is
 * not the caller's fault keeps the default, 500.
 */
export interface FieldProblem {
  /** JSON pointer into the request: "/body/src". */
  readonly field: string;
  readonly message: string;
}

export interface VswitchErrorOptions {
  cause?: unknown;
  /** The HTTP status of this error (default 500). */
  httpStatus?: number;
}

export class VswitchError extends Error {
  readonly code: string;
  readonly httpStatus: number;

  constructor(code: string, message: string, options: VswitchErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.httpStatus = options.httpStatus ?? 500;
    this.name = new.target.name;
  }

  /** The per-field problems of a 400 (the problem's `errors` list); none by default. */
  fieldErrors(): readonly FieldProblem[] | undefined {
    return undefined;
  }

  /** Response headers this error adds (a 429's Retry-After). */
  responseHeaders(): Record<string, string> {
    return {};
  }
}

import { VswitchError } from '../../switch/errors.js';

/** A VTTIF parameter out of range (config or API); `parameter` names it. */
export class VttifParameterError extends VswitchError {
  readonly parameter: string;
  readonly value: unknown;

  constructor(parameter: string, value: unknown, why: string) {
    super('VTTIF_INVALID_PARAMETER', `cannot set VTTIF ${parameter}: ${why} (got ${String(value)})`);
    this.parameter = parameter;
    this.value = value;
  }
}

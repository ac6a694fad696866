import { VswitchError, type FieldProblem } from '../../switch/errors.js';

/** A VTTIF parameter out of range (config or API); `parameter` names it. */
export class VttifParameterError extends VswitchError {
  readonly parameter: string;
  readonly value: unknown;

  constructor(parameter: string, value: unknown, why: string) {
    super('vttif-invalid-parameter', `cannot set VTTIF ${parameter}: ${why} (got ${String(value)})`, { httpStatus: 400 });
    this.parameter = parameter;
    this.value = value;
  }

  override fieldErrors(): FieldProblem[] {
    return [{ field: `/body/${this.parameter}`, message: this.message }];
  }
}

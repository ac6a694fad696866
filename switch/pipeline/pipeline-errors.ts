import { VswitchError } from '../errors.js';

export class PortExistsError extends VswitchError {
  constructor(readonly portName: string) {
    super('port-exists', `add port: a port named "${portName}" is already registered`);
  }
}

export class PortNameInvalidError extends VswitchError {
  constructor(readonly portName: string) {
    super('port-name-invalid', `add port: a port name must be a non-empty string (got "${portName}")`);
  }
}

export class PortNotFoundError extends VswitchError {
  constructor(readonly portId: number) {
    super('port-not-found', `port: no port has id ${portId}`);
  }
}

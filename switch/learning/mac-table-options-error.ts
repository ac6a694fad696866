import { VswitchError } from '../errors.js';

/** MacTable built with an unusable option (configuration error, thrown at construction). */
export class MacTableOptionsError extends VswitchError {
  constructor(
    readonly option: string,
    why: string,
  ) {
    super('mac-table-options', `mac table: ${option} ${why}`);
  }
}

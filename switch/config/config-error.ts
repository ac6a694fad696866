import { VswitchError } from '../errors.js';

/**
 * A config file the daemon refuses. The message names the file, the position,
 * the key path and the problem, so one line tells the operator what to fix:
 *   host.yaml:7:11: ports[1].type: must be one of tap, capture (found "tun")
 */
export class ConfigError extends VswitchError {
  constructor(
    readonly file: string,
    readonly keyPath: string,
    readonly problem: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    const where = line === undefined ? file : `${file}:${line}:${column ?? 1}`;
    super('config-invalid', `${where}: ${keyPath === '' ? '' : `${keyPath}: `}${problem}`);
  }
}

/** Where a daemon's state lives: `--state-dir`, else the config's `stateDir`, else /var/lib/vswitch/NAME. */
import { join, resolve } from 'node:path';
import { DEFAULT_STATE_ROOT, type DaemonConfig } from '../switch/config/config.js';

export function stateDirOf(config: Pick<DaemonConfig, 'name' | 'stateDir'>, options: { stateDir?: string } = {}): string {
  return options.stateDir !== undefined ? resolve(options.stateDir) : (config.stateDir ?? join(DEFAULT_STATE_ROOT, config.name));
}

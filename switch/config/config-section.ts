/**
 * A top-level section of the daemon's config that a plugin brings (VTTIF's `vttif:`, the fast-path plugin's
 * `fastpath:`): the switch's loader reads its own keys and hands each section's key to its reader, so a plugin
 * checks its own values with the same `file:line:col` errors and unknown-key hints, and the switch names no plugin.
 */
import type { ConfigReader } from './config-reader.js';
import type { Role } from './config.js';

export interface ConfigSection<T = unknown> {
  /** The top-level key ("vttif"); also a reserved actor name. */
  readonly key: string;
  /** Reads and checks the section (defaults when absent); fails through `r.fail(path, why)`. */
  read(r: ConfigReader, role: Role): T;
}

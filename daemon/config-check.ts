/**
 * `vswitch up --check -c FILE`: the config read and checked exactly as `vswitch up` reads it (loadDaemonConfigFile,
 * with every plugin's section), and nothing started — no socket, no device, no addon, no plugin module imported (a
 * module's own errors show at `up`). Loaded by the CLI with a dynamic import, like `up`: it reaches the plugins.
 */
import { loadDaemonConfigFile } from './config.js';

/** Throws the ConfigError `vswitch up` would; else one line saying what the file sets up. */
export function checkDaemonConfigFile(file: string): string {
  const config = loadDaemonConfigFile(file);
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const tokens = config.api.tokens.length > 0 ? ` (${count(config.api.tokens.length, 'token')})` : '';
  const modules = config.plugins.length > 0 ? `, ${count(config.plugins.length, 'plugin module')}` : '';
  return `${file}: OK: ${config.role} "${config.name}", ${count(config.ports.length, 'port')}, ${count(config.peers.length, 'peer')}, API on ${config.api.listen}${tokens}${modules}`;
}

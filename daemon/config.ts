/**
 * The daemon's config with every plugin's section (plugins/builtin.ts): what `vswitch up` reads. The switch's loader
 * (switch/config/load-config.ts) knows only its own keys; the sections come from the plugins.
 */
import { loadConfigFile, parseConfig } from '../switch/config/load-config.js';
import type { DaemonConfig } from '../switch/config/config.js';
import type { ConfigSection } from '../switch/config/config-section.js';
import { BUILTIN_PLUGINS } from '../plugins/builtin.js';
import type { AnyDaemonPlugin } from '../plugins/plugin.js';

export function configSectionsOf(plugins: readonly AnyDaemonPlugin[] = BUILTIN_PLUGINS): ConfigSection[] {
  return plugins.flatMap((p) => (p.config ? [p.config] : []));
}

export function parseDaemonConfig(text: string, file: string, plugins: readonly AnyDaemonPlugin[] = BUILTIN_PLUGINS): DaemonConfig {
  return parseConfig(text, file, configSectionsOf(plugins));
}

export function loadDaemonConfigFile(file: string, plugins: readonly AnyDaemonPlugin[] = BUILTIN_PLUGINS): DaemonConfig {
  return loadConfigFile(file, configSectionsOf(plugins));
}

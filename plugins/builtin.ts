/**
 * The built-in plugins, in start order (a plugin may use the exports of those before it). The composition root
 * takes this list as it would any other: adding a built-in plugin is adding it here.
 */
import { fastpathPlugin } from './fastpath/daemon-plugin.js';
import type { AnyDaemonPlugin } from './plugin.js';
import { vttifPlugin } from './vttif/daemon-plugin.js';

export const BUILTIN_PLUGINS: readonly AnyDaemonPlugin[] = [vttifPlugin, fastpathPlugin];

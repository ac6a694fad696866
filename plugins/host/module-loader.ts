/**
 * Loads the in-process plugin modules named in the Proxy's config (`plugins: [{ name, module, options }]`). A module
 * exports a PluginFactory, as `createPlugin` or as its default export; what the factory returns is checked before
 * the daemon goes on, so a broken module stops the start with a message naming it (all or nothing, as the config).
 */
import { pathToFileURL } from 'node:url';
import type { PluginModuleConfig } from '../../switch/config/config.js';
import { VswitchError } from '../../switch/errors.js';
import { PLUGIN_EVENT_TYPES, type PluginFactory, type VswitchPlugin } from './plugin.js';

/** A plugin module could not be loaded or did not give a plugin. */
export class PluginLoadError extends VswitchError {
  constructor(config: PluginModuleConfig, problem: string, options?: { cause?: unknown }) {
    super('plugin-load', `plugin "${config.name}" (${config.module}): ${problem}`, options);
  }
}

export async function loadPluginModule(config: PluginModuleConfig): Promise<VswitchPlugin> {
  let mod: { createPlugin?: unknown; default?: unknown };
  try {
    mod = (await import(pathToFileURL(config.module).href)) as typeof mod;
  } catch (err) {
    throw new PluginLoadError(config, `cannot import it: ${(err as Error).message}`, { cause: err });
  }
  const factory = mod.createPlugin ?? mod.default;
  if (typeof factory !== 'function') throw new PluginLoadError(config, 'exports no plugin factory (export `createPlugin` or a default function)');
  let plugin: unknown;
  try {
    plugin = await (factory as PluginFactory)(config.options);
  } catch (err) {
    throw new PluginLoadError(config, `its factory threw: ${(err as Error).message}`, { cause: err });
  }
  return checkPlugin(config, plugin);
}

function checkPlugin(config: PluginModuleConfig, value: unknown): VswitchPlugin {
  if (value === null || typeof value !== 'object') throw new PluginLoadError(config, 'the factory returned no object');
  const p = value as Partial<VswitchPlugin>;
  if (!Array.isArray(p.events)) throw new PluginLoadError(config, '`events` must be a list of event types');
  for (const e of p.events) {
    if (!PLUGIN_EVENT_TYPES.includes(e)) throw new PluginLoadError(config, `unknown event type ${JSON.stringify(e)} (known: ${PLUGIN_EVENT_TYPES.join(', ')})`);
  }
  if (typeof p.start !== 'function' || typeof p.stop !== 'function') throw new PluginLoadError(config, 'needs start(ctx) and stop() functions');
  if (p.onEvent !== undefined && typeof p.onEvent !== 'function') throw new PluginLoadError(config, '`onEvent` must be a function');
  return p as VswitchPlugin;
}

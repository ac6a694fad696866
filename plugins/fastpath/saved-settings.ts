/**
 * The fast-path plugin's settings set at run time, saved in two layered records (switch/state/layered-settings.ts)
 * over its config section (`fastpath:`; unreachableBackoffMs over its default):
 *   fastpath  settings  its parameters (maxLinksPerHost, maxLinks, addAfterMs, removeAfterMs, unreachableBackoffMs)
 *   plugin    fastpath  its enabled state — the registry's record for every in-process plugin, which both doors
 *                       write alike (PATCH /v1/plugins/fastpath and PUT /v1/plugins/fastpath/settings)
 * Its fast links and rules are NOT saved: after a restart it re-creates them from what VTTIF infers.
 */
import { layerOver, restoreLayered, type SettingValues } from '../../switch/state/layered-settings.js';
import type { DurableRecords } from '../../switch/state/restore-report.js';
import type { JsonValue, StateChange } from '../../switch/state/state-record.js';
import type { RecordProblem } from '../../switch/state/record-reader.js';
import { DEFAULT_FASTPATH_PARAMETERS } from './adapt.js';
import type { FastPathConfig } from './config.js';
import type { FastPathSettings } from './fastpath.js';
import { PLUGIN_KIND } from '../host/saved-plugins.js';

export const FASTPATH_KIND = 'fastpath';
export const FASTPATH_SETTINGS_KEY = 'settings';
const PLUGIN_NAME = 'fastpath';

/** Upper bounds as the API takes them (openapi.yaml FastPathChange). */
const MAXIMA: Readonly<Record<string, number>> = { maxLinksPerHost: 1000, maxLinks: 100_000, addAfterMs: 3_600_000, removeAfterMs: 3_600_000, unreachableBackoffMs: 3_600_000 };

export function configSettings(config: FastPathConfig): FastPathSettings {
  const { enabled, ...parameters } = config;
  return { ...DEFAULT_FASTPATH_PARAMETERS, ...parameters, enabled };
}

/** The settings to start with: the config's, with the saved run-time changes whose base is still the config's. */
export function restoreSettings(config: FastPathConfig, state: DurableRecords): FastPathSettings {
  const base = configSettings(config);
  const settings: Record<string, unknown> = { ...base };
  state.report.read(FASTPATH_KIND);
  const saved = state.saved.get(FASTPATH_KIND, FASTPATH_SETTINGS_KEY);
  if (saved !== undefined) {
    const { apply, superseded } = restoreLayered(FASTPATH_KIND, FASTPATH_SETTINGS_KEY, saved, parametersOf(base), state.problem);
    for (const s of superseded) state.report.skipped(FASTPATH_KIND, `${FASTPATH_SETTINGS_KEY}.${s.field}`, s.reason);
    for (const [field, value] of Object.entries(apply)) {
      if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= (MAXIMA[field] ?? 0)) settings[field] = value;
      else state.report.skipped(FASTPATH_KIND, `${FASTPATH_SETTINGS_KEY}.${field}`, `not a setting the plugin takes (${JSON.stringify(value)})`);
    }
    if (Object.keys(apply).length > 0) state.report.restored(FASTPATH_KIND, FASTPATH_SETTINGS_KEY, Object.keys(apply).join(', '));
  }
  // The enabled state is the registry's record: read here (the plugin starts with it), reported by the registry.
  const enabled = state.saved.get(PLUGIN_KIND, PLUGIN_NAME);
  if (enabled !== undefined) {
    const { apply } = restoreLayered(PLUGIN_KIND, PLUGIN_NAME, enabled, { enabled: base.enabled }, state.problem);
    if (typeof apply.enabled === 'boolean') settings.enabled = apply.enabled;
  }
  return settings as unknown as FastPathSettings;
}

/** The records for `settings` (each null when it is the config's again). */
export function settingsRecords(settings: FastPathSettings, config: FastPathConfig): StateChange[] {
  const base = configSettings(config);
  return [
    { kind: FASTPATH_KIND, key: FASTPATH_SETTINGS_KEY, value: layerOver(parametersOf(settings), parametersOf(base)) },
    { kind: PLUGIN_KIND, key: PLUGIN_NAME, value: layerOver({ enabled: settings.enabled }, { enabled: base.enabled }) },
  ];
}

/** Checks a `fastpath settings` record read from elsewhere (etcd's desired state): throws, naming the field. */
export function checkSettingsRecord(key: string, value: JsonValue, problem: RecordProblem): void {
  if (key !== FASTPATH_SETTINGS_KEY) throw problem(`${FASTPATH_KIND} ${JSON.stringify(key)}`, `the only record is "${FASTPATH_SETTINGS_KEY}"`);
  restoreLayered(FASTPATH_KIND, key, value, {}, problem); // its shape: { field: { value, base } }
  for (const [field, layer] of Object.entries(value as Record<string, { value: unknown }>)) {
    const v = layer.value;
    if (!(field in MAXIMA)) throw problem(`${FASTPATH_KIND} ${JSON.stringify(key)}`, `${field}: not a setting of the fast path`);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > MAXIMA[field]!) throw problem(`${FASTPATH_KIND} ${JSON.stringify(key)}`, `${field}: must be an integer 0..${MAXIMA[field]}`);
  }
}

function parametersOf(settings: FastPathSettings): SettingValues {
  return {
    maxLinksPerHost: settings.maxLinksPerHost,
    maxLinks: settings.maxLinks,
    addAfterMs: settings.addAfterMs,
    removeAfterMs: settings.removeAfterMs,
    unreachableBackoffMs: settings.unreachableBackoffMs,
  };
}

/** After a restore: the fast path's own record as it now is (superseded fields gone), written if it changed. */
export async function rewriteSettings(settings: FastPathSettings, config: FastPathConfig, state: DurableRecords): Promise<void> {
  const [record] = settingsRecords(settings, config);
  if (JSON.stringify(record!.value) !== JSON.stringify(state.saved.get(FASTPATH_KIND, FASTPATH_SETTINGS_KEY) ?? null)) await state.write([record!]);
}

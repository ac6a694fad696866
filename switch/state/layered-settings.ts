/**
 * Settings changed at run time, layered on the config (VTTIF's parameters, the fast-path plugin's settings, a
 * plugin's enabled state). A saved record holds, per field changed, the value set and the config's value it was set
 * over: { threshold: { value: 0.2, base: 0.1 } }. At restart a field comes back only while the config still says
 * what it said then; where the config file changed that field since, the config wins (the newer word) and the saved
 * field is reported and dropped. A field set back to the config's value is no longer a change: it is not saved.
 */
import { RecordReader, type RecordProblem } from './record-reader.js';
import type { JsonValue } from './state-record.js';

export type SettingValues = Readonly<Record<string, JsonValue>>;

/** The record for `current` over the config's `base`: the fields that differ, or null when none does. */
export function layerOver(current: SettingValues, base: SettingValues): JsonValue | null {
  const record: Record<string, JsonValue> = {};
  for (const [field, value] of Object.entries(current)) {
    const was = base[field] ?? null;
    if (!sameJson(value, was)) record[field] = { value, base: was };
  }
  return Object.keys(record).length === 0 ? null : record;
}

export interface LayeredRestore {
  /** The saved values whose base is still the config's: apply these. */
  readonly apply: Record<string, JsonValue>;
  /** Fields the config changed since they were set (or that no longer exist): not applied. */
  readonly superseded: readonly { readonly field: string; readonly reason: string }[];
}

/** A saved layered record against the config now (`base`: every field the setting has, with the config's value). */
export function restoreLayered(kind: string, key: string, saved: JsonValue, base: SettingValues, problem: RecordProblem): LayeredRestore {
  const r = new RecordReader(kind, key, saved, problem);
  const apply: Record<string, JsonValue> = {};
  const superseded: { field: string; reason: string }[] = [];
  for (const field of Object.keys(saved as Record<string, JsonValue>)) {
    const layer = r.json(field);
    if (typeof layer !== 'object' || layer === null || Array.isArray(layer) || !('value' in layer) || !('base' in layer)) {
      throw r.fail(field, 'must be { value, base }');
    }
    if (!(field in base)) superseded.push({ field, reason: `"${field}" is no setting of ${kind} any more` });
    else if (!sameJson(layer.base ?? null, base[field] ?? null)) {
      superseded.push({ field, reason: `the config's ${field} is now ${JSON.stringify(base[field] ?? null)} (it was ${JSON.stringify(layer.base)} when ${JSON.stringify(layer.value)} was set): the config wins` });
    } else apply[field] = layer.value ?? null;
  }
  return { apply, superseded };
}

function sameJson(a: JsonValue, b: JsonValue): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

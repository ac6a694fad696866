/**
 * A Proxy with `ha:` keeps its desired state in etcd (switch/ha/desired-state.ts): which records, and what it does
 * with them on winning. The kinds: the fast path's settings (`fastpath`), the in-process plugins' enabled states
 * (`plugin`) and the HTTP policies (`policy`), each checked with its own decoder when read back. Not kept there:
 * the primitives (each daemon's own), pending cleanups (what this Proxy owes), join tokens (a token pins the join
 * certificate of the Proxy that made it: another Proxy could not serve it).
 */
import { FASTPATH_KIND, checkSettingsRecord } from '../plugins/fastpath/saved-settings.js';
import { PLUGIN_KIND, POLICY_KIND, checkEnabledRecord, decodePolicy } from '../plugins/host/saved-plugins.js';
import type { Etcd } from '../switch/ha/etcd.js';
import { changesToMatch, EtcdDesiredState, type DesiredKind } from '../switch/ha/desired-state.js';
import type { Logger } from '../switch/log.js';
import type { RecordProblem } from '../switch/state/record-reader.js';
import type { DurableRecords } from '../switch/state/restore-report.js';

const problem: RecordProblem = (where, what) => new Error(`${where}: ${what}`);

export const DESIRED_KINDS: readonly DesiredKind[] = [
  { kind: FASTPATH_KIND, validate: (key, value) => checkSettingsRecord(key, value, problem) },
  { kind: PLUGIN_KIND, validate: (key, value) => checkEnabledRecord(key, value, problem) },
  { kind: POLICY_KIND, validate: (key, value) => void decodePolicy(key, value, problem) },
];

export function desiredStateOn(etcd: Etcd): EtcdDesiredState {
  return new EtcdDesiredState(etcd, DESIRED_KINDS);
}

/**
 * This Proxy just won: etcd's desired state becomes its own records (written to its own file only: it is not
 * active for its plugins yet), then `reload` has its plugins take them. Nothing seeded yet (the first active
 * Proxy of the overlay): its own records seed etcd. Refused values are logged, key by key; the rest load.
 */
export async function takeDesiredState(opts: { desired: EtcdDesiredState; local: DurableRecords; name: string; log: Logger; reload(): Promise<void> }): Promise<void> {
  const { desired, local, log } = opts;
  const kinds = DESIRED_KINDS.map((k) => k.kind);
  const load = await desired.load();
  for (const r of load.refused) log.warn('ha: a desired-state value in etcd is refused; the rest load', { key: r.key, reason: r.reason });
  if (!load.seeded) {
    const records = kinds.flatMap((kind) => [...local.saved.kind(kind)].map(([key, value]) => ({ kind, key, value })));
    await desired.seed(records, opts.name);
    log.info('ha: desired state seeded in etcd from this proxy', { prefix: desired.prefix, records: records.length });
    return;
  }
  const changes = changesToMatch(local.saved, load, kinds, desired.prefix);
  log.info('ha: desired state taken from etcd', { prefix: desired.prefix, records: load.records.length, changed: changes.length, refused: load.refused.length });
  if (changes.length === 0) return;
  await local.write(changes);
  await opts.reload();
}

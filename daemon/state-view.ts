/**
 * GET /v1/state: the saved records and the config's links and ports side by side, each with where it comes from
 * (the config file, or the saved run-time changes), and what the last restore skipped and why. A pre-shared key is
 * never shown.
 */
import type { StateItem, StateView } from '../api/wire/schemas.js';
import type { DaemonConfig } from '../switch/config/config.js';
import type { RestoreReport } from '../switch/state/restore-report.js';
import type { JsonValue } from '../switch/state/state-record.js';
import type { StateStoreInfo } from '../switch/state/state-store.js';
import type { SavedState } from '../switch/state/state-table.js';
import { CONFIG_LINK_DELETED_KIND, CONFIG_PORT_DELETED_KIND, LINK_KIND, PORT_KIND } from '../switch/state/primitive-records.js';

export interface StateViewParts {
  config: DaemonConfig;
  info: StateStoreInfo;
  saved: SavedState;
  report: RestoreReport;
  /** The links running now, with their owners. */
  links: readonly { name: string; owner: string }[];
  /** The ports (and links) of the datapath now, with their owners. */
  ports: readonly { name: string; owner: string }[];
}

export function stateViewOf(parts: StateViewParts): StateView {
  const { config, info, saved, report } = parts;
  const running = new Set(parts.links.map((l) => l.name));
  const items: StateItem[] = [];
  for (const peer of config.peers) {
    if (saved.get(CONFIG_LINK_DELETED_KIND, peer.name) !== undefined || !running.has(peer.name)) continue;
    items.push({ kind: LINK_KIND, key: peer.name, from: 'config', status: 'active' });
  }
  const ports = new Map(parts.ports.map((p) => [p.name, p.owner]));
  for (const port of config.ports) {
    // A config port deleted at run time is not the config's any more (and one re-added under its name is the state's).
    if (saved.get(CONFIG_PORT_DELETED_KIND, port.name) !== undefined || ports.get(port.name) !== 'config') continue;
    items.push({ kind: PORT_KIND, key: port.name, from: 'config', status: 'active' });
  }
  for (const { kind, key, value } of saved.records()) {
    const unread = !report.reads(kind);
    items.push({
      kind,
      key,
      from: 'state',
      status: unread ? 'unread' : 'active',
      ...(unread ? { reason: 'nothing on this daemon reads this kind now (a plugin that is off, or another role): kept' } : {}),
      value: shown(value),
    });
  }
  for (const o of report.outcomes()) {
    if (o.outcome === 'skipped') items.push({ kind: o.kind, key: o.key, from: 'state', status: 'skipped', ...(o.reason === undefined ? {} : { reason: o.reason }) });
  }
  return {
    persistent: info.dir !== undefined,
    ...(info.dir === undefined ? {} : { dir: info.dir }),
    ...(info.file === undefined ? {} : { file: info.file }),
    records: info.records,
    bytes: info.bytes,
    entries: info.entries,
    compactions: info.compactions,
    tornBytesDropped: info.tornBytesDropped,
    openMs: Math.round(info.openMs * 10) / 10,
    items,
  };
}

function shown(value: JsonValue): JsonValue {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !('presharedKey' in value)) return value;
  return { ...value, presharedKey: '(set)' };
}

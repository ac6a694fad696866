/**
 * Host and link events for plugins, by comparing two snapshots of the overlay as the Proxy sees it: its own star
 * links (a host is joined while the Proxy hears it) and every link each host last reported. Pure: the registry
 * takes a snapshot every second (hosts report at once when a link changes state) and publishes the difference.
 */
import type { PluginEvent } from './plugin.js';

export type LinkEventBody = NonNullable<PluginEvent['link']>;
export type HostEventBody = NonNullable<PluginEvent['host']>;
export type WatchEvent = { type: 'link'; link: LinkEventBody } | { type: 'host'; host: HostEventBody };

export interface SnapshotLink {
  host: string;
  name: string;
  state: 'up' | 'connecting';
  owner: string;
  publicKey?: string;
}

export interface OverlaySnapshot {
  /** Host name → whether the Proxy hears it. */
  hosts: ReadonlyMap<string, 'up' | 'down'>;
  /** `${host}/${link}` → the link as last seen. */
  links: ReadonlyMap<string, SnapshotLink>;
}

export const EMPTY_SNAPSHOT: OverlaySnapshot = { hosts: new Map(), links: new Map() };

export function snapshotOf(hosts: { name: string; state: 'up' | 'down' }[], links: SnapshotLink[]): OverlaySnapshot {
  return {
    hosts: new Map(hosts.map((h) => [h.name, h.state])),
    links: new Map(links.map((l) => [`${l.host}/${l.name}`, l])),
  };
}

export function diffSnapshots(prev: OverlaySnapshot, next: OverlaySnapshot): WatchEvent[] {
  const events: WatchEvent[] = [];
  for (const [name, state] of next.hosts) {
    if (state === 'up' && prev.hosts.get(name) !== 'up') events.push({ type: 'host', host: { name, change: 'joined' } });
  }
  for (const [name, state] of prev.hosts) {
    if (state === 'up' && next.hosts.get(name) !== 'up') events.push({ type: 'host', host: { name, change: 'left' } });
  }
  for (const [key, link] of next.links) {
    const before = prev.links.get(key);
    if (before === undefined) events.push({ type: 'link', link: linkBody(link, 'added', link.state) });
    else if (before.state !== link.state) events.push({ type: 'link', link: linkBody(link, link.state === 'up' ? 'up' : 'down', link.state) });
  }
  for (const [key, link] of prev.links) {
    if (!next.links.has(key)) events.push({ type: 'link', link: linkBody(link, 'removed', 'gone') });
  }
  return events;
}

/** The events that describe `snapshot` to a newcomer: every joined host, every link as it is. */
export function currentEvents(snapshot: OverlaySnapshot): WatchEvent[] {
  return diffSnapshots(EMPTY_SNAPSHOT, snapshot);
}

function linkBody(link: SnapshotLink, change: LinkEventBody['change'], state: LinkEventBody['state']): LinkEventBody {
  return { host: link.host, name: link.name, change, state, owner: link.owner, ...(link.publicKey ? { publicKey: link.publicKey } : {}) };
}

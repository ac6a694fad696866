/**
 * What the CLI prints for people: one pure function per view, so the tables
 * are tested without a daemon. Scripts use `--json`, which prints the API's
 * own bodies unchanged. Times are shown as ages relative to `nowMs`.
 */
import type { InterfaceStatus, HostSummary, LinkStatusBody, MacEntry, PortStatus, RuleBody, Status } from '../wire/schemas.js';
import { formatTable } from './table.js';

export function formatInterfaces(interfaces: readonly InterfaceStatus[]): string {
  return formatTable(
    ['INTERFACE', 'KIND', 'STATE', 'RX FRAMES', 'RX BYTES', 'TX FRAMES', 'TX BYTES', 'DROPS'],
    interfaces.map((p) => [p.name, p.kind, p.state === 'down' && p.lastError ? `down (${p.lastError})` : p.state, p.rxFrames, p.rxBytes, p.txFrames, p.txBytes, formatDrops(p.drops)]),
  );
}

export function formatPorts(ports: readonly PortStatus[]): string {
  return formatTable(
    ['PORT', 'KIND', 'INTERFACE', 'STATE', 'OWNER', 'RX FRAMES', 'TX FRAMES', 'DROPS'],
    ports.map((p) => [p.name, p.kind, p.interface ?? '-', p.state === 'down' && p.lastError ? `down (${p.lastError})` : p.state, p.owner, p.rxFrames, p.txFrames, formatDrops(p.drops)]),
  );
}

export function formatLinks(links: readonly LinkStatusBody[], nowMs: number): string {
  return formatTable(
    ['LINK', 'STATE', 'TRANSPORT', 'ENDPOINT', 'LAST HANDSHAKE', 'RX BYTES', 'TX BYTES', 'DROPS'],
    links.map((l) => [
      l.name,
      l.state,
      l.mode === 'auto' ? `${l.transport} (auto)` : l.transport,
      l.endpoint ?? '-',
      formatAgo(l.lastHandshakeAt, nowMs),
      l.rxBytes,
      l.txBytes,
      formatDrops(l.drops),
    ]),
  );
}

export function formatRules(rules: readonly RuleBody[]): string {
  return formatTable(
    ['ID', 'SRC', 'DST', 'TARGET', 'PRIORITY', 'OWNER', 'HIT FRAMES', 'HIT BYTES'],
    rules.map((r) => [r.id, r.src, r.dst, r.target, r.priority, r.owner, r.hitFrames, r.hitBytes]),
  );
}

export function formatHosts(hosts: readonly HostSummary[], nowMs: number): string {
  return formatTable(
    ['HOST', 'STATE', 'LAST HEARD', 'LAST REPORT', 'INTERFACES', 'LINKS', 'RULES'],
    hosts.map((h) => [h.name, h.state, formatAgo(h.lastHeardAt, nowMs), formatAgo(h.lastReportAt, nowMs), h.interfaces, h.links, h.rules]),
  );
}

export function formatMacs(macs: readonly MacEntry[]): string {
  return formatTable(['MAC', 'PORT', 'STATIC', 'AGE S'], macs.map((m) => [m.mac, m.port, m.static ? 'yes' : 'no', m.ageS]));
}

export function formatStatus(s: Status, nowMs: number): string {
  const parts = [
    `${s.name} (${s.role}) vswitch ${s.version}, up ${s.uptimeS} s`,
    `MAC table: ${s.macTable.entries} entries (learned ${s.macTable.learned}, moved ${s.macTable.moved}, expired ${s.macTable.expired})`,
    '',
    formatInterfaces(s.ports),
  ];
  if (s.links.length > 0) parts.push('', formatLinks(s.links, nowMs));
  if (s.refused) parts.push('', `refused, from no link: ${formatDrops(s.refused.underlay)}`, `refused control messages: ${formatDrops(s.refused.control)}`);
  return parts.join('\n');
}

export function formatDrops(drops: Record<string, number>): string {
  const parts = Object.entries(drops)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${reason}=${n}`);
  return parts.length === 0 ? '-' : parts.join(',');
}

/** "3 s ago", "never" for an absent time. */
export function formatAgo(iso: string | undefined, nowMs: number): string {
  if (iso === undefined) return 'never';
  const ageS = Math.max(0, Math.round((nowMs - Date.parse(iso)) / 1000));
  return `${ageS} s ago`;
}

/**
 * The dashboard's browser script (compiled by tsc, linked with the modules
 * it imports and inlined into GET / by api/dashboard/client-script.ts,
 * allowed by the page's CSP by its hash). No framework: it reads the
 * daemon's server-sent events over fetch and redraws
 * a few panels, building every element with createElement/createElementNS
 * (h() and svg() below): what daemons send is set as text or as attribute
 * values, never parsed as HTML.
 *
 *   token     `#token=…` in the page URL, read once at start and removed from
 *             the address bar (history.replaceState); kept in a closure only
 *             (no storage: a reload without the fragment asks again), sent as
 *             `Authorization: Bearer` on every request. A 401 shows a token
 *             field instead.
 *   stream    GET /v1/events read with fetch (EventSource cannot send the
 *             header) through SseParser; reconnects after 2 s (or the stream's
 *             `retry:`) with Last-Event-ID.
 *   snapshot  → the overlay drawing (layoutOverlay: the Proxy in the centre,
 *             hosts on a circle, each host's VMs outside it; star links solid,
 *             fast-path links between two hosts dashed and coloured, labelled
 *             with transport and throughput from the byte counters of two
 *             snapshots) and the hosts' rule tables with hit counters.
 *   log       → the event list (newest first, 200 kept).
 *   VTTIF     GET /v1/vttif/topology every 3 s, and /v1/vttif/events when the
 *             daemon has it: edges drawn with width ∝ intensity; 404/501 →
 *             "VTTIF: no data yet".
 * The pure parts (layoutOverlay, edgesOf, formatRate) and the element
 * builders are exported for unit tests; the page starts only where there is
 * a document. Two modules are shared with the CLI: the SSE parser
 * (api/wire/sse-parser.ts) and the application-topology drawing
 * (api/wire/app-topology-layout.ts); client-script.ts links the compiled
 * modules into the one inline script the page carries.
 */
import type { LoggedEvent } from '../../switch/event-log.js';
import { layoutAppTopology, topologyEdges, type AppTopologyInput, type SceneNode, type ScenePalette } from '../wire/app-topology-layout.js';
import { SseParser, type SseEvent } from '../wire/sse-parser.js';
import type { DashboardHost, DashboardLink, DashboardSnapshot } from './snapshot.js';

// ---- server-sent events over fetch ---------------------------------------------------------------

// The parser is the CLI's too (api/wire/sse-parser.ts); exported from here as well, for the API's tests.
export { SseParser };

// ---- layout --------------------------------------------------------------------------------------

export const VIEW = { width: 1000, height: 640 } as const;
/** The ellipse the hosts sit on (wider than tall, as the panel is). */
export const RING_RX = 330;
export const RING_RY = 200;

export interface EdgeView {
  key: string;
  a: string;
  b: string;
  kind: 'star' | 'fastpath';
  state: 'up' | 'connecting';
  transport: string;
  /** rx + tx bytes as seen from end `a`. */
  bytes: number;
}

export interface NodeView {
  id: string;
  kind: 'proxy' | 'host' | 'vm';
  label: string;
  sub: string;
  x: number;
  y: number;
  state: 'up' | 'down';
  /** VMs: the host they sit on. */
  host?: string;
}

/**
 * Every link once, from whichever end reports it first (the centre's own view
 * first). A link between two hosts, neither of them the centre, is a fast path.
 */
export function edgesOf(snapshot: DashboardSnapshot): EdgeView[] {
  const centre = String(snapshot.self.name);
  const byKey = new Map<string, EdgeView>();
  const add = (from: string, l: DashboardLink): void => {
    const peer = String(l.peer);
    const [a, b] = from < peer ? [from, peer] : [peer, from];
    const key = `${a}|${b}`;
    const seen = byKey.get(key);
    if (seen) {
      if (l.state === 'up') seen.state = 'up';
      return;
    }
    byKey.set(key, {
      key,
      a: from,
      b: peer,
      kind: a === centre || b === centre ? 'star' : 'fastpath',
      state: l.state === 'up' ? 'up' : 'connecting',
      transport: String(l.transport),
      bytes: finite(l.rxBytes) + finite(l.txBytes),
    });
  };
  for (const l of snapshot.links) add(centre, l);
  for (const h of snapshot.hosts) if (String(h.name) !== centre) for (const l of h.links) add(String(h.name), l);
  for (const h of snapshot.hosts) if (String(h.name) === centre) for (const l of h.links) add(centre, l);
  return [...byKey.values()];
}

export function layoutOverlay(snapshot: DashboardSnapshot): NodeView[] {
  const cx = VIEW.width / 2;
  const cy = VIEW.height / 2;
  const centre = String(snapshot.self.name);
  const ring: { name: string; host?: DashboardHost }[] = [];
  const seen = new Set([centre]);
  for (const h of snapshot.hosts) {
    const name = String(h.name);
    if (seen.has(name)) continue;
    seen.add(name);
    ring.push({ name, host: h });
  }
  for (const e of edgesOf(snapshot)) {
    for (const n of [e.a, e.b]) {
      if (seen.has(n)) continue;
      seen.add(n);
      ring.push({ name: n });
    }
  }
  const selfHost = snapshot.hosts.find((h) => String(h.name) === centre);
  const nodes: NodeView[] = [
    {
      id: centre,
      kind: snapshot.self.role === 'proxy' ? 'proxy' : 'host',
      label: centre,
      sub: snapshot.self.role,
      x: cx,
      y: cy,
      state: 'up',
    },
  ];
  const radiusX = ring.length <= 1 ? 0 : RING_RX;
  const radiusY = ring.length <= 1 ? 0 : RING_RY;
  ring.forEach((r, i) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, ring.length) + (ring.length === 4 ? Math.PI / 4 : 0);
    const x = cx + radiusX * Math.cos(angle);
    const y = cy + radiusY * Math.sin(angle);
    const sub = r.host?.error !== undefined ? String(r.host.error) : `${r.host?.vms.length ?? 0} VM`;
    nodes.push({ id: r.name, kind: 'host', label: r.name, sub, x, y, state: !r.host || r.host.state === 'up' ? 'up' : 'down' });
    if (r.host) nodes.push(...vmNodes(r.host, x, y, angle));
  });
  if (selfHost) nodes.push(...vmNodes(selfHost, cx, cy, Math.PI / 2));
  return nodes;
}

/** A host's VMs on a short arc outside it, facing away from the centre. */
function vmNodes(host: DashboardHost, x: number, y: number, outward: number): NodeView[] {
  const n = host.vms.length;
  const spread = Math.min(Math.PI * 0.9, 0.55 * Math.max(0, n - 1));
  return host.vms.map((vm, i) => {
    const angle = outward + (n <= 1 ? 0 : -spread / 2 + (spread * i) / (n - 1));
    return {
      id: `${String(host.name)}/${String(vm.port)}`,
      kind: 'vm' as const,
      label: String(vm.port),
      sub: vm.macs[0] !== undefined ? String(vm.macs[0]) : 'no MAC learned yet',
      x: x + 128 * Math.cos(angle),
      y: y + 94 * Math.sin(angle),
      state: vm.state === 'up' ? 'up' : 'down',
      host: String(host.name),
    };
  });
}

export function formatRate(bitsPerS: number): string {
  if (!Number.isFinite(bitsPerS) || bitsPerS < 1) return '0 b/s';
  const units = ['b/s', 'kb/s', 'Mb/s', 'Gb/s'];
  let v = bitsPerS;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}

export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

// ---- building the DOM ----------------------------------------------------------------------------
//
// Everything on the page that comes from a daemon (host names, rule fields,
// states, counters, event fields, plugin names…) is outside the trust
// boundary. It is put in the DOM only as text nodes or as attribute values set
// with setAttribute, never through an HTML parser (no innerHTML, outerHTML,
// insertAdjacentHTML), and the page's CSP (api/dashboard/page.ts) forbids any
// script but this one. Attribute values that are numbers are written as
// numbers (finite, else 0); classes and data-state come from fixed sets.

const SVG_NS = 'http://www.w3.org/2000/svg';

export type AttrValue = string | number | undefined;
export type Attrs = Record<string, AttrValue>;
export type Child = Node | string | number | null | undefined | false;

/** Attribute names that would run script or load a URL: the builders refuse them whatever the value. */
const UNSAFE_ATTR = /^(on|formaction$|action$|href$|src$|srcdoc$|xlink:href$|style$)/i;

function build<E extends Element>(e: E, attrs: Attrs, children: Child[]): E {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined) continue;
    if (UNSAFE_ATTR.test(name)) throw new Error(`dashboard: refusing attribute ${name}`);
    e.setAttribute(name, typeof value === 'number' ? formatNumber(value) : value);
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    e.append(typeof c === 'object' ? c : String(c));
  }
  return e;
}

/** An HTML element: `h('td', { class: 'n' }, text)`; strings become text nodes. */
export function h(tag: string, attrs: Attrs = {}, ...children: Child[]): HTMLElement {
  return build(document.createElement(tag), attrs, children);
}

/** An SVG element, made in the SVG namespace. */
export function svg(tag: string, attrs: Attrs = {}, ...children: Child[]): SVGElement {
  return build(document.createElementNS(SVG_NS, tag) as SVGElement, attrs, children);
}

/** A number for an attribute: finite, at most 2 decimals; anything else is 0. */
function formatNumber(n: number): string {
  return Number.isFinite(n) ? String(Math.round(n * 100) / 100) : '0';
}

/** A value that should be a number, as one: non-numbers (and NaN, ±Infinity) count as 0. */
export function finite(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

/** A value that should be one of a few words, as one of them (else `fallback`). */
export function oneOf<T extends string>(v: unknown, allowed: readonly T[], fallback: T): T {
  return (allowed as readonly unknown[]).includes(v) ? (v as T) : fallback;
}

/** Any value as the text to show (null/undefined as nothing). */
function text(v: unknown): string {
  return v === null || v === undefined ? '' : String(v);
}

// ---- the page ------------------------------------------------------------------------------------

/** Where earlier versions of the page kept the token; removed at start so none is left behind. */
const LEGACY_TOKEN_KEY = 'vswitch-token';
const MAX_LOG = 200;
const EVENT_LEVELS = ['info', 'warn'] as const;
const PLUGIN_STATES = ['running', 'disabled', 'waiting', 'expired', 'failed'] as const;
const RULE_COLUMNS = ['#', 'src', 'dst', 'target', 'prio', 'owner', 'hits', 'bytes'];

interface PageState {
  previous: { atMs: number; bytes: Map<string, number> } | undefined;
  rates: Map<string, number>;
  hits: Map<string, number>;
  snapshots: number;
  lastEventId: string | undefined;
  macNames: Map<string, string>;
}

/** fetch with the API token; the token itself lives in start()'s closure. */
type ApiFetch = (path: string, init?: RequestInit) => Promise<Response>;

function el(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (!found) throw new Error(`dashboard: #${id} missing from the page`);
  return found;
}

/**
 * The token from `#token=…` in the address, once: the fragment is then taken
 * out of the address (history.replaceState), so it is not left in the address
 * bar, in bookmarks or in the history entry.
 */
function takeTokenFromFragment(): string | undefined {
  const m = /(?:^#|&)token=([^&]*)/.exec(location.hash);
  if (!m) return undefined;
  history.replaceState(null, '', location.pathname + location.search);
  const raw = m[1] ?? '';
  try {
    return decodeURIComponent(raw) || undefined;
  } catch {
    return raw || undefined;
  }
}

function forgetStoredToken(): void {
  try {
    sessionStorage.removeItem(LEGACY_TOKEN_KEY);
  } catch {
    // Storage disabled: there is nothing to forget.
  }
}

function setLive(state: 'live' | 'connecting' | 'down', message: string): void {
  const live = el('live');
  live.setAttribute('data-state', state);
  live.textContent = message;
}

function showTokenForm(): void {
  el('banner').textContent = 'this daemon needs an API token (a read-only one is enough)';
  el('token-form').classList.add('shown');
}

/** Reads one SSE response to its end, calling `on` per message; returns the reconnection time the stream asked for, if any. */
async function readStream(res: Response, on: (m: SseEvent) => void): Promise<number | undefined> {
  const parser = new SseParser();
  if (!res.body) return undefined;
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return parser.retryMs;
    for (const m of parser.push(decoder.decode(value, { stream: true }))) on(m);
  }
}

async function followEvents(state: PageState, api: ApiFetch): Promise<void> {
  let retryMs = 2000; // until the stream says otherwise (`retry:`), kept within 0.5–60 s
  for (;;) {
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      if (state.lastEventId) headers['last-event-id'] = state.lastEventId;
      const res = await api('/v1/events', { headers });
      if (res.status === 401) {
        setLive('down', 'token needed');
        showTokenForm();
        return;
      }
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      el('banner').textContent = '';
      setLive('live', 'live');
      const asked = await readStream(res, (m) => {
        if (m.id) state.lastEventId = m.id;
        if (m.event === 'snapshot') onSnapshot(state, JSON.parse(m.data) as DashboardSnapshot);
        else if (m.event === 'log') onLog(JSON.parse(m.data) as LoggedEvent);
      });
      if (asked !== undefined) retryMs = Math.min(60_000, Math.max(500, asked));
      setLive('down', 'stream ended: reconnecting');
    } catch (err) {
      setLive('down', `reconnecting (${err instanceof Error ? err.message : String(err)})`);
    }
    await new Promise((r) => setTimeout(r, retryMs));
  }
}

function onSnapshot(state: PageState, s: DashboardSnapshot): void {
  state.snapshots++;
  const atMs = Date.parse(s.at);
  const edges = edgesOf(s);
  const bytes = new Map(edges.map((e) => [e.key, e.bytes]));
  if (state.previous && atMs > state.previous.atMs) {
    const dtS = (atMs - state.previous.atMs) / 1000;
    for (const e of edges) {
      const before = state.previous.bytes.get(e.key);
      if (before !== undefined) state.rates.set(e.key, (Math.max(0, e.bytes - before) * 8) / dtS);
    }
  }
  state.previous = { atMs, bytes };
  state.macNames.clear();
  for (const h of s.hosts) for (const vm of h.vms) for (const mac of vm.macs) state.macNames.set(text(mac), `${text(h.name)}/${text(vm.port)}`);

  el('who').textContent = `${text(s.self.name)} (${text(s.self.role)}) · v${text(s.self.version)} · up ${formatUptime(finite(s.self.uptimeS))}${s.truncated ? ' · truncated' : ''}`;
  el('updated').textContent = new Date(atMs).toLocaleTimeString();
  el('snapshot-count').textContent = String(state.snapshots);
  drawOverlay(s, edges, state);
  drawRules(s, state);
}

function formatUptime(s: number): string {
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** The overlay drawing's elements (what #overlay holds): a glow filter, VM tethers, links, then nodes on top. */
export function overlayElements(nodes: NodeView[], edges: EdgeView[], rates: ReadonlyMap<string, number>): SVGElement[] {
  const at = new Map(nodes.map((n) => [n.id, n]));
  const parts: SVGElement[] = [
    svg(
      'defs',
      {},
      svg('filter', { id: 'glow' }, svg('feGaussianBlur', { stdDeviation: 3, result: 'b' }), svg('feMerge', {}, svg('feMergeNode', { in: 'b' }), svg('feMergeNode', { in: 'SourceGraphic' }))),
    ),
  ];
  for (const n of nodes) {
    if (n.kind !== 'vm' || n.host === undefined) continue;
    const host = at.get(n.host);
    if (host) parts.push(svg('line', { x1: host.x, y1: host.y, x2: n.x, y2: n.y, stroke: '#39c5bb', 'stroke-opacity': 0.45, 'stroke-width': 2 }));
  }
  for (const e of edges) {
    const a = at.get(e.a);
    const b = at.get(e.b);
    if (!a || !b) continue;
    const isUp = e.state === 'up';
    const colour = !isUp ? 'var(--down)' : e.kind === 'star' ? 'var(--star)' : 'var(--fast)';
    const dash = !isUp ? '3 6' : e.kind === 'fastpath' ? '12 7' : 'none';
    const mx = (a.x + b.x) / 2;
    const my = (a.y + b.y) / 2;
    const rate = rates.get(e.key);
    parts.push(
      svg(
        'g',
        { class: `edge ${e.kind}`, id: `edge-${e.key}`, 'data-kind': e.kind, 'data-state': e.state, 'data-transport': e.transport, 'data-bytes': e.bytes },
        svg('line', { x1: a.x, y1: a.y, x2: b.x, y2: b.y, stroke: colour, 'stroke-width': e.kind === 'fastpath' ? 4 : 3.5, 'stroke-dasharray': dash }),
        svg('rect', { x: mx - 74, y: my - 14, width: 148, height: 28, rx: 6, fill: '#0d1117', stroke: colour, 'stroke-opacity': 0.6 }),
        svg('text', { x: mx, y: my + 6, 'text-anchor': 'middle', 'font-size': 16, 'font-weight': 600 }, `${e.transport} · ${rate === undefined ? '…' : formatRate(rate)}`),
      ),
    );
  }
  for (const n of nodes) {
    const ok = n.state === 'up';
    if (n.kind === 'vm') {
      parts.push(
        svg(
          'g',
          { class: 'vm', id: `vm-${n.id}`, 'data-host': n.host ?? '', 'data-state': n.state },
          svg('rect', { x: n.x - 78, y: n.y - 24, width: 156, height: 48, rx: 8, fill: '#0f2b2a', stroke: ok ? 'var(--vm)' : 'var(--down)', 'stroke-width': 2 }),
          svg('text', { x: n.x, y: n.y - 4, 'text-anchor': 'middle', 'font-size': 17, 'font-weight': 600 }, n.label),
          svg('text', { class: 'sub', x: n.x, y: n.y + 15, 'text-anchor': 'middle', 'font-size': 13 }, n.sub),
        ),
      );
    } else {
      const isProxy = n.kind === 'proxy';
      parts.push(
        svg(
          'g',
          { class: `node ${n.kind}`, id: `node-${n.id}`, 'data-state': n.state },
          svg('circle', {
            cx: n.x,
            cy: n.y,
            r: isProxy ? 54 : 44,
            fill: isProxy ? '#2a1f3d' : '#172a45',
            stroke: !ok ? 'var(--down)' : isProxy ? 'var(--proxy)' : 'var(--up)',
            'stroke-width': 3.5,
            filter: 'url(#glow)',
          }),
          svg('text', { x: n.x, y: n.y + 3, 'text-anchor': 'middle', 'font-size': 22, 'font-weight': 700 }, n.label),
          svg('text', { class: 'sub', x: n.x, y: n.y + 22, 'text-anchor': 'middle', 'font-size': 13 }, n.sub),
        ),
      );
    }
  }
  return parts;
}

function drawOverlay(s: DashboardSnapshot, edges: EdgeView[], state: PageState): void {
  el('overlay').replaceChildren(...overlayElements(layoutOverlay(s), edges, state.rates));
}

/** One card per host with its rule table; `hits` (host#rule → last hit count) is updated, and rules hit since are marked. */
export function ruleCards(s: DashboardSnapshot, hits: Map<string, number>): HTMLElement[] {
  return s.hosts.map((host) => {
    const name = text(host.name);
    const rows = host.rules.map((r) => {
      const key = `${name}#${text(r.id)}`;
      const frames = finite(r.hitFrames);
      const before = hits.get(key);
      hits.set(key, frames);
      const isHit = before !== undefined && frames > before;
      return h(
        'tr',
        { class: isHit ? 'hit' : undefined, 'data-rule': key },
        h('td', { class: 'n' }, text(r.id)),
        h('td', {}, text(r.src)),
        h('td', {}, text(r.dst)),
        h('td', {}, text(r.target)),
        h('td', { class: 'n' }, text(r.priority)),
        h('td', {}, text(r.owner)),
        h('td', { class: 'n hits' }, text(r.hitFrames)),
        h('td', { class: 'n' }, typeof r.hitBytes === 'number' ? formatBytes(r.hitBytes) : text(r.hitBytes)),
      );
    });
    const body =
      host.error !== undefined
        ? h('p', { class: 'empty' }, `not answering (${text(host.error)})`)
        : rows.length === 0
          ? h('p', { class: 'empty' }, 'no rules')
          : h('table', {}, h('tbody', {}, h('tr', {}, ...RULE_COLUMNS.map((c) => h('th', {}, c))), ...rows));
    return h(
      'div',
      { class: 'card', id: `rules-${name}` },
      h('h3', {}, name, ' ', h('span', { class: 'dim' }, `${text(host.state)} · ${host.links.length} link(s) · ${host.vms.length} VM(s)`)),
      body,
    );
  });
}

function drawRules(s: DashboardSnapshot, state: PageState): void {
  const cards = ruleCards(s, state.hits);
  el('tables').replaceChildren(...(cards.length === 0 ? [h('p', { class: 'empty' }, 'no hosts yet')] : cards));
}

/** One line of the event log. */
export function logLine(e: LoggedEvent): HTMLElement {
  const fields = Object.entries(e.fields ?? {})
    .filter(([k]) => k !== 'component')
    .map(([k, v]) => `${k}=${text(v)}`)
    .join(' ');
  return h(
    'li',
    { class: oneOf(e.level, EVENT_LEVELS, 'info'), 'data-event': text(e.event) },
    h('span', { class: 't' }, new Date(e.at).toLocaleTimeString()),
    ' ',
    h('span', { class: 'ev' }, text(e.event)),
    ' ',
    h('span', { class: 'f' }, fields),
  );
}

function onLog(e: LoggedEvent): void {
  const log = el('log');
  log.querySelector('.empty')?.remove();
  log.prepend(logLine(e));
  while (log.children.length > MAX_LOG) log.lastElementChild?.remove();
}

// ---- plugins -------------------------------------------------------------------------------------

interface FastPathView {
  settings: { enabled: boolean; maxLinksPerHost: number; removeAfterMs: number };
  links: { a: string; b: string; state: string; rules: number }[];
  counters: { linksAdded: number; linksRemoved: number; linkFailures: number };
  /** Pairs through a NAT (absent from a Proxy before NAT traversal). */
  punches?: { a: string; b: string; natA: string; natB: string; state: string }[];
}

interface PluginView {
  name: string;
  kind: string;
  enabled: boolean;
  state: string;
  events: string[];
  owns: { links: number; rules: number };
  counters: { delivered: number; dropped: number; errors: number };
  lastError?: string | null;
  status?: Record<string, unknown>;
}

/** Every plugin of the Proxy (GET /v1/plugins), the fast-path one with its links; elsewhere the panel keeps "no plugins". */
async function followPlugins(api: ApiFetch): Promise<void> {
  for (;;) {
    try {
      const res = await api('/v1/plugins');
      if (res.ok) drawPlugins(((await res.json()) as { plugins: PluginView[] }).plugins);
    } catch {
      // Not the Proxy: the panel keeps saying so.
    }
    await new Promise((r) => setTimeout(r, 3000));
  }
}

function drawPlugins(plugins: PluginView[]): void {
  if (plugins.length === 0) return;
  el('plugins').replaceChildren(...plugins.map(pluginLine));
}

/** One plugin's line in the plugins panel. */
export function pluginLine(p: PluginView): HTMLElement {
  const name = text(p.name);
  const attrs = { id: `plugin-${name}`, 'data-enabled': p.enabled === true ? 'true' : 'false', 'data-state': oneOf(p.state, PLUGIN_STATES, 'unknown') };
  const head: Child[] = [h('b', {}, name), ` (${text(p.kind)}) · ${text(p.state)}`];
  if (p.name === 'fastpath' && p.status) {
    const f = p.status as unknown as FastPathView;
    const links = Array.isArray(f.links) ? f.links : [];
    const up = links.filter((l) => l.state === 'up').length;
    const punches = Array.isArray(f.punches) ? f.punches : [];
    const failed = punches.filter((x) => x.state === 'punch-failed');
    return h(
      'p',
      attrs,
      ...head,
      ` · ${up}/${links.length} fast links up · at most ${text(f.settings?.maxLinksPerHost)} per host · ` +
        `added ${text(f.counters?.linksAdded)}, removed ${text(f.counters?.linksRemoved)}, failed ${text(f.counters?.linkFailures)}`,
      punches.length > 0 ? ` · through NAT: ${punches.filter((x) => x.state === 'direct').length} direct, ${failed.length} punch-failed` : undefined,
      // A pair whose punch failed stays on the star: said with both NAT kinds, as the status has them.
      failed.length > 0 ? ' · ' : undefined,
      failed.length > 0 ? h('span', { class: 'warn' }, failed.map((x) => `${text(x.a)}–${text(x.b)} (${text(x.natA)}, ${text(x.natB)}) on the star`).join('; ')) : undefined,
    );
  }
  const events = Array.isArray(p.events) && p.events.length > 0 ? ` · takes ${p.events.map(text).join(', ')}` : '';
  return h(
    'p',
    attrs,
    ...head,
    `${events} · owns ${text(p.owns?.links)} links, ${text(p.owns?.rules)} rules · delivered ${text(p.counters?.delivered)}, dropped ${text(p.counters?.dropped)}`,
    p.lastError ? ' · ' : undefined,
    p.lastError ? h('span', { class: 'warn' }, text(p.lastError)) : undefined,
  );
}

// ---- VTTIF ---------------------------------------------------------------------------------------

/** What /v1/vttif/topology sends: read defensively by the layout, as it comes from the network. */
type AppTopology = AppTopologyInput;

async function followVttif(state: PageState, api: ApiFetch): Promise<void> {
  void followVttifEvents(state, api);
  for (;;) {
    try {
      const res = await api('/v1/vttif/topology');
      if (res.ok) drawAppTopology((await res.json()) as AppTopology, state);
      else drawNoVttif();
    } catch {
      drawNoVttif();
    }
    await new Promise((r) => setTimeout(r, 3000));
  }
}

async function followVttifEvents(state: PageState, api: ApiFetch): Promise<void> {
  try {
    const res = await api('/v1/vttif/events', { headers: { accept: 'text/event-stream' } });
    if (!res.ok) return; // no VTTIF stream on this daemon: polling alone
    await readStream(res, (m) => {
      if (m.event === 'topology') drawAppTopology(JSON.parse(m.data) as AppTopology, state);
    });
  } catch {
    // The polling loop keeps the panel current; the stream is only for speed.
  }
}

function drawNoVttif(): void {
  el('app-topology').replaceChildren(h('p', { class: 'empty' }, 'VTTIF: no data yet'));
}

/** The dashboard's colours for the shared drawing: its stylesheet's (texts take theirs from CSS). */
const APP_PALETTE: ScenePalette = { edge: 'var(--fast)', node: 'var(--vm)' };

/**
 * The application topology panel's content: the drawing the CLI prints too (api/wire/app-topology-layout.ts),
 * VMs named by their VM where the MAC is known, built as DOM by sceneElement().
 */
export function appTopologyElements(t: AppTopology, macNames: ReadonlyMap<string, string>): Element[] {
  if (topologyEdges(t).length === 0) return [h('p', { class: 'empty' }, 'VTTIF: no data yet')];
  return [sceneElement(layoutAppTopology(t, { palette: APP_PALETTE, label: (mac) => macNames.get(mac) ?? mac }))];
}

/** A scene (a tree of SVG elements, attribute values and text) as DOM, through svg(): text stays text. */
export function sceneElement(node: SceneNode): SVGElement {
  return svg(node.tag, node.attrs, ...node.children.map((c) => (typeof c === 'string' ? c : sceneElement(c))));
}

function drawAppTopology(t: AppTopology, state: PageState): void {
  el('app-topology').replaceChildren(...appTopologyElements(t, state.macNames));
}

// ---- start ---------------------------------------------------------------------------------------

function start(): void {
  const state: PageState = { previous: undefined, rates: new Map(), hits: new Map(), snapshots: 0, lastEventId: undefined, macNames: new Map() };
  (window as unknown as { vswitchDashboard: PageState }).vswitchDashboard = state;
  // The token lives here and nowhere else: not in storage, not on `window`, not in the address.
  let token = takeTokenFromFragment();
  forgetStoredToken();
  const api: ApiFetch = (path, init = {}) => {
    const headers = new Headers(init.headers);
    if (token) headers.set('authorization', `Bearer ${token}`);
    return fetch(path, { ...init, headers, cache: 'no-store' });
  };
  const input = el('token-input') as HTMLInputElement;
  el('token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const value = input.value.trim();
    if (!value) return;
    token = value;
    input.value = '';
    el('token-form').classList.remove('shown');
    el('banner').textContent = '';
    void followEvents(state, api);
  });
  void followEvents(state, api);
  void followVttif(state, api);
  void followPlugins(api);
}

if (typeof document !== 'undefined') start();

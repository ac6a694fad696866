/**
 * The dashboard's browser script (compiled by tsc, inlined into GET / by
 * api/dashboard/client-script.ts). No framework: it reads the daemon's
 * server-sent events over fetch and redraws a few panels.
 *
 *   token     `#token=…` in the page URL → sessionStorage, removed from the
 *             address bar; sent as `Authorization: Bearer` on every request.
 *             A 401 shows a token field instead.
 *   stream    GET /v1/events read with fetch (EventSource cannot send the
 *             header) through SseParser; reconnects after 2 s with Last-Event-ID.
 *   snapshot  → the overlay drawing (layoutOverlay: the Proxy in the centre,
 *             hosts on a circle, each host's VMs outside it; star links solid,
 *             fast-path links between two hosts dashed and coloured, labelled
 *             with transport and throughput from the byte counters of two
 *             snapshots) and the hosts' rule tables with hit counters.
 *   log       → the event list (newest first, 200 kept).
 *   VTTIF     GET /v1/vttif/topology every 3 s, and /v1/vttif/events when the
 *             daemon has it: edges drawn with width ∝ intensity; 404/501 →
 *             "VTTIF: no data yet".
 * The pure parts (SseParser, layoutOverlay, edgesOf, formatRate) are exported
 * for unit tests; the page starts only where there is a document.
 */
import type { LoggedEvent } from '../../switch/event-log.js';
import type { DashboardHost, DashboardLink, DashboardSnapshot } from './snapshot.js';

// ---- server-sent events over fetch ---------------------------------------------------------------

export interface SseMessage {
  event: string;
  data: string;
  id?: string;
}

/** Incremental text/event-stream parser (WHATWG HTML §9.2.6): feed chunks, get whole messages. */
export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private id: string | undefined;

  push(chunk: string): SseMessage[] {
    this.buffer += chunk;
    const out: SseMessage[] = [];
    for (;;) {
      const nl = this.buffer.search(/\r\n|\r|\n/);
      // A CR at the very end may be the first half of a CRLF split across chunks: wait for the next one.
      if (nl < 0 || (nl === this.buffer.length - 1 && this.buffer[nl] === '\r')) break;
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + (this.buffer.startsWith('\r\n', nl) ? 2 : 1));
      if (line === '') {
        if (this.data.length > 0) {
          out.push({ event: this.event || 'message', data: this.data.join('\n'), ...(this.id !== undefined ? { id: this.id } : {}) });
        }
        this.event = '';
        this.data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') this.event = value;
      else if (field === 'data') this.data.push(value);
      else if (field === 'id' && !value.includes('\0')) this.id = value;
    }
    return out;
  }
}

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
  const centre = snapshot.self.name;
  const byKey = new Map<string, EdgeView>();
  const add = (from: string, l: DashboardLink): void => {
    const [a, b] = from < l.peer ? [from, l.peer] : [l.peer, from];
    const key = `${a}|${b}`;
    const seen = byKey.get(key);
    if (seen) {
      if (l.state === 'up') seen.state = 'up';
      return;
    }
    byKey.set(key, {
      key,
      a: from,
      b: l.peer,
      kind: a === centre || b === centre ? 'star' : 'fastpath',
      state: l.state,
      transport: l.transport,
      bytes: l.rxBytes + l.txBytes,
    });
  };
  for (const l of snapshot.links) add(centre, l);
  for (const h of snapshot.hosts) if (h.name !== centre) for (const l of h.links) add(h.name, l);
  for (const h of snapshot.hosts) if (h.name === centre) for (const l of h.links) add(h.name, l);
  return [...byKey.values()];
}

export function layoutOverlay(snapshot: DashboardSnapshot): NodeView[] {
  const cx = VIEW.width / 2;
  const cy = VIEW.height / 2;
  const centre = snapshot.self.name;
  const ring: { name: string; host?: DashboardHost }[] = [];
  const seen = new Set([centre]);
  for (const h of snapshot.hosts) {
    if (seen.has(h.name)) continue;
    seen.add(h.name);
    ring.push({ name: h.name, host: h });
  }
  for (const e of edgesOf(snapshot)) {
    for (const n of [e.a, e.b]) {
      if (seen.has(n)) continue;
      seen.add(n);
      ring.push({ name: n });
    }
  }
  const selfHost = snapshot.hosts.find((h) => h.name === centre);
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
    nodes.push({ id: r.name, kind: 'host', label: r.name, sub: r.host?.error ?? `${r.host?.vms.length ?? 0} VM`, x, y, state: r.host?.state ?? 'up' });
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
      id: `${host.name}/${vm.port}`,
      kind: 'vm' as const,
      label: vm.port,
      sub: vm.macs[0] ?? 'no MAC learned yet',
      x: x + 128 * Math.cos(angle),
      y: y + 94 * Math.sin(angle),
      state: vm.state,
      host: host.name,
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

// ---- the page ------------------------------------------------------------------------------------

const TOKEN_KEY = 'vswitch-token';
const MAX_LOG = 200;

interface PageState {
  previous: { atMs: number; bytes: Map<string, number> } | undefined;
  rates: Map<string, number>;
  hits: Map<string, number>;
  snapshots: number;
  lastEventId: string | undefined;
  macNames: Map<string, string>;
}

function esc(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function el(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (!found) throw new Error(`dashboard: #${id} missing from the page`);
  return found;
}

function takeToken(): string | undefined {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m?.[1]) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
    history.replaceState(null, '', location.pathname + location.search);
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

function authFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const headers = new Headers(init.headers);
  if (token) headers.set('authorization', `Bearer ${token}`);
  return fetch(path, { ...init, headers, cache: 'no-store' });
}

function setLive(state: 'live' | 'connecting' | 'down', text: string): void {
  const live = el('live');
  live.dataset['state'] = state;
  live.textContent = text;
}

function showTokenForm(): void {
  el('banner').textContent = 'this daemon needs an API token (a read-only one is enough)';
  el('token-form').classList.add('shown');
}

/** Reads one SSE response to its end, calling `on` per message. */
async function readStream(res: Response, on: (m: SseMessage) => void): Promise<void> {
  if (!res.body) return;
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    for (const m of parser.push(decoder.decode(value, { stream: true }))) on(m);
  }
}

async function followEvents(state: PageState): Promise<void> {
  for (;;) {
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      if (state.lastEventId) headers['last-event-id'] = state.lastEventId;
      const res = await authFetch('/v1/events', { headers });
      if (res.status === 401) {
        setLive('down', 'token needed');
        showTokenForm();
        return;
      }
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      el('banner').textContent = '';
      setLive('live', 'live');
      await readStream(res, (m) => {
        if (m.id) state.lastEventId = m.id;
        if (m.event === 'snapshot') onSnapshot(state, JSON.parse(m.data) as DashboardSnapshot);
        else if (m.event === 'log') onLog(JSON.parse(m.data) as LoggedEvent);
      });
      setLive('down', 'stream ended: reconnecting');
    } catch (err) {
      setLive('down', `reconnecting (${err instanceof Error ? err.message : String(err)})`);
    }
    await new Promise((r) => setTimeout(r, 2000));
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
  for (const h of s.hosts) for (const vm of h.vms) for (const mac of vm.macs) state.macNames.set(mac, `${h.name}/${vm.port}`);

  el('who').textContent = `${s.self.name} (${s.self.role}) · v${s.self.version} · up ${formatUptime(s.self.uptimeS)}${s.truncated ? ' · truncated' : ''}`;
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

function drawOverlay(s: DashboardSnapshot, edges: EdgeView[], state: PageState): void {
  const nodes = layoutOverlay(s);
  const at = new Map(nodes.map((n) => [n.id, n]));
  const parts: string[] = [
    '<defs><filter id="glow"><feGaussianBlur stdDeviation="3" result="b"/><feMerge><feMergeNode in="b"/><feMergeNode in="SourceGraphic"/></feMerge></filter></defs>',
  ];
  for (const n of nodes) {
    if (n.kind !== 'vm' || !n.host) continue;
    const h = at.get(n.host);
    if (h) parts.push(`<line x1="${h.x}" y1="${h.y}" x2="${n.x}" y2="${n.y}" stroke="#39c5bb" stroke-opacity=".45" stroke-width="2"/>`);
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
    const rate = state.rates.get(e.key);
    const label = `${e.transport} · ${rate === undefined ? '…' : formatRate(rate)}`;
    parts.push(
      `<g class="edge ${e.kind}" id="edge-${esc(e.key)}" data-kind="${e.kind}" data-state="${e.state}" data-transport="${esc(e.transport)}" data-bytes="${e.bytes}">` +
        `<line x1="${a.x}" y1="${a.y}" x2="${b.x}" y2="${b.y}" stroke="${colour}" stroke-width="${e.kind === 'fastpath' ? 4 : 3.5}" stroke-dasharray="${dash}"/>` +
        `<rect x="${mx - 74}" y="${my - 14}" width="148" height="28" rx="6" fill="#0d1117" stroke="${colour}" stroke-opacity=".6"/>` +
        `<text x="${mx}" y="${my + 6}" text-anchor="middle" font-size="16" font-weight="600">${esc(label)}</text></g>`,
    );
  }
  for (const n of nodes) {
    const ok = n.state === 'up';
    if (n.kind === 'vm') {
      parts.push(
        `<g class="vm" id="vm-${esc(n.id)}" data-host="${esc(n.host ?? '')}" data-state="${n.state}">` +
          `<rect x="${n.x - 78}" y="${n.y - 24}" width="156" height="48" rx="8" fill="#0f2b2a" stroke="${ok ? 'var(--vm)' : 'var(--down)'}" stroke-width="2"/>` +
          `<text x="${n.x}" y="${n.y - 4}" text-anchor="middle" font-size="17" font-weight="600">${esc(n.label)}</text>` +
          `<text x="${n.x}" y="${n.y + 15}" text-anchor="middle" font-size="13" style="fill:#9da7b3">${esc(n.sub)}</text></g>`,
      );
    } else {
      const isProxy = n.kind === 'proxy';
      const r = isProxy ? 54 : 44;
      parts.push(
        `<g class="node ${n.kind}" id="node-${esc(n.id)}" data-state="${n.state}">` +
          `<circle cx="${n.x}" cy="${n.y}" r="${r}" fill="${isProxy ? '#2a1f3d' : '#172a45'}" stroke="${!ok ? 'var(--down)' : isProxy ? 'var(--proxy)' : 'var(--up)'}" stroke-width="3.5" filter="url(#glow)"/>` +
          `<text x="${n.x}" y="${n.y + 3}" text-anchor="middle" font-size="22" font-weight="700">${esc(n.label)}</text>` +
          `<text x="${n.x}" y="${n.y + 22}" text-anchor="middle" font-size="13" style="fill:#9da7b3">${esc(n.sub)}</text></g>`,
      );
    }
  }
  el('overlay').innerHTML = parts.join('');
}

function drawRules(s: DashboardSnapshot, state: PageState): void {
  const cards = s.hosts.map((h) => {
    const rows = h.rules.map((r) => {
      const key = `${h.name}#${r.id}`;
      const before = state.hits.get(key);
      state.hits.set(key, r.hitFrames);
      const isHit = before !== undefined && r.hitFrames > before;
      return `<tr class="${isHit ? 'hit' : ''}" data-rule="${esc(key)}"><td class="n">${r.id}</td><td>${esc(r.src)}</td><td>${esc(r.dst)}</td><td>${esc(r.target)}</td><td class="n">${r.priority}</td><td>${esc(r.owner)}</td><td class="n hits">${r.hitFrames}</td><td class="n">${esc(formatBytes(r.hitBytes))}</td></tr>`;
    });
    const body =
      h.error !== undefined
        ? `<p class="empty">not answering (${esc(h.error)})</p>`
        : rows.length === 0
          ? '<p class="empty">no rules</p>'
          : `<table><tr><th>#</th><th>src</th><th>dst</th><th>target</th><th>prio</th><th>owner</th><th>hits</th><th>bytes</th></tr>${rows.join('')}</table>`;
    return `<div class="card" id="rules-${esc(h.name)}"><h3>${esc(h.name)} <span class="dim">${h.state} · ${h.links.length} link(s) · ${h.vms.length} VM(s)</span></h3>${body}</div>`;
  });
  el('tables').innerHTML = cards.length === 0 ? '<p class="empty">no hosts yet</p>' : cards.join('');
}

function onLog(e: LoggedEvent): void {
  const log = el('log');
  log.querySelector('.empty')?.remove();
  const li = document.createElement('li');
  li.className = e.level;
  li.dataset['event'] = e.event;
  const fields = Object.entries(e.fields)
    .filter(([k]) => k !== 'component')
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
  li.innerHTML = `<span class="t">${esc(new Date(e.at).toLocaleTimeString())}</span> <span class="ev">${esc(e.event)}</span> <span class="f">${esc(fields)}</span>`;
  log.prepend(li);
  while (log.children.length > MAX_LOG) log.lastElementChild?.remove();
}

// ---- plugins -------------------------------------------------------------------------------------

interface FastPathView {
  settings: { enabled: boolean; maxLinksPerHost: number; removeAfterMs: number };
  links: { a: string; b: string; state: string; rules: number }[];
  counters: { linksAdded: number; linksRemoved: number; linkFailures: number };
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
async function followPlugins(): Promise<void> {
  for (;;) {
    try {
      const res = await authFetch('/v1/plugins');
      if (res.ok) drawPlugins(((await res.json()) as { plugins: PluginView[] }).plugins);
    } catch {
      // Not the Proxy: the panel keeps saying so.
    }
    await new Promise((r) => setTimeout(r, 3000));
  }
}

function drawPlugins(plugins: PluginView[]): void {
  if (plugins.length === 0) return;
  el('plugins').innerHTML = plugins.map(pluginLine).join('');
}

function pluginLine(p: PluginView): string {
  const head = `<p id="plugin-${esc(p.name)}" data-enabled="${p.enabled}" data-state="${esc(p.state)}"><b>${esc(p.name)}</b> (${esc(p.kind)}) · ${esc(p.state)}`;
  if (p.name === 'fastpath' && p.status) {
    const f = p.status as unknown as FastPathView;
    const up = f.links.filter((l) => l.state === 'up').length;
    return (
      `${head} · ${up}/${f.links.length} fast links up · at most ${f.settings.maxLinksPerHost} per host · ` +
      `added ${f.counters.linksAdded}, removed ${f.counters.linksRemoved}, failed ${f.counters.linkFailures}</p>`
    );
  }
  const events = p.events.length > 0 ? ` · takes ${esc(p.events.join(', '))}` : '';
  const error = p.lastError ? ` · <span class="warn">${esc(p.lastError)}</span>` : '';
  return `${head}${events} · owns ${p.owns.links} links, ${p.owns.rules} rules · delivered ${p.counters.delivered}, dropped ${p.counters.dropped}${error}</p>`;
}

// ---- VTTIF ---------------------------------------------------------------------------------------

interface AppTopology {
  edges: { a: string; b: string; intensity: number }[];
  shape?: unknown;
}

async function followVttif(state: PageState): Promise<void> {
  void followVttifEvents(state);
  for (;;) {
    try {
      const res = await authFetch('/v1/vttif/topology');
      if (res.ok) drawAppTopology((await res.json()) as AppTopology, state);
      else drawNoVttif();
    } catch {
      drawNoVttif();
    }
    await new Promise((r) => setTimeout(r, 3000));
  }
}

async function followVttifEvents(state: PageState): Promise<void> {
  try {
    const res = await authFetch('/v1/vttif/events', { headers: { accept: 'text/event-stream' } });
    if (!res.ok) return; // no VTTIF stream on this daemon: polling alone
    await readStream(res, (m) => {
      if (m.event === 'topology') drawAppTopology(JSON.parse(m.data) as AppTopology, state);
    });
  } catch {
    // The polling loop keeps the panel current; the stream is only for speed.
  }
}

function drawNoVttif(): void {
  el('app-topology').innerHTML = '<p class="empty">VTTIF: no data yet</p>';
}

function drawAppTopology(t: AppTopology, state: PageState): void {
  const edges = Array.isArray(t.edges) ? t.edges : [];
  if (edges.length === 0) {
    drawNoVttif();
    return;
  }
  const names = [...new Set(edges.flatMap((e) => [e.a, e.b]))];
  const w = 420;
  const h = 300;
  const pos = new Map(names.map((n, i) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * i) / names.length;
    return [n, { x: w / 2 + 140 * Math.cos(angle), y: h / 2 + 105 * Math.sin(angle) }];
  }));
  const max = Math.max(...edges.map((e) => e.intensity), 1e-9);
  const lines = edges.map((e) => {
    const a = pos.get(e.a);
    const b = pos.get(e.b);
    if (!a || !b) return '';
    const width = 1.5 + (10 * e.intensity) / max;
    return `<line class="app-edge" data-intensity="${e.intensity}" x1="${a.x}" y1="${a.y}" x2="${b.x}" y2="${b.y}" stroke="var(--fast)" stroke-opacity=".85" stroke-linecap="round" stroke-width="${width.toFixed(1)}"/>`;
  });
  const dots = names.map((n) => {
    const p = pos.get(n)!;
    const label = state.macNames.get(n) ?? n;
    return `<circle cx="${p.x}" cy="${p.y}" r="9" fill="var(--vm)"/><text x="${p.x}" y="${p.y - 14}" text-anchor="middle" font-size="13">${esc(label)}</text>`;
  });
  const shape = typeof t.shape === 'string' ? t.shape : '';
  el('app-topology').innerHTML =
    `<svg viewBox="0 0 ${w} ${h}" role="img" aria-label="application topology">${lines.join('')}${dots.join('')}</svg>` +
    (shape ? `<p class="dim">shape: <b>${esc(shape)}</b> · ${edges.length} edge(s), width ∝ intensity</p>` : '');
}

// ---- start ---------------------------------------------------------------------------------------

function start(): void {
  const state: PageState = { previous: undefined, rates: new Map(), hits: new Map(), snapshots: 0, lastEventId: undefined, macNames: new Map() };
  (window as unknown as { vswitchDashboard: PageState }).vswitchDashboard = state;
  takeToken();
  el('token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const value = (el('token-input') as HTMLInputElement).value.trim();
    if (!value) return;
    sessionStorage.setItem(TOKEN_KEY, value);
    el('token-form').classList.remove('shown');
    el('banner').textContent = '';
    void followEvents(state);
  });
  void followEvents(state);
  void followVttif(state);
  void followPlugins();
}

if (typeof document !== 'undefined') start();

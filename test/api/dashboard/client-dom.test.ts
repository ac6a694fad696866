/**
 * The dashboard's browser script run whole, as the page runs it, on a fake
 * DOM (test/api/dashboard/fake-dom.ts) with fake fetch/location/history/
 * storage: it is imported after the globals are in place, so it starts as in
 * a browser, reads /v1/events, /v1/plugins and /v1/vttif/topology, and draws.
 * What the hosts send is outside the trust boundary: the XSS test feeds markup
 * in every string (and in fields typed as numbers) and checks that it ends up
 * as text, never as elements or attributes.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { finite, h, oneOf, svg } from '../../../api/dashboard/client.js'; // imported with no document: it does not start
import { renderDashboardPage } from '../../../api/dashboard/page.js';
import type { DashboardSnapshot } from '../../../api/dashboard/snapshot.js';
import { EventLog, type LoggedEvent } from '../../../switch/event-log.js';
import { FakeDocument, FakeElement, parseHtml } from './fake-dom.js';

const XSS = '<img src=x onerror=alert(1)>';
const BREAK = '"><script>alert(2)</script>';
const SVG_BREAK = '</text><svg onload=alert(3)><text>';

/** Every element the page may hold: the static page and what the script draws. */
const ALLOWED_TAGS = new Set(
  ['header', 'h1', 'h2', 'h3', 'span', 'form', 'input', 'button', 'main', 'section', 'div', 'i', 'p', 'b', 'ul', 'li', 'table', 'tbody', 'tr', 'th', 'td']
    .concat(['svg', 'defs', 'filter', 'fegaussianblur', 'femerge', 'femergenode', 'g', 'line', 'rect', 'circle', 'text', 'title']),
);

type Route = (path: string, auth: string | null) => Response | undefined;

interface Harness {
  doc: FakeDocument;
  fetches: { path: string; auth: string | null }[];
  storageWrites: string[];
  replacedUrls: string[];
}

let closeHarness: () => void = () => {};

afterEach(() => {
  closeHarness();
  closeHarness = () => {};
  vi.useRealTimers();
  vi.unstubAllGlobals();
  delete (globalThis as { vswitchDashboard?: unknown }).vswitchDashboard;
});

function sse(messages: { event: string; data: unknown; id?: string }[]): Response {
  const text = messages.map((m) => `event: ${m.event}\n${m.id ? `id: ${m.id}\n` : ''}data: ${JSON.stringify(m.data)}\n\n`).join('');
  // Stays open after the messages, as the daemon's stream does.
  const body = new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(new TextEncoder().encode(text)) });
  return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
}

const json = (body: unknown, status = 200): Response => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/**
 * Puts the page's static markup in a fake document, installs the browser
 * globals, and imports the client (which starts itself where there is a
 * document). Timers are fake, so the polling loops run once and then sleep
 * for the rest of the test.
 */
async function startClient(route: Route, hash = ''): Promise<Harness> {
  vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval'] });
  const doc = new FakeDocument();
  const body = /<body>([\s\S]*?)<script/.exec(renderDashboardPage(''))?.[1];
  if (body === undefined) throw new Error('no <body> in the page');
  doc.body.append(...parseHtml(doc, body));
  const h: Harness = { doc, fetches: [], storageWrites: [], replacedUrls: [] };
  let closed = false;
  closeHarness = () => (closed = true);
  const storage = (name: string): Storage => {
    const items = new Map<string, string>();
    return {
      getItem: (k: string) => items.get(k) ?? null,
      setItem: (k: string, v: string) => {
        h.storageWrites.push(`${name}.${k}=${v}`);
        items.set(k, v);
      },
      removeItem: (k: string) => items.delete(k),
      clear: () => {},
      key: () => null,
      length: 0,
    } as unknown as Storage;
  };
  const location = { hash, pathname: '/', search: '', href: `http://127.0.0.1:7000/${hash}` };
  vi.stubGlobal('document', doc);
  vi.stubGlobal('window', globalThis);
  vi.stubGlobal('location', location);
  vi.stubGlobal('history', {
    replaceState: (_s: unknown, _t: string, url: string) => {
      h.replacedUrls.push(url);
      location.hash = '';
      location.href = `http://127.0.0.1:7000${url}`;
    },
  });
  vi.stubGlobal('sessionStorage', storage('sessionStorage'));
  vi.stubGlobal('localStorage', storage('localStorage'));
  vi.stubGlobal('fetch', async (input: string, init: RequestInit = {}): Promise<Response> => {
    if (closed) return new Promise<Response>(() => {}); // the test is over: the loops stay asleep
    const path = String(input);
    const auth = new Headers(init.headers).get('authorization');
    h.fetches.push({ path, auth });
    return route(path, auth) ?? json({ code: 'not-found' }, 404);
  });
  vi.resetModules();
  await import('../../../api/dashboard/client.js');
  return h;
}

/** Lets the client's promises run (fetch, stream reads, JSON) until `check` holds. */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (check()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function byId(doc: FakeDocument, id: string): FakeElement {
  const e = doc.getElementById(id);
  if (!e) throw new Error(`#${id} missing`);
  return e;
}

function allElements(doc: FakeDocument): FakeElement[] {
  return [...doc.body.descendants()];
}

// ---- data from hosts, with markup everywhere ------------------------------------------------------

const hostileSnapshot = {
  at: '2026-01-01T00:00:01.000Z',
  self: { name: 'proxy', role: 'proxy', version: BREAK, uptimeS: 5 },
  links: [{ peer: XSS, state: BREAK, transport: SVG_BREAK, mode: 'auto', rxBytes: XSS, txBytes: 1 }],
  hosts: [
    {
      name: XSS,
      state: BREAK,
      vms: [{ port: SVG_BREAK, kind: 'tap', state: XSS, macs: [BREAK], rxBytes: 0, txBytes: 0 }],
      links: [{ peer: 'proxy', state: 'up', transport: XSS, mode: 'auto', rxBytes: 1, txBytes: 1 }],
      rules: [{ id: XSS, src: BREAK, dst: SVG_BREAK, target: XSS, priority: BREAK, owner: SVG_BREAK, hitFrames: XSS, hitBytes: BREAK }],
    },
    { name: 'h2', state: 'down', error: XSS, vms: [], links: [], rules: [] },
  ],
  truncated: false,
} as unknown as DashboardSnapshot;

const hostileEvent = {
  seq: 1,
  at: '2026-01-01T00:00:00.000Z',
  level: BREAK,
  event: XSS,
  msg: SVG_BREAK,
  fields: { component: 'links', [XSS]: BREAK, link: SVG_BREAK },
} as unknown as LoggedEvent;

const hostilePlugins = [
  {
    name: XSS,
    kind: BREAK,
    enabled: BREAK,
    state: SVG_BREAK,
    events: [XSS],
    owns: { links: XSS, rules: 1 },
    counters: { delivered: BREAK, dropped: 0, errors: 0 },
    lastError: XSS,
  },
  {
    name: 'fastpath',
    kind: 'builtin',
    enabled: false,
    state: 'idle',
    events: [],
    owns: { links: 0, rules: 0 },
    counters: { delivered: 0, dropped: 0, errors: 0 },
    status: {
      settings: { enabled: false, maxLinksPerHost: XSS, removeAfterMs: 1 },
      links: [{ a: XSS, b: 'h2', state: 'up', rules: 1 }],
      counters: { linksAdded: BREAK, linksRemoved: 0, linkFailures: SVG_BREAK },
    },
  },
];

const hostileTopology = {
  edges: [
    { a: XSS, b: BREAK, intensity: 5 },
    { a: BREAK, b: SVG_BREAK, intensity: BREAK },
  ],
  shape: SVG_BREAK,
};

const hostileRoutes: Route = (path) => {
  if (path === '/v1/events') return sse([{ event: 'snapshot', data: hostileSnapshot }, { event: 'log', id: '1', data: hostileEvent }]);
  if (path === '/v1/plugins') return json({ plugins: hostilePlugins });
  if (path === '/v1/vttif/topology') return json(hostileTopology);
  return undefined;
};

describe('the dashboard client on a DOM: host-supplied strings are text, never markup', () => {
  it('draws a snapshot, an event, plugins and a VTTIF topology full of markup as literal text, creating no other elements', async () => {
    const { doc } = await startClient(hostileRoutes);
    await until(
      () =>
        byId(doc, 'tables').children.length >= 2 &&
        byId(doc, 'log').textContent.includes('alert(1)') &&
        byId(doc, 'plugins').textContent.includes('fastpath') &&
        byId(doc, 'app-topology').textContent.includes('alert(3)'),
      'every panel drawn',
    );

    // No element beyond the page's own kinds: no <img>, <script>, nested <svg>…
    const elements = allElements(doc);
    const foreign = elements.map((e) => e.localName.toLowerCase()).filter((t) => !ALLOWED_TAGS.has(t));
    expect(foreign).toEqual([]);
    expect(elements.filter((e) => e.localName === 'svg').map((e) => e.id || e.getAttribute('aria-label'))).toEqual(['overlay', 'application topology']);
    // …and no attribute that runs script or loads anything.
    const risky = elements.flatMap((e) => [...e.attributes.keys()].filter((a) => /^on|^(src|href|xlink:href|style|srcdoc|action|formaction)$/i.test(a)).map((a) => `${e.localName}[${a}]`));
    expect(risky).toEqual([]);
    // Nothing went through an HTML parser at all.
    expect(elements.flatMap((e) => e.htmlAssigned)).toEqual([]);

    // The strings show as they were sent.
    expect(byId(doc, 'who').textContent).toContain(BREAK);
    const overlay = byId(doc, 'overlay').textContent;
    for (const s of [XSS, SVG_BREAK, BREAK]) expect(overlay).toContain(s);
    const rows = byId(doc, 'tables').querySelectorAll('tr').filter((r) => r.hasAttribute('data-rule'));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.getAttribute('data-rule')).toBe(`${XSS}#${XSS}`);
    expect(rows[0]!.children.map((td) => td.textContent).slice(0, 7)).toEqual([XSS, BREAK, SVG_BREAK, XSS, BREAK, SVG_BREAK, XSS]);
    expect(byId(doc, 'tables').textContent).toContain(`not answering (${XSS})`);
    const li = byId(doc, 'log').querySelector('li')!;
    expect(li.getAttribute('data-event')).toBe(XSS);
    expect(li.textContent).toContain(`${XSS}=${BREAK}`);
    expect(li.textContent).toContain(`link=${SVG_BREAK}`);
    const plugins = byId(doc, 'plugins').textContent;
    for (const s of [XSS, BREAK, SVG_BREAK, `owns ${XSS} links`, `at most ${XSS} per host`]) expect(plugins).toContain(s);
    const app = byId(doc, 'app-topology').textContent;
    // BREAK is also a learned MAC (of the VM SVG_BREAK on host XSS): named by its VM there.
    for (const s of [XSS, SVG_BREAK, `${XSS}/${SVG_BREAK}`, `${SVG_BREAK} — 2 edges`]) expect(app).toContain(s);
  });

  it('puts only numbers in numeric attributes and only known words in classes and states', async () => {
    const { doc } = await startClient(hostileRoutes);
    await until(() => byId(doc, 'tables').children.length >= 2 && byId(doc, 'app-topology').textContent.includes('alert(3)'), 'panels drawn');
    const numeric = ['x', 'y', 'x1', 'y1', 'x2', 'y2', 'cx', 'cy', 'r', 'rx', 'width', 'height', 'stroke-width', 'font-size', 'data-bytes', 'data-intensity'];
    for (const e of allElements(doc)) {
      for (const name of numeric) {
        const v = e.getAttribute(name);
        if (v !== null && !(e.localName === 'svg' && (name === 'width' || name === 'height'))) expect(Number.isFinite(Number(v)), `${e.localName}[${name}]=${v}`).toBe(true);
      }
      for (const c of e.className.split(/\s+/).filter(Boolean)) expect(c, `class of ${e.localName}`).toMatch(/^[a-z][a-z0-9-]*$/);
      const state = e.getAttribute('data-state');
      const states = ['up', 'down', 'connecting', 'running', 'disabled', 'waiting', 'expired', 'failed', 'unknown'];
      if (state !== null && e.id !== 'live') expect(states, `${e.localName} data-state`).toContain(state);
      const enabled = e.getAttribute('data-enabled');
      if (enabled !== null) expect(['true', 'false']).toContain(enabled);
    }
  });
});

// ---- the page's structure (what the e2e test and people's eyes rely on) ---------------------------

const link = (peer: string, extra: Record<string, unknown> = {}) => ({ peer, state: 'up', transport: 'udp', mode: 'auto', rxBytes: 100, txBytes: 50, ...extra });
const vm = (host: string, mac?: string) => ({ port: `tap-${host}v1`, kind: 'tap', state: 'up', macs: mac ? [mac] : [], rxBytes: 0, txBytes: 0 });
const rule = (id: number, hitFrames: number) => ({ id, src: 'any', dst: 'none', target: 'proxy', priority: 10, owner: 'operator', hitFrames, hitBytes: hitFrames * 100 });

function benignSnapshot(at: string, hits: number, bytes: number): DashboardSnapshot {
  return {
    at,
    self: { name: 'proxy', role: 'proxy', version: '0.1.0', uptimeS: 30 },
    links: ['h1', 'h2'].map((h) => link(h, { rxBytes: bytes })),
    hosts: [
      { name: 'h1', state: 'up', vms: [vm('h1', '02:00:00:00:01:01')], links: [link('proxy'), link('h2', { transport: 'tcp' })], rules: [rule(1, hits), rule(2, 0)] },
      { name: 'h2', state: 'up', vms: [vm('h2')], links: [link('proxy', { state: 'connecting' }), link('h1', { transport: 'tcp' })], rules: [] },
    ],
    truncated: false,
  } as unknown as DashboardSnapshot;
}

const benignPlugins = [
  { name: 'fastpath', kind: 'builtin', enabled: false, state: 'disabled', events: [], owns: { links: 0, rules: 0 }, counters: { delivered: 0, dropped: 0, errors: 0 }, status: { settings: { enabled: false, maxLinksPerHost: 3, removeAfterMs: 1000 }, links: [{ a: 'h1', b: 'h2', state: 'up', rules: 2 }], counters: { linksAdded: 1, linksRemoved: 0, linkFailures: 0 } } },
  { name: 'vttif', kind: 'builtin', enabled: true, state: 'running', events: ['frame'], owns: { links: 0, rules: 0 }, counters: { delivered: 5, dropped: 0, errors: 1 }, lastError: 'boom' },
];

describe('the dashboard client on a DOM: what it draws', () => {
  it('shows VM moves in the event log as the daemon records them: name, level, and what moved where', async () => {
    const log = new EventLog({ wallClock: () => Date.parse('2026-01-01T00:00:00.000Z') });
    const moved = log.add({ type: 'vm-moved', mac: '02:00:c6:13:01:01', from: 'h1', to: 'h2' });
    const late = log.add({ type: 'vm-move-converged', mac: '02:00:c6:13:01:01', from: 'h1', to: 'h2', convergeMs: 5000, hosts: 3, complete: false, unacked: 'h3' });
    const { doc } = await startClient((path) => {
      if (path === '/v1/events') return sse([moved, late].map((e) => ({ event: 'log', id: String(e.seq), data: e })));
      return undefined;
    });
    await until(() => byId(doc, 'log').querySelectorAll('li').length === 2, 'two log lines');
    const li = byId(doc, 'log').querySelectorAll('li');
    // Newest first.
    expect(li.map((l) => [l.className, l.getAttribute('data-event'), l.querySelector('.f')!.textContent])).toEqual([
      ['warn', 'vm-move-converged', 'mac=02:00:c6:13:01:01 from=h1 to=h2 convergeMs=5000 hosts=3 complete=false unacked=h3'],
      ['info', 'vm-moved', 'mac=02:00:c6:13:01:01 from=h1 to=h2'],
    ]);
  });

  it('the overlay, rule tables, plugins, event log and VTTIF topology, with the ids, classes and data- attributes the page is read by', async () => {
    const { doc } = await startClient((path) => {
      if (path === '/v1/events')
        return sse([
          { event: 'snapshot', data: benignSnapshot('2026-01-01T00:00:00.000Z', 3, 1000) },
          { event: 'snapshot', data: benignSnapshot('2026-01-01T00:00:01.000Z', 5, 2000) },
          { event: 'log', id: '7', data: { seq: 7, at: '2026-01-01T00:00:00.000Z', level: 'warn', event: 'link-up', msg: 'link up', fields: { component: 'links', link: 'h1' } } },
        ]);
      if (path === '/v1/plugins') return json({ plugins: benignPlugins });
      if (path === '/v1/vttif/topology') return json({ edges: [{ a: '02:00:00:00:01:01', b: 'x', intensity: 2 }], shape: 'ring' });
      return undefined;
    });
    await until(
      () => byId(doc, 'snapshot-count').textContent === '2' && byId(doc, 'plugins').textContent.includes('vttif') && byId(doc, 'app-topology').textContent.includes('ring'),
      'every panel drawn',
    );
    const gs = byId(doc, 'overlay').querySelectorAll('g');
    const classed = (...c: string[]) => gs.filter((g) => c.every((x) => g.classList.contains(x)));
    expect(classed('node', 'proxy').map((g) => g.id)).toEqual(['node-proxy']);
    expect(classed('node', 'host').map((g) => g.id)).toEqual(['node-h1', 'node-h2']);
    expect(classed('vm').map((g) => [g.id, g.getAttribute('data-host'), g.getAttribute('data-state')])).toEqual([
      ['vm-h1/tap-h1v1', 'h1', 'up'],
      ['vm-h2/tap-h2v1', 'h2', 'up'],
    ]);
    expect(byId(doc, 'vm-h1/tap-h1v1').textContent).toContain('02:00:00:00:01:01');
    expect(byId(doc, 'vm-h2/tap-h2v1').textContent).toContain('no MAC learned yet');
    const star = classed('edge', 'star');
    expect(star.map((g) => [g.id, g.getAttribute('data-kind'), g.getAttribute('data-state')])).toEqual([
      ['edge-h1|proxy', 'star', 'up'],
      ['edge-h2|proxy', 'star', 'up'],
    ]);
    expect(byId(doc, 'edge-h1|proxy').getAttribute('data-bytes')).toBe('2050');
    expect(byId(doc, 'edge-h1|proxy').getAttribute('data-transport')).toBe('udp');
    expect(byId(doc, 'edge-h1|proxy').textContent).toBe('udp · 8.0 kb/s'); // 1000 bytes more in 1 s
    const fast = byId(doc, 'edge-h1|h2');
    expect([fast.getAttribute('data-kind'), fast.getAttribute('data-state'), fast.getAttribute('data-transport')]).toEqual(['fastpath', 'up', 'tcp']);
    expect(fast.querySelector('line')!.getAttribute('stroke-dasharray')).toBe('12 7');
    expect(byId(doc, 'edge-h1|proxy').querySelector('line')!.getAttribute('stroke-dasharray')).toBe('none');
    expect(byId(doc, 'node-proxy').querySelector('circle')!.getAttribute('filter')).toBe('url(#glow)');
    expect(byId(doc, 'overlay').querySelector('filter')!.id).toBe('glow');

    const cards = byId(doc, 'tables').querySelectorAll('.card');
    expect(cards.map((c) => c.id)).toEqual(['rules-h1', 'rules-h2']);
    expect(cards[0]!.querySelector('h3')!.textContent).toBe('h1 up · 2 link(s) · 1 VM(s)');
    const rows = cards[0]!.querySelectorAll('tr').filter((r) => r.hasAttribute('data-rule'));
    expect(rows.map((r) => [r.getAttribute('data-rule'), r.classList.contains('hit')])).toEqual([
      ['h1#1', true], // 3 → 5 hits between the two snapshots
      ['h1#2', false],
    ]);
    expect(rows[0]!.querySelector('.hits')!.textContent).toBe('5');
    expect(rows[0]!.children.map((td) => td.textContent)).toEqual(['1', 'any', 'none', 'proxy', '10', 'operator', '5', '500 B']);
    expect(cards[0]!.querySelectorAll('th').map((th) => th.textContent)).toEqual(['#', 'src', 'dst', 'target', 'prio', 'owner', 'hits', 'bytes']);
    expect(cards[1]!.textContent).toContain('no rules');

    const fp = byId(doc, 'plugin-fastpath');
    expect([fp.getAttribute('data-enabled'), fp.getAttribute('data-state')]).toEqual(['false', 'disabled']);
    expect(fp.textContent).toBe('fastpath (builtin) · disabled · 1/1 fast links up · at most 3 per host · added 1, removed 0, failed 0');
    const vt = byId(doc, 'plugin-vttif');
    expect(vt.textContent).toBe('vttif (builtin) · running · takes frame · owns 0 links, 0 rules · delivered 5, dropped 0 · boom');
    expect(vt.querySelector('b')!.textContent).toBe('vttif');
    expect(vt.querySelector('.warn')!.textContent).toBe('boom');

    const li = byId(doc, 'log').querySelectorAll('li');
    expect(li).toHaveLength(1);
    expect([li[0]!.className, li[0]!.getAttribute('data-event')]).toEqual(['warn', 'link-up']);
    expect(li[0]!.querySelector('.ev')!.textContent).toBe('link-up');
    expect(li[0]!.querySelector('.f')!.textContent).toBe('link=h1');

    const app = byId(doc, 'app-topology');
    expect(app.querySelectorAll('line').map((l) => [l.getAttribute('class'), l.getAttribute('data-intensity')])).toEqual([['app-edge', '2']]);
    // The drawing `vswitch topology app --format svg` prints (api/wire/app-topology-layout.ts), in the page's colours.
    expect(app.querySelector('.app-title')!.textContent).toBe('ring — 1 edge (width ∝ intensity)');
    expect(app.querySelectorAll('.app-label').map((t) => t.textContent)).toEqual(['h1/tap-h1v1', 'x']); // a learned MAC is named by its VM
    expect(app.querySelector('title')!.textContent).toBe('h1/tap-h1v1 — x: 2.00');
    expect(app.querySelector('line')!.getAttribute('stroke')).toBe('var(--fast)');
    expect(byId(doc, 'live').getAttribute('data-state')).toBe('live');
  });

  it('says "no hosts yet", and "VTTIF: no data yet" when the daemon has no VTTIF', async () => {
    const { doc } = await startClient((path) => {
      if (path === '/v1/events') return sse([{ event: 'snapshot', data: { ...benignSnapshot('2026-01-01T00:00:00.000Z', 0, 0), hosts: [] } }]);
      return undefined;
    });
    await until(() => byId(doc, 'snapshot-count').textContent === '1', 'the snapshot');
    expect(byId(doc, 'tables').textContent).toBe('no hosts yet');
    expect(byId(doc, 'app-topology').textContent).toBe('VTTIF: no data yet');
    expect(byId(doc, 'plugins').textContent).toBe('no plugins');
  });
});

// ---- the token ------------------------------------------------------------------------------------

describe('the dashboard client: the API token', () => {
  it('is read once from #token=…, taken out of the address bar, sent as a Bearer header, and stored nowhere', async () => {
    const h = await startClient((path, auth) => {
      if (auth !== 'Bearer wall/screen') return json({ code: 'unauthorized' }, 401);
      if (path === '/v1/events') return sse([{ event: 'snapshot', data: benignSnapshot('2026-01-01T00:00:00.000Z', 0, 0) }]);
      if (path === '/v1/plugins') return json({ plugins: benignPlugins });
      return undefined;
    }, '#token=wall%2Fscreen');
    await until(() => byId(h.doc, 'snapshot-count').textContent === '1' && byId(h.doc, 'plugins').textContent.includes('fastpath'), 'the stream and plugins');
    expect(h.replacedUrls).toEqual(['/']);
    expect(h.fetches.map((f) => f.path).sort()).toEqual(['/v1/events', '/v1/plugins', '/v1/vttif/events', '/v1/vttif/topology']);
    for (const f of h.fetches) expect(f.auth, f.path).toBe('Bearer wall/screen');
    expect(h.storageWrites).toEqual([]);
    expect(JSON.stringify((globalThis as { vswitchDashboard?: unknown }).vswitchDashboard)).not.toContain('wall');
  });

  it('without one, a 401 shows the token field; a token typed there is used and stored nowhere', async () => {
    const h = await startClient((path, auth) => {
      if (auth !== 'Bearer typed-token') return json({ code: 'unauthorized' }, 401);
      if (path === '/v1/events') return sse([{ event: 'snapshot', data: benignSnapshot('2026-01-01T00:00:00.000Z', 0, 0) }]);
      return undefined;
    });
    const form = byId(h.doc, 'token-form');
    await until(() => form.classList.contains('shown'), 'the token field');
    expect(byId(h.doc, 'live').getAttribute('data-state')).toBe('down');
    expect(h.fetches.find((f) => f.path === '/v1/events')?.auth).toBeNull();
    byId(h.doc, 'token-input').value = ' typed-token ';
    expect(form.fire('submit')).toBe(true); // the page handles it: no navigation (CSP form-action 'none')
    await until(() => byId(h.doc, 'snapshot-count').textContent === '1', 'the stream with the typed token');
    expect(form.classList.contains('shown')).toBe(false);
    expect(h.fetches.filter((f) => f.path === '/v1/events').map((f) => f.auth)).toEqual([null, 'Bearer typed-token']);
    expect(h.storageWrites).toEqual([]);
    expect(h.replacedUrls).toEqual([]);
  });
});

// ---- the builders and the source -------------------------------------------------------------------

describe('the dashboard client: how it builds the DOM', () => {
  it('h() and svg() set text as text and refuse attributes that run script, load URLs or carry style', () => {
    const doc = new FakeDocument();
    vi.stubGlobal('document', doc);
    const p = h('p', { id: XSS, 'data-n': Number.NaN }, XSS, 3, null, false, h('b', {}, BREAK)) as unknown as FakeElement;
    expect(p.childNodes.map((n) => n.constructor.name)).toEqual(['FakeText', 'FakeText', 'FakeElement']);
    expect(p.textContent).toBe(`${XSS}3${BREAK}`);
    expect([p.id, p.getAttribute('data-n')]).toEqual([XSS, '0']);
    expect((svg('text', { x: 1 / 3 }) as unknown as FakeElement).namespaceURI).toBe('http://www.w3.org/2000/svg');
    expect((svg('text', { x: 1 / 3 }) as unknown as FakeElement).getAttribute('x')).toBe('0.33');
    for (const name of ['onclick', 'ONLOAD', 'href', 'src', 'xlink:href', 'style', 'srcdoc', 'formaction']) expect(() => h('a', { [name]: 'x' }), name).toThrow(/refusing/);
    expect([finite('5'), finite(Infinity), finite(2.5)]).toEqual([0, 0, 2.5]);
    expect([oneOf('up', ['up', 'down'], 'down'), oneOf(XSS, ['up', 'down'], 'down')]).toEqual(['up', 'down']);
  });

  it('client.ts and the modules it shares with the CLI use no HTML sink and no storage for the token', () => {
    for (const file of ['api/dashboard/client.ts', 'api/wire/sse-parser.ts', 'api/wire/app-topology-layout.ts']) {
      const src = readFileSync(new URL(`../../../${file}`, import.meta.url), 'utf8');
      expect(src, file).not.toMatch(/\.(innerHTML|outerHTML)\s*\+?=|\.insertAdjacentHTML\s*\(|document\.write|createContextualFragment|new DOMParser|setHTMLUnsafe|\beval\s*\(|new Function\b/);
      expect(src, file).not.toMatch(/localStorage|sessionStorage\.setItem/);
    }
  });
});

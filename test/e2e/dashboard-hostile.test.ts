/**
 * What a compromised host says reaches the operator's browser as text, never as markup or script (issue 15).
 *
 * A lab of a Proxy and 3 hosts (namespaces vs-xss-…); h2's daemon is replaced by a hostile one with h2's key
 * (scripts/lib/hostile-host.ts --markup): it answers the Proxy's relayed requests, reports and sends traffic
 * matrices with markup and script in every string field the Proxy's checks let through — VM port names, link
 * names, owners and endpoints, rule targets and owners, the names in its MAC table, its error messages (which the
 * Proxy turns into a plugin-cleanup event when the test removes a policy the host claims owns a rule) — and sends
 * what the checks must refuse. Headless Debian chromium (playwright-core, inside the Proxy's namespace) then opens
 * the dashboard, and the test asserts:
 *   - nothing ran: no dialog, window.__pwned (which every payload sets) undefined, no uncaught error;
 *   - nothing was built from it: every element is one the dashboard makes itself, one script, one style, no
 *     attribute that runs script or loads a URL;
 *   - the CSP reported no violation at all: the page's own script and style are allowed by hash and it loads
 *     nothing else, so a clean page reports none; a report means hostile markup reached an HTML sink (stopped by
 *     the policy, but the first defence failed) or the page itself regressed — either fails the test;
 *   - the strings are there, as text, where the page shows them (else the test would prove nothing);
 *   - the page keeps updating over SSE and the real hosts (h1, h3) still show.
 * The same page is then opened with the CSP bypassed: the DOM building alone (textContent, setAttribute) must keep
 * it inert. Also the JSON API opened in the browser, and the Proxy's refusal counters (fixed reasons).
 * The screenshot goes to test-artifacts/dashboard-hostile.png.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { BAIT_POLICY, MARKUP, PLACED, refusedMessages } from '../../scripts/lib/hostile-markup.js';
import { CONTROL_DROP_REASONS } from '../../switch/overlay/control-messages.js';

process.env['VSWITCH_LAB_NS'] = 'vs-xss-';
process.env['VSWITCH_LAB_DIR'] = '/run/vswitch-lab-xss';

const HOSTS = 3;
const CHROMIUM = '/usr/bin/chromium';
const DASHBOARD = 'http://127.0.0.1:7000/';
type LabSupport = typeof import('./support/lab.js');

let support: LabSupport;
let browser: Browser | undefined;
let wrapperDir: string | undefined;
let hostile: ChildProcess | undefined;
let hostileOut = '';

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A page with everything that would say a script ran recorded from before its first byte. */
interface WatchedPage {
  page: Page;
  dialogs: string[];
  pageErrors: string[];
  consoleErrors: string[];
}

async function openDashboard(context: BrowserContext): Promise<WatchedPage> {
  const page = await context.newPage();
  const watched: WatchedPage = { page, dialogs: [], pageErrors: [], consoleErrors: [] };
  page.on('dialog', (d) => {
    watched.dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('pageerror', (e) => watched.pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') watched.consoleErrors.push(m.text());
  });
  // Injected by the browser itself before the page's script (not subject to the page's CSP); not __pwned.
  await page.addInitScript(() => {
    const seen: string[] = [];
    Object.defineProperty(window, '__violations', { value: seen });
    document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.effectiveDirective} blocked=${e.blockedURI} sample=${e.sample}`));
  });
  await page.goto(DASHBOARD);
  return watched;
}

/** Where a string shows as text: the deepest elements holding it, by the id of their nearest element with one. */
function placesOf(page: Page, text: string): Promise<{ id: string; tag: string }[]> {
  return page.evaluate((t) => {
    const out: { id: string; tag: string }[] = [];
    for (const e of document.querySelectorAll('body *')) {
      if (!e.textContent?.includes(t) || [...e.children].some((c) => c.textContent?.includes(t))) continue;
      out.push({ id: e.closest('[id]')?.id ?? '', tag: e.localName });
    }
    return out;
  }, text);
}

/** Every element the dashboard makes (the static page and what its script draws), as api/dashboard/ builds them. */
const DASHBOARD_TAGS = new Set(
  ['html', 'head', 'meta', 'link', 'title', 'style', 'body', 'script', 'header', 'h1', 'h2', 'h3', 'span', 'form', 'input', 'button', 'main', 'section']
    .concat(['div', 'i', 'p', 'b', 'ul', 'li', 'table', 'tbody', 'tr', 'th', 'td'])
    .concat(['svg', 'defs', 'filter', 'fegaussianblur', 'femerge', 'femergenode', 'g', 'line', 'rect', 'circle', 'text']),
);

/** What the page holds that script or markup would have made. */
async function inspect(page: Page): Promise<{ tags: string[]; risky: string[]; scripts: number; styles: number; pwned: string; violations: string[] }> {
  return page.evaluate(() => {
    const risky: string[] = [];
    for (const e of document.querySelectorAll('*')) {
      for (const a of e.attributes) {
        const name = a.name.toLowerCase();
        const isIcon = e.localName === 'link' && name === 'href' && a.value === 'data:,';
        if (!isIcon && (name.startsWith('on') || ['src', 'srcdoc', 'href', 'xlink:href', 'style', 'action', 'formaction'].includes(name))) {
          risky.push(`${e.localName}[${name}="${a.value.slice(0, 60)}"]`);
        }
      }
    }
    const w = window as unknown as { __pwned?: unknown; __violations?: string[] };
    return {
      tags: [...new Set([...document.querySelectorAll('*')].map((e) => e.localName.toLowerCase()))],
      risky,
      scripts: document.scripts.length,
      styles: document.querySelectorAll('style').length,
      pwned: typeof w.__pwned,
      violations: w.__violations ?? [],
    };
  });
}

/** Waits until the page shows what the hostile host says in each panel (rules, overlay, VTTIF, the event log). */
async function waitForHostileText(page: Page): Promise<void> {
  const shown = async (text: string, id: (found: string) => boolean): Promise<boolean> => (await placesOf(page, text)).some((p) => id(p.id));
  await waitFor(() => shown(PLACED.ruleOwners[0], (id) => id === 'rules-h2'), 20_000, 'the hostile rules on the page');
  await waitFor(() => shown(PLACED.vmPorts[0], (id) => id === `vm-h2/${PLACED.vmPorts[0]}`), 10_000, 'the hostile VM ports in the overlay');
  await waitFor(() => shown(`h2/${PLACED.vmPorts[0]}`, (id) => id === 'app-topology'), 15_000, 'the hostile VMs in the VTTIF panel');
  await waitFor(() => shown(MARKUP.img, (id) => id === 'log'), 10_000, "the hostile host's error in the event log");
}

/** Waits for the hostile text; when it never shows, says first whether something ran or was blocked meanwhile. */
async function waitForHostileTextOrSayWhy(w: WatchedPage, withCsp: boolean): Promise<void> {
  try {
    await waitForHostileText(w.page);
  } catch (err) {
    await expectInert(w, withCsp);
    throw err;
  }
}

/** Everything a payload would have left, asserted at once (a failure shows all of it). */
async function expectInert(w: WatchedPage, withCsp: boolean): Promise<void> {
  const found = await inspect(w.page);
  expect({
    dialogs: w.dialogs.slice(0, 5),
    pwned: found.pwned,
    violations: withCsp ? found.violations.slice(0, 10) : [],
    foreignTags: found.tags.filter((t) => !DASHBOARD_TAGS.has(t)),
    risky: found.risky.slice(0, 10),
    scripts: found.scripts,
    styles: found.styles,
    pageErrors: w.pageErrors.slice(0, 5),
    consoleErrors: withCsp ? w.consoleErrors.slice(0, 5) : [],
  }).toEqual({ dialogs: [], pwned: 'undefined', violations: [], foreignTags: [], risky: [], scripts: 1, styles: 1, pageErrors: [], consoleErrors: [] });
}

/** The strings are on the page as text, each where the page shows that field. */
async function expectShownAsText(page: Page): Promise<void> {
  const ids = async (text: string): Promise<string[]> => (await placesOf(page, text)).map((p) => `${p.id} ${p.tag}`);
  for (const port of PLACED.vmPorts) expect(await ids(port)).toContain(`vm-h2/${port} text`);
  for (const port of PLACED.vmPorts.slice(0, 2)) expect(await ids(`h2/${port}`)).toContain('app-topology text');
  for (const name of PLACED.linkNames) expect(await ids(name)).toContain(`node-${name} text`);
  for (const s of [...PLACED.ruleTargets, ...PLACED.ruleOwners]) expect(await ids(s)).toContain('rules-h2 td');
  expect(await ids(`errors=h2: ${MARKUP.img}`)).toContain('log span');
  // Shown, not merely present: the rules table and the page itself are visible (a </style> did not hide them).
  expect(await page.locator('#rules-h2 td').filter({ hasText: MARKUP.style }).first().isVisible()).toBe(true);
  expect(await page.locator('body').isVisible()).toBe(true);
}

/** The real hosts are drawn, and snapshots keep coming over the stream. */
async function expectStillLive(page: Page): Promise<void> {
  for (const h of [1, 3]) {
    expect(await page.locator(`[id="node-h${h}"]`).getAttribute('data-state')).toBe('up');
    expect(await page.locator(`[id="vm-h${h}/tap-h${h}v1"]`).count()).toBe(1);
    expect(await page.locator(`#rules-h${h} tr[data-rule]`).count()).toBeGreaterThan(0);
  }
  const snapshots = (): Promise<number> => page.locator('#snapshot-count').textContent().then(Number);
  const before = await snapshots();
  await waitFor(async () => (await snapshots()) >= before + 2, 10_000, 'two more snapshots');
  expect(await page.locator('#live').getAttribute('data-state')).toBe('live');
}

describe('the dashboard in Chromium, with a hostile host on the star', () => {
  beforeAll(async () => {
    support = await import('./support/lab.js'); // after VSWITCH_LAB_NS is set: the support module reads it once
    support.requireRoot();
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: scripts/setup installs Debian's chromium`);
    support.labDownSync();
    await support.lab('up', '--hosts', String(HOSTS), '--vms-per-host', '1', '--proxy');
    const starUp = async (): Promise<boolean> => {
      const s = await support.labJson<{ links: { state: string }[] }>('proxy', 'status');
      return s.links.length === HOSTS && s.links.every((l) => l.state === 'up');
    };
    await waitFor(starUp, 15_000, 'the star up');

    await support.lab('stop', 'h2');
    const script = join(support.ROOT, 'dist/scripts/lib/hostile-host.js');
    const config = join(process.env['VSWITCH_LAB_DIR']!, 'h2.yaml');
    hostile = spawn(join(support.ROOT, 'scripts/lab'), ['exec', 'h2', 'node', script, '--config', config, '--markup', '--seconds', '180'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    hostile.stdout!.on('data', (c: Buffer) => (hostileOut += c.toString()));
    hostile.stderr!.on('data', (c: Buffer) => (hostileOut += c.toString()));
    await waitFor(starUp, 15_000, 'the hostile h2 on the star');
    // A policy the hostile host claims owns one of its rules: removing it makes the Proxy ask h2 to delete that rule,
    // and h2's answer (an error whose message is markup) becomes the Proxy's plugin-cleanup-pending event.
    const register = `fetch("http://127.0.0.1:7000/v1/plugins", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: ${JSON.stringify(BAIT_POLICY)}, events: ["host"] }) }).then((r) => process.exit(r.status === 201 ? 0 : 1))`;
    await support.lab('exec', 'proxy', 'node', '-e', register);
    await waitFor(async () => (await support.labJson<unknown[]>('proxy', 'rule', 'list', '--host', 'h2')).length > 0, 10_000, "the hostile h2's rules");
    await support.lab('vswitch', 'proxy', 'plugins', 'remove', BAIT_POLICY);

    wrapperDir = mkdtempSync(join(tmpdir(), 'vs-xss-chromium-'));
    const wrapper = join(wrapperDir, 'chromium-in-proxy-ns');
    writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${support.labNs('proxy')} ${CHROMIUM} "$@"\n`);
    chmodSync(wrapper, 0o755);
    browser = await chromium.launch({
      executablePath: wrapper,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    if (hostile && hostile.exitCode === null) hostile.kill('SIGTERM');
    if (wrapperDir) rmSync(wrapperDir, { recursive: true, force: true });
    support?.labDownSync();
  });

  it('shows every hostile string as text where the page shows that field, runs none of it, and keeps updating (with its CSP)', async () => {
    const context = await browser!.newContext({ viewport: { width: 1920, height: 1080 } });
    const w = await openDashboard(context);
    await waitForHostileTextOrSayWhy(w, true);

    await expectShownAsText(w.page);
    await expectStillLive(w.page);
    await expectInert(w, true);

    const dir = join(support.ROOT, 'test-artifacts');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'dashboard-hostile.png');
    await w.page.screenshot({ path: file, fullPage: true });
    console.log(`dashboard with a hostile host: ${file}`);
    await context.close();
  });

  it('stays inert with its CSP bypassed: the DOM building alone keeps the strings text', async () => {
    const context = await browser!.newContext({ viewport: { width: 1920, height: 1080 }, bypassCSP: true });
    const w = await openDashboard(context);
    await waitForHostileTextOrSayWhy(w, false); // the event is replayed from the ring to a new page
    await expectShownAsText(w.page);
    await expectInert(w, false);
    await context.close();
  });

  it("serves the hosts' strings in its JSON API as JSON, which the browser shows as text", async () => {
    const context = await browser!.newContext();
    const w = await openDashboard(context);
    const shown = { rules: PLACED.ruleOwners[0], links: PLACED.linkNames[0], interfaces: PLACED.vmPorts[0] };
    for (const [what, text] of Object.entries(shown)) {
      const res = await w.page.goto(`http://127.0.0.1:7000/v1/hosts/h2/${what}`);
      expect(res?.status()).toBe(200);
      expect(res?.headers()['content-type']).toMatch(/^application\/json/);
      const page = await w.page.evaluate(() => ({
        type: document.contentType,
        made: document.querySelectorAll('img, svg, iframe, object, embed, style:not(head style)').length,
        pwned: typeof (window as unknown as { __pwned?: unknown }).__pwned,
        text: document.body.textContent ?? '',
      }));
      expect(page).toMatchObject({ type: 'application/json', made: 0, pwned: 'undefined' });
      expect(page.text).toContain(JSON.stringify(text).slice(1, -1)); // as JSON writes it: quotes escaped, nothing else
    }
    expect(w.dialogs).toEqual([]);
    await context.close();
  });

  it("counted what its checks refused by fixed reason, and the hostile host's answers were asked for", async () => {
    const proxy = await support.labJson<{ refused: { control: Record<string, number> } }>('proxy', 'status');
    const refused = proxy.refused.control;
    const exited = new Promise<number>((resolve) => hostile!.on('close', (code) => resolve(code ?? 1)));
    hostile!.kill('SIGTERM');
    expect(await exited, hostileOut).toBe(0);
    const report = JSON.parse(hostileOut.trim().split('\n').at(-1)!) as { linkUp: boolean; answered: Record<string, number> };
    console.log(`hostile host (markup): answered ${JSON.stringify(report.answered)}; the Proxy refused ${JSON.stringify(refused)}`);
    expect(report.linkUp).toBe(true);
    for (const op of ['interfaces', 'links', 'rules', 'macs']) expect(report.answered[op] ?? 0, op).toBeGreaterThan(3);
    expect(report.answered['deleteRule'] ?? 0).toBeGreaterThan(0);
    for (const reason of new Set(refusedMessages('h2').map((r) => r.reason))) expect(refused[reason] ?? 0, reason).toBeGreaterThan(0);
    expect(refused['res-result-invalid'] ?? 0).toBeGreaterThanOrEqual(4); // each listing's first answer
    const known = new Set<string>([...CONTROL_DROP_REASONS, 'matrix-invalid', 'vttif-rate-invalid']);
    expect(Object.keys(refused).filter((r) => !known.has(r))).toEqual([]);
    // The real hosts still talk through the Proxy.
    expect(support.labExec('h1v1', ['ping', '-c', '2', '-i', '0.2', '-W', '2', support.vmIp(3, 1)]).code).toBe(0);
  });
});

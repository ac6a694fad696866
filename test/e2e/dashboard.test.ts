/**
 * The dashboard in a real browser against a running lab: a Proxy and 4 hosts
 * with one VM each (its own namespaces, prefix vs-db-, so it can run beside
 * the default lab). Headless Debian `chromium`, driven by playwright-core,
 * runs inside the Proxy's namespace (the API listens on 127.0.0.1:7000 there)
 * through a two-line wrapper script. The page must show the 4 hosts and their
 * 4 VMs, and change without a reload after a ping (link bytes, rule hits,
 * learned MACs arrive over SSE). The screenshot goes to
 * test-artifacts/dashboard.png.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';

process.env['VSWITCH_LAB_NS'] = 'vs-db-';
process.env['VSWITCH_LAB_DIR'] = '/run/vswitch-lab-db';

const HOSTS = 4;
const CHROMIUM = '/usr/bin/chromium';
type LabSupport = typeof import('./support/lab.js');

let support: LabSupport;
let browser: Browser | undefined;
let page: Page;
let wrapperDir: string | undefined;

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('the dashboard in headless Chromium, on the Proxy of a 4-host lab', () => {
  beforeAll(async () => {
    support = await import('./support/lab.js'); // after VSWITCH_LAB_NS is set: the support module reads it once
    support.requireRoot();
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: scripts/setup installs Debian's chromium`);
    support.labDownSync();
    await support.lab('up', '--hosts', String(HOSTS), '--vms-per-host', '1', '--proxy');
    await waitFor(async () => {
      const s = await support.labJson<{ links: { state: string }[] }>('proxy', 'status');
      return s.links.length === HOSTS && s.links.every((l) => l.state === 'up');
    }, 15_000, 'the star up');

    wrapperDir = mkdtempSync(join(tmpdir(), 'vs-db-chromium-'));
    const wrapper = join(wrapperDir, 'chromium-in-proxy-ns');
    writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${support.labNs('proxy')} ${CHROMIUM} "$@"\n`);
    chmodSync(wrapper, 0o755);
    browser = await chromium.launch({
      executablePath: wrapper,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    await page.goto('http://127.0.0.1:7000/');
  });

  afterAll(async () => {
    await browser?.close();
    if (wrapperDir) rmSync(wrapperDir, { recursive: true, force: true });
    support?.labDownSync();
  });

  it('shows the Proxy, the 4 hosts and their 4 VMs, and the star links', async () => {
    await page.waitForSelector('#node-proxy', { timeout: 15_000 });
    for (let h = 1; h <= HOSTS; h++) {
      await page.waitForSelector(`[id="node-h${h}"]`, { timeout: 15_000 });
      await page.waitForSelector(`[id="vm-h${h}/tap-h${h}v1"]`, { timeout: 15_000 });
    }
    expect(await page.locator('#overlay g.node.host').count()).toBe(HOSTS);
    expect(await page.locator('#overlay g.vm').count()).toBe(HOSTS);
    expect(await page.locator('#overlay g.edge.star[data-state="up"]').count()).toBe(HOSTS);
    expect(await page.locator('#tables .card').count()).toBe(HOSTS);
    // The built-in fast-path plugin is listed (off until enabled).
    await waitFor(async () => (await page.locator('#plugin-fastpath').getAttribute('data-enabled')) === 'false', 10_000, 'the plugins panel');
    await page.waitForSelector('#log li[data-event="link-up"]', { timeout: 10_000 });
  });

  it('updates over SSE without a reload: a new rule appears, a ping moves link bytes and its hit counter, and the VMs\' MACs appear', async () => {
    await page.evaluate(() => ((window as unknown as { loadMark: number }).loadMark = 4242));
    const bytesOf = (): Promise<number> => page.locator('[id="edge-h1|proxy"]').getAttribute('data-bytes').then(Number);
    const hitsOnH1 = (): Promise<number> =>
      page.$$eval('#rules-h1 td.hits', (cells) => cells.reduce((sum, c) => sum + Number(c.textContent), 0));
    // Learning outranks the default rule, so a ping hits no rule by itself: give h1 one for h1v1 → h2v1.
    await support.lab('vswitch', 'h1', 'rule', 'add', '--src', support.vmMac(1, 1), '--dst', support.vmMac(2, 1), '--target', 'proxy');
    await waitFor(async () => (await page.locator('#rules-h1 tr[data-rule]').count()) === 2, 10_000, 'the new rule on the page');
    const bytesBefore = await bytesOf();
    const hitsBefore = await hitsOnH1();
    const snapshotsBefore = Number(await page.locator('#snapshot-count').textContent());

    const ping = support.labExec('h1v1', ['ping', '-c', '3', '-i', '0.2', '-W', '2', support.vmIp(2, 1)]);
    expect(ping.code).toBe(0);

    await waitFor(async () => (await bytesOf()) > bytesBefore, 10_000, 'h1–proxy link bytes to grow on the page');
    await waitFor(async () => (await hitsOnH1()) > hitsBefore, 10_000, 'h1\'s rule hit counters to grow on the page');
    await waitFor(
      async () => (await page.locator('[id="vm-h1/tap-h1v1"]').textContent())?.includes(support.vmMac(1, 1)) ?? false,
      10_000,
      'h1v1\'s MAC on the page',
    );
    expect(Number(await page.locator('#snapshot-count').textContent())).toBeGreaterThan(snapshotsBefore);
    expect(await page.evaluate(() => (window as unknown as { loadMark?: number }).loadMark)).toBe(4242); // same page: no reload
    expect(await page.locator('#live').getAttribute('data-state')).toBe('live');
  });

  it('draws a fast-path link (host to host, added through the Proxy) live, apart from the star', async () => {
    const keyOf = (node: string): string => readFileSync(join(process.env['VSWITCH_LAB_DIR']!, `${node}.pub`), 'utf8').trim();
    for (const [host, peer] of [['h1', 'h2'], ['h2', 'h1']] as const) {
      await support.lab('vswitch', 'proxy', 'link', 'add', peer, '--public-key', keyOf(peer), '--endpoint', `198.18.0.${peer.slice(1)}:51820`, '--host', host);
    }
    const fast = page.locator('[id="edge-h1|h2"]');
    await fast.waitFor({ timeout: 10_000 });
    expect(await fast.getAttribute('data-kind')).toBe('fastpath');
    await waitFor(async () => (await fast.getAttribute('data-state')) === 'up', 15_000, 'the fast path up on the page');
    expect(await page.locator('#overlay g.edge.star').count()).toBe(HOSTS);
    expect(await fast.locator('line').getAttribute('stroke-dasharray')).not.toBe('none');
    support.labExec('h1v1', ['ping', '-c', '2', '-i', '0.2', '-W', '2', support.vmIp(2, 1)]);
  });

  it('after scripts/patterns runs, the fast-path links the adaptation plugin adds appear without a reload', async () => {
    // Hand the h1↔h2 pair back to the plugin: remove the operator's link of the previous test.
    await support.lab('vswitch', 'proxy', 'link', 'del', 'h2', '--host', 'h1');
    await support.lab('vswitch', 'proxy', 'link', 'del', 'h1', '--host', 'h2');
    await support.lab('vswitch', 'proxy', 'vttif', 'params', '--rate', '20', '--smoothing', '500');
    const enable = 'fetch("http://127.0.0.1:7000/v1/plugins/fastpath/settings", { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ enabled: true }) }).then((r) => process.exit(r.ok ? 0 : 1))';
    await support.lab('exec', 'proxy', 'node', '-e', enable);
    const patterns = spawn(join(support.ROOT, 'scripts/patterns'), ['--pattern', 'all-to-all', '--iterations', '400', '--size', '32768'], {
      stdio: 'ignore',
      env: process.env,
    });
    const finished = new Promise<number | null>((resolve) => patterns.on('exit', (code) => resolve(code)));
    try {
      const fastEdges = page.locator('#overlay g.edge[data-kind="fastpath"][data-state="up"]');
      await waitFor(async () => (await fastEdges.count()) === (HOSTS * (HOSTS - 1)) / 2, 60_000, 'all 6 fast paths on the page');
      expect(await page.evaluate(() => (window as unknown as { loadMark?: number }).loadMark)).toBe(4242); // no reload
      expect(await page.locator('#overlay g.edge.star').count()).toBe(HOSTS); // the star stays
      await waitFor(async () => (await page.locator('#plugin-fastpath').getAttribute('data-enabled')) === 'true', 10_000, 'the plugin panel');
    } finally {
      expect(await finished).toBe(0);
    }
  }, 180_000);

  it('a page from another origin cannot change anything through the loopback API', async () => {
    const rulesOf = async () => (await support.labJson<unknown[]>('proxy', 'rule', 'list')).length;
    const before = await rulesOf();
    // A page the operator happens to open (served by the browser itself: nothing leaves the namespace) tries what a
    // CSRF or rebinding page would: a "simple" text/plain POST, a form POST, and a JSON POST (which needs CORS).
    const evil = await browser!.newPage();
    await evil.route('http://evil.test/**', (route) =>
      route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>evil</title><form id=f method=post action="http://127.0.0.1:7000/v1/rules" enctype="text/plain"><input name=x></form>' }),
    );
    await evil.goto('http://evil.test/');
    const rule = JSON.stringify({ src: 'any', dst: support.vmMac(2, 1), target: 'h2', priority: 77 });
    const outcomes = await evil.evaluate(async (body) => {
      const tries = [
        fetch('http://127.0.0.1:7000/v1/rules', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body }),
        fetch('http://127.0.0.1:7000/v1/rules', { method: 'POST', headers: { 'content-type': 'application/json' }, body }),
      ];
      return Promise.all(tries.map((t) => t.then((r) => `answered ${r.type} ${r.status}`, (e: Error) => `failed: ${e.message}`)));
    }, rule);
    await evil.evaluate(() => (document.getElementById('f') as HTMLFormElement).submit()).catch(() => undefined);
    await evil.waitForTimeout(500); // real time: the browser's own requests
    await evil.close();
    expect(outcomes).toHaveLength(2);
    expect(await rulesOf()).toBe(before); // nothing was added, whatever the browser let through
    // And the daemon itself refuses such a request when it does arrive (not only the browser's policy):
    const post = `fetch("http://127.0.0.1:7000/v1/rules", { method: "POST", headers: { origin: "http://evil.test", "content-type": "application/json" }, body: ${JSON.stringify(rule)} }).then((r) => console.log(r.status))`;
    const { stdout } = await support.lab('exec', 'proxy', 'node', '-e', post);
    expect(stdout.trim()).toBe('403');
    expect(await rulesOf()).toBe(before);
  });

  it('saves a screenshot to test-artifacts/dashboard.png', async () => {
    // Let one more snapshot land so the throughput labels have two samples.
    await new Promise((r) => setTimeout(r, 1500));
    const dir = join(support.ROOT, 'test-artifacts');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'dashboard.png');
    await page.screenshot({ path: file, fullPage: true });
    expect(existsSync(file)).toBe(true);
    console.log(`dashboard screenshot: ${file}`);
  });
});

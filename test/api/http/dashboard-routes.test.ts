import { afterEach, describe, expect, it } from 'vitest';
import type { Hono } from 'hono';
import type { ApiEnv } from '../../../api/http/primitive-routes.js';
import type { DashboardSnapshot } from '../../../api/dashboard/snapshot.js';
import { EventLog, type LoggedEvent } from '../../../switch/event-log.js';
import { RelayError, type Primitives } from '../../../switch/overlay/primitives.js';
import { SseParser } from '../../../api/dashboard/client.js';
import { daemons } from './api-fixture.js';

let stop: () => Promise<void> = async () => {};
afterEach(async () => stop());

const TOKENS = [{ name: 'wall', token: 'wall-screen-read-only', readOnly: true }];

/** Opens /v1/events and reads until `count` messages arrived (or `timeoutMs`), then closes the stream. */
async function readEvents(app: Hono<ApiEnv>, count: number, headers: Record<string, string> = {}, timeoutMs = 3000) {
  const res = await app.request('http://localhost/v1/events', { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const reader = res.body!.getReader();
  const parser = new SseParser();
  const decoder = new TextDecoder();
  const messages: ReturnType<SseParser['push']> = [];
  // Real time: the stream is Hono's, whose snapshot loop sleeps with stream.sleep (a real timer) — a bound, not a wait.
  const deadline = performance.now() + timeoutMs;
  while (messages.length < count && performance.now() < deadline) {
    const next = await Promise.race([reader.read(), new Promise<undefined>((r) => setTimeout(() => r(undefined), deadline - performance.now()))]);
    if (!next || next.done) break;
    messages.push(...parser.push(decoder.decode(next.value, { stream: true })));
  }
  await reader.cancel();
  return messages;
}

describe('GET / (the dashboard page)', () => {
  it('serves self-contained HTML without a token, even when tokens are required', async () => {
    const d = await daemons(1, { tokens: TOKENS, overrides: { dashboard: { clientJs: 'window.clientLoaded = 1; // </script> inside' } } });
    stop = d.stop;
    const res = await d.all[0]!.app.request('http://localhost/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    const html = await res.text();
    for (const id of ['overlay', 'tables', 'log', 'app-topology', 'plugins', 'snapshot-count']) expect(html).toContain(`id="${id}"`);
    expect(html).toContain('window.clientLoaded = 1');
    expect(html).not.toContain('// </script>'); // the inline script cannot close itself
    expect(html).not.toMatch(/(src|href)="https?:/); // nothing from elsewhere: works with no internet
    expect(html).toContain('no plugins');
    // Under a strict policy even before the route sends the header (api/dashboard/page.ts).
    expect(html).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'sha256-[^']+'; style-src 'sha256-[^']+'; connect-src 'self';/);
  });

  it('sends the page with its CSP and security headers', async () => {
    const d = await daemons(1);
    stop = d.stop;
    const res = await d.all[0]!.app.request('http://localhost/');
    expect(res.headers.get('content-security-policy')).toMatch(/^default-src 'none'; script-src 'sha256-[^']+'; style-src 'sha256-[^']+'; connect-src 'self';.*frame-ancestors 'none'/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('inlines the compiled client when the build has one, else says it is not built', async () => {
    const d = await daemons(1);
    stop = d.stop;
    const html = await (await d.all[0]!.app.request('http://localhost/')).text();
    expect(html).toMatch(/<script type="module">/);
    expect(html).not.toContain('sourceMappingURL');
  });
});

describe('GET /v1/events', () => {
  it('needs the token when tokens exist (401), and a read-only token is enough', async () => {
    const d = await daemons(1, { tokens: TOKENS });
    stop = d.stop;
    const app = d.all[0]!.app;
    const denied = await app.request('http://localhost/v1/events');
    expect(denied.status).toBe(401);
    expect(((await denied.json()) as { code: string }).code).toBe('unauthorized');
    const messages = await readEvents(app, 1, { authorization: 'Bearer wall-screen-read-only' });
    expect(messages[0]?.event).toBe('snapshot');
  });

  it('sends a snapshot of this host at once: its VM ports, links, rules with hit counters', async () => {
    const d = await daemons(1);
    stop = d.stop;
    const host = d.all[0]!;
    await host.primitives.addRule({ src: 'any', dst: 'none', target: 'vm1' }, { name: 'test' });
    const [first] = await readEvents(host.app, 1);
    expect(first?.event).toBe('snapshot');
    const s = JSON.parse(first!.data) as DashboardSnapshot;
    expect(s.self).toMatchObject({ name: 'h1', role: 'host' });
    expect(Number.isNaN(Date.parse(s.at))).toBe(false);
    expect(s.truncated).toBe(false);
    expect(s.hosts).toHaveLength(1);
    expect(s.hosts[0]!.vms.map((v) => v.port)).toEqual(['vm1', 'vm2']);
    expect(s.hosts[0]!.rules[0]).toMatchObject({ target: 'vm1', hitFrames: 0, hitBytes: 0 });
  });

  it('on the Proxy, covers every host; a host that does not answer is listed with its error code', async () => {
    const hostSide = await daemons(2);
    const failing: Primitives = (() => {
      const fail = async (): Promise<never> => {
        throw new RelayError('host-timeout', 'h3 did not answer');
      };
      return { interfaces: fail, links: fail, addLink: fail, deleteLink: fail, rules: fail, addRule: fail, deleteRule: fail, ports: fail, addPort: fail, deletePort: fail, configTimeBound: fail, setConfigTimeBound: fail };
    })();
    const byName = new Map<string, Primitives>([
      ['h1', hostSide.all[0]!.primitives],
      ['h2', hostSide.all[1]!.primitives],
      ['h3', failing],
    ]);
    const proxySide = await daemons(1, {
      overrides: {
        host: (name) => byName.get(name),
        hosts: () => [...byName.keys()].map((name) => ({ name, state: 'up' as const, interfaces: 2, links: 0, rules: 0 })),
      },
    });
    stop = async () => {
      await hostSide.stop();
      await proxySide.stop();
    };
    const [first] = await readEvents(proxySide.all[0]!.app, 1);
    const s = JSON.parse(first!.data) as DashboardSnapshot;
    expect(s.hosts.map((h) => h.name)).toEqual(['h1', 'h2', 'h3']);
    expect(s.hosts[0]!.vms).toHaveLength(2);
    expect(s.hosts[2]).toMatchObject({ name: 'h3', error: 'host-timeout', vms: [], rules: [] });
  });

  it('replays the event ring as `log` events (after Last-Event-ID), then streams new ones', async () => {
    const events = new EventLog({ wallClock: () => 1_700_000_000_000 });
    events.record('info', 'link-up', 'link up', { link: 'proxy' });
    events.record('warn', 'link-down', 'link down', { link: 'proxy' });
    const d = await daemons(1, { overrides: { events, dashboard: { snapshotIntervalMs: 60_000 } } });
    stop = d.stop;
    const app = d.all[0]!.app;

    const all = await readEvents(app, 3);
    expect(all.filter((m) => m.event === 'log').map((m) => (JSON.parse(m.data) as LoggedEvent).event)).toEqual(['link-up', 'link-down']);
    expect(all.find((m) => m.event === 'log')?.id).toBe('1');

    const after = await readEvents(app, 2, { 'last-event-id': '1' });
    expect(after.filter((m) => m.event === 'log').map((m) => m.id)).toEqual(['2']);

    // Real time: the event must arrive while Hono's real stream is open (its loop sleeps on a real timer).
    setTimeout(() => events.record('info', 'transport-switch', 'link transport', { link: 'proxy', to: 'tcp' }), 50);
    const live = await readEvents(app, 4);
    expect(live.filter((m) => m.event === 'log').map((m) => (JSON.parse(m.data) as LoggedEvent).event)).toEqual(['link-up', 'link-down', 'transport-switch']);
    expect(events.subscribers).toBe(0); // closing the stream unsubscribed it
  });

  it('sends a new snapshot every interval', async () => {
    const d = await daemons(1, { overrides: { dashboard: { snapshotIntervalMs: 50 } } });
    stop = d.stop;
    const messages = await readEvents(d.all[0]!.app, 3);
    expect(messages.map((m) => m.event)).toEqual(['snapshot', 'snapshot', 'snapshot']);
  });
});

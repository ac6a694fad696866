/**
 * The live dashboard: `GET /` serves one self-contained HTML page (inline CSS
 * and script, nothing fetched from elsewhere: it works with no internet), and
 * `GET /v1/events` is the server-sent-event stream the page draws from:
 *
 *   event: log        one LoggedEvent (switch/event-log.ts), `id:` its seq;
 *                     on connect the ring is replayed (after Last-Event-ID
 *                     when the client sends one), then new events as they happen
 *   event: snapshot   a DashboardSnapshot (api/dashboard/snapshot.ts), at once
 *                     and then every `snapshotIntervalMs`
 *
 * Tokens: `/` is public in openapi.yaml (`security: []`), like /docs, and holds
 * no data; /v1/events needs the token like every read. The page takes the
 * token from its URL fragment (never sent to the server) and sends it as
 * `Authorization: Bearer` over fetch, which is why it reads SSE with fetch
 * and not EventSource (which cannot set headers).
 */
import type { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { EventLog, LoggedEvent } from '../../switch/event-log.js';
import type { Logger } from '../../switch/log.js';
import { loadDashboardClient } from '../dashboard/client-script.js';
import { buildDashboardPage } from '../dashboard/page.js';
import { SnapshotSource, type SnapshotDeps } from '../dashboard/snapshot.js';
import type { ApiEnv } from './primitive-routes.js';
import type { DashboardOptions } from './deps.js';

export const SNAPSHOT_INTERVAL_MS = 1000;

export interface DashboardDeps extends SnapshotDeps {
  /** The daemon's event ring; without it the stream carries snapshots only. */
  events?: EventLog;
  log: Logger;
}


export function registerDashboardRoutes(app: Hono<ApiEnv>, deps: DashboardDeps, options: DashboardOptions = {}): void {
  const intervalMs = options.snapshotIntervalMs ?? SNAPSHOT_INTERVAL_MS;
  const page = buildDashboardPage(options.clientJs ?? loadDashboardClient());
  const source = new SnapshotSource(
    deps,
    options.clock ?? { now: () => performance.now() },
    options.wallClock ?? Date.now,
    Math.max(0, intervalMs - 100),
  );

  app.get('/', (c) => c.html(page.html, 200, page.headers));

  app.get('/v1/events', (c) => {
    const afterSeq = Number(c.req.header('last-event-id') ?? 0);
    return streamSSE(c, async (stream) => {
      const writeLog = (e: LoggedEvent): Promise<void> =>
        stream.writeSSE({ event: 'log', id: String(e.seq), data: JSON.stringify(e) });
      // Subscribe before replaying, hold new events until the replay is out, so none is lost or doubled.
      const pending: LoggedEvent[] = [];
      let isReplaying = true;
      const unsubscribe = deps.events?.subscribe((e) => {
        if (isReplaying) pending.push(e);
        else void writeLog(e).catch(() => stream.abort());
      });
      stream.onAbort(() => unsubscribe?.());
      try {
        let lastSeq = Number.isSafeInteger(afterSeq) && afterSeq > 0 ? afterSeq : 0;
        for (const e of deps.events?.list(lastSeq) ?? []) {
          await writeLog(e);
          lastSeq = e.seq;
        }
        for (let e = pending.shift(); e !== undefined; e = pending.shift()) {
          if (e.seq > lastSeq) await writeLog(e);
          lastSeq = Math.max(lastSeq, e.seq);
        }
        isReplaying = false;
        while (!stream.aborted && !stream.closed) {
          const snapshot = await source.current().catch((err: unknown) => {
            deps.log.warn('dashboard snapshot failed', { err });
            return undefined;
          });
          if (snapshot) await stream.writeSSE({ event: 'snapshot', data: JSON.stringify(snapshot) });
          await stream.sleep(intervalMs);
        }
      } finally {
        unsubscribe?.();
      }
    });
  });
}

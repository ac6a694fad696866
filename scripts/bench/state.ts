/**
 * The durable state's store, measured (docs/state.md): our journal (switch/state/journal-store.ts) against SQLite
 * through better-sqlite3 12 (WAL, synchronous=FULL: a commit is on disk when it returns), on this machine's disk.
 *
 *   node dist/scripts/bench/state.js [--records 1000] [--dir /var/tmp] [--json]
 *
 * Per store: the time per acknowledged change (one rule-sized record put, fsync included) as the caller waits for
 * it, and how long of that the event loop is blocked (better-sqlite3 is synchronous: the whole commit; the journal
 * fsyncs on libuv's thread pool); the time to restore `--records` records (the journal uncompacted — one line per
 * change — and compacted); the RSS a daemon pays for the store with those records loaded (a child process each,
 * against a bare `node`). better-sqlite3 is not a dependency of vswitch: to compare, `npm install --no-save
 * better-sqlite3@12` first (13 segfaults on Node 20 here); without it only the journal is measured.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JournalStore } from '../../switch/state/journal-store.js';
import type { StateChange } from '../../switch/state/state-record.js';

const argv = process.argv.slice(2);
const opt = (name: string, fallback: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
};
const records = Number(opt('records', '1000'));
const baseDir = opt('dir', '/var/tmp');

const rule = (i: number): StateChange => ({
  kind: 'rule',
  key: String(i),
  value: { src: '02:00:c6:13:01:01', dst: `02:00:c6:13:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`, target: 'fp-h2', priority: 0, owner: 'ops' },
});

interface Sqlite {
  prepare(sql: string): { run(...args: unknown[]): unknown; all(): { kind: string; key: string; value: string }[] };
  pragma(text: string): unknown;
  exec(sql: string): void;
  close(): void;
}
type SqliteCtor = new (file: string) => Sqlite;

function loadSqlite(): SqliteCtor | undefined {
  try {
    return createRequire(import.meta.url)('better-sqlite3') as SqliteCtor;
  } catch {
    return undefined;
  }
}

function summary(samples: number[]): { medianMs: number; p99Ms: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { medianMs: round(at(0.5)), p99Ms: round(at(0.99)) };
}
const round = (ms: number): number => Math.round(ms * 1000) / 1000;

/** The event loop's longest stall while `run` goes on: a 0 ms timer chain notes how late each turn came. */
async function loopStalls(run: () => Promise<void>): Promise<number[]> {
  const stalls: number[] = [];
  let active = true;
  let last = performance.now();
  const tick = (): void => {
    const now = performance.now();
    stalls.push(now - last);
    last = now;
    if (active) setImmediate(tick);
  };
  setImmediate(tick);
  await run();
  active = false;
  return stalls;
}

async function journal(dir: string): Promise<Record<string, unknown>> {
  const store = await JournalStore.open({ dir, compactAfterEntries: Number.MAX_SAFE_INTEGER });
  const perChange: number[] = [];
  const stalls = await loopStalls(async () => {
    for (let i = 0; i < records; i++) {
      const start = performance.now();
      await store.write([rule(i)]);
      perChange.push(performance.now() - start);
    }
  });
  await store.close();
  const restoreUncompactedMs = await timedOpen(dir);
  const opened = await JournalStore.open({ dir });
  await opened.compactNow();
  await opened.close();
  return { store: 'journal (ours)', perChange: summary(perChange), loopBlocked: summary(stalls), restoreUncompactedMs, restoreCompactedMs: await timedOpen(dir) };
}

async function timedOpen(dir: string): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    const store = await JournalStore.open({ dir, compactAfterEntries: Number.MAX_SAFE_INTEGER });
    if (store.saved.size !== records) throw new Error(`restored ${store.saved.size} records, wrote ${records}`);
    samples.push(performance.now() - start);
    await store.close();
  }
  return summary(samples).medianMs;
}

function sqlite(Database: SqliteCtor, dir: string, synchronous: 'FULL' | 'NORMAL'): Record<string, unknown> {
  const file = join(dir, `state-${synchronous}.db`);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.exec('CREATE TABLE IF NOT EXISTS records (kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kind, key))');
  const put = db.prepare('INSERT OR REPLACE INTO records (kind, key, value) VALUES (?, ?, ?)');
  const perChange: number[] = [];
  for (let i = 0; i < records; i++) {
    const c = rule(i);
    const start = performance.now();
    put.run(c.kind, c.key, JSON.stringify(c.value)); // one implicit transaction: committed (and, FULL, synced) on return
    perChange.push(performance.now() - start);
  }
  db.close();
  const restore: number[] = [];
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    const again = new Database(file);
    const rows = again.prepare('SELECT kind, key, value FROM records').all();
    const table = new Map(rows.map((r) => [`${r.kind} ${r.key}`, JSON.parse(r.value) as unknown]));
    if (table.size !== records) throw new Error(`restored ${table.size} rows, wrote ${records}`);
    restore.push(performance.now() - start);
    again.close();
  }
  // Synchronous: the event loop is blocked for the whole commit.
  return { store: `better-sqlite3 12, WAL, synchronous=${synchronous}`, perChange: summary(perChange), loopBlocked: summary(perChange), restoreMs: summary(restore).medianMs };
}

/** RSS of a child that loads the store with `records` records (or nothing), in MiB. */
function childRss(which: 'none' | 'journal' | 'sqlite', dir: string): number | undefined {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', which, '--dir', dir, '--records', String(records)], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  return Math.round((Number(r.stdout.trim()) / 1024 / 1024) * 10) / 10;
}

async function child(which: string, dir: string): Promise<void> {
  if (which === 'journal') {
    const store = await JournalStore.open({ dir });
    if (store.saved.size !== records) throw new Error('journal not loaded');
  } else if (which === 'sqlite') {
    const Database = loadSqlite();
    if (!Database) process.exit(2);
    const db = new Database(join(dir, 'state-FULL.db'));
    db.pragma('journal_mode = WAL');
    const rows = db.prepare('SELECT kind, key, value FROM records').all();
    (globalThis as { keep?: unknown }).keep = [db, new Map(rows.map((r) => [`${r.kind} ${r.key}`, JSON.parse(r.value) as unknown]))];
  }
  globalThis.gc?.();
  process.stdout.write(String(process.memoryUsage().rss));
  process.exit(0);
}

async function main(): Promise<void> {
  if (argv.includes('--child')) return child(opt('child', 'none'), opt('dir', ''));
  const dir = mkdtempSync(join(baseDir, 'vswitch-bench-state-'));
  try {
    const results: Record<string, unknown>[] = [await journal(join(dir, 'journal'))];
    const Database = loadSqlite();
    if (Database) {
      results.push(sqlite(Database, dir, 'FULL'), sqlite(Database, dir, 'NORMAL'));
    }
    const bare = childRss('none', dir);
    const rss = { bareNodeMiB: bare, journalMiB: childRss('journal', join(dir, 'journal')), sqliteMiB: Database ? childRss('sqlite', dir) : undefined };
    const out = { records, dir: baseDir, results, rss, sqlite: Database ? 'measured' : 'better-sqlite3 not installed (npm install --no-save better-sqlite3@12 to compare)' };
    if (argv.includes('--json')) console.log(JSON.stringify(out, null, 2));
    else {
      for (const r of results) console.log(JSON.stringify(r));
      console.log(JSON.stringify(rss));
      console.log(out.sqlite);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

/**
 * JournalStore on real files (a temporary directory): what is written is there after a reopen; a crash at every
 * byte of the last write leaves the old state or the new one and the store goes on writing; compaction keeps the
 * journal short and survives a crash in the middle; one daemon per directory.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JOURNAL_FILE, JournalStore } from '../../../switch/state/journal-store.js';
import { MemoryStateStore } from '../../../switch/state/memory-state-store.js';
import { MAX_RECORD_BYTES, MAX_RECORDS, type StateChange } from '../../../switch/state/state-record.js';

const opened: JournalStore[] = [];
afterEach(async () => {
  while (opened.length) await opened.pop()!.close();
});

async function openAt(dir: string, compactAfterEntries?: number): Promise<JournalStore> {
  const store = await JournalStore.open({ dir, ...(compactAfterEntries === undefined ? {} : { compactAfterEntries }) });
  opened.push(store);
  return store;
}

async function closeAll(): Promise<void> {
  while (opened.length) await opened.pop()!.close();
}

const rule = (id: number, target = 'x1'): StateChange => ({ kind: 'rule', key: String(id), value: { src: 'any', dst: `02:00:00:00:00:${(id % 256).toString(16).padStart(2, '0')}`, target, owner: 'ops' } });

describe('JournalStore', () => {
  it('starts empty in a new directory (0700, journal 0600) and keeps every batch across a reopen', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'vswitch-state-')), 'h1');
    const store = await openAt(dir);
    expect(store.saved.size).toBe(0);
    await store.write([rule(1), { kind: 'config-time', key: 'bound', value: { upperBoundMs: 900 } }]);
    await store.write([rule(2), { kind: 'rule', key: '1', value: null }]);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, JOURNAL_FILE)).mode & 0o777).toBe(0o600);
    await closeAll();
    const again = await openAt(dir);
    expect(again.saved.records()).toEqual([rule(2), { kind: 'config-time', key: 'bound', value: { upperBoundMs: 900 } }]);
    expect(again.info()).toMatchObject({ entries: 2, records: 2, tornBytesDropped: 0 });
  });

  it('a crash at every byte of the last write: the old state or the new one, and the store writes on after it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vswitch-state-'));
    const store = await openAt(dir);
    for (let i = 1; i <= 5; i++) await store.write([rule(i)]);
    const before = store.saved.records();
    const lastStart = statSync(join(dir, JOURNAL_FILE)).size;
    await store.write([rule(6), { kind: 'rule', key: '2', value: null }]);
    const after = store.saved.records();
    await closeAll();
    const whole = readFileSync(join(dir, JOURNAL_FILE));
    for (let cut = lastStart; cut <= whole.length; cut++) {
      const copy = mkdtempSync(join(tmpdir(), 'vswitch-state-cut-'));
      writeFileSync(join(copy, JOURNAL_FILE), whole.subarray(0, cut));
      const restored = await openAt(copy);
      expect(restored.saved.records(), `cut at byte ${cut}`).toEqual(cut === whole.length ? after : before);
      expect(restored.info().tornBytesDropped).toBe(cut === whole.length ? 0 : cut - lastStart);
      await restored.write([rule(99)]);
      await closeAll();
      const reopened = await openAt(copy);
      expect(reopened.saved.get('rule', '99'), `a write after the cut at ${cut} is kept`).toBeDefined();
      expect(reopened.info().tornBytesDropped).toBe(0);
      await closeAll();
    }
  });

  it('refuses to open a corrupt journal, naming it (and opens again once it is set aside)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vswitch-state-'));
    const store = await openAt(dir);
    for (let i = 1; i <= 3; i++) await store.write([rule(i)]);
    await closeAll();
    const file = join(dir, JOURNAL_FILE);
    const bytes = readFileSync(file);
    const secondLine = bytes.indexOf(0x0a) + 1;
    bytes[secondLine + 30] = bytes[secondLine + 30]! ^ 0x20;
    writeFileSync(file, bytes);
    await expect(JournalStore.open({ dir })).rejects.toMatchObject({ code: 'state-corrupt', file, where: `line 2 (byte ${secondLine})` });
    await expect(JournalStore.open({ dir })).rejects.toThrow(/vswitch state reset --state-dir/);
    // The failed open released its lock: with the file set aside, the directory opens as a new state.
    copyFileSync(file, `${file}.bad`);
    truncateSync(file, 0);
    await expect(JournalStore.open({ dir })).rejects.toMatchObject({ code: 'state-corrupt', where: 'line 1 (byte 0)' });
  });

  it('compacts the journal into a new base, keeps the same records, and survives a crash in the middle of one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vswitch-state-'));
    const store = await openAt(dir, 10);
    for (let i = 1; i <= 40; i++) await store.write([rule(i % 7), { kind: 'rule-ids', key: 'next', value: i + 1 }]);
    await store.compactNow(); // the write that crosses the mark queues one; wait for the queue too
    expect(store.info().compactions).toBeGreaterThanOrEqual(3);
    expect(store.info().entries).toBeLessThan(10);
    const records = store.saved.records();
    await closeAll();
    // A compaction that crashed before its rename leaves a half-written .tmp beside a whole journal.
    writeFileSync(join(dir, `${JOURNAL_FILE}.tmp`), 'e3b0c442 {"format":"vswitch-st');
    const again = await openAt(dir, 10);
    expect(again.saved.records()).toEqual(records);
    await again.write([rule(100)]);
    await closeAll();
    expect((await openAt(dir)).saved.get('rule', '100')).toBeDefined();
  });

  it('one daemon per state directory: a second open is refused while the first holds it; a dead holder\'s lock is taken over', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vswitch-state-'));
    await openAt(dir);
    await expect(JournalStore.open({ dir })).rejects.toMatchObject({ code: 'state-locked', pid: process.pid });
    await closeAll();
    // A daemon killed with SIGKILL leaves its lock: the pid of a process that is gone.
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(join(dir, 'lock'), `${gone.stdout} 12345\n`);
    const store = await openAt(dir);
    expect(readFileSync(join(dir, 'lock'), 'utf8')).toMatch(new RegExp(`^${process.pid} `));
    await store.write([rule(1)]);
  });

  it('refuses a record over MAX_RECORD_BYTES and a batch that would pass MAX_RECORDS, changing nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vswitch-state-'));
    const store = await openAt(dir);
    await expect(store.write([rule(1), { kind: 'policy', key: 'p', value: 'x'.repeat(MAX_RECORD_BYTES) }])).rejects.toMatchObject({ code: 'state-change-invalid' });
    await expect(store.write([{ kind: 'Bad Kind', key: 'x', value: 1 }])).rejects.toMatchObject({ code: 'state-change-invalid' });
    expect(store.saved.size).toBe(0);
    const full = new MemoryStateStore(Array.from({ length: MAX_RECORDS }, (_, i) => ({ kind: 'rule', key: String(i), value: 1 })));
    await expect(full.write([rule(MAX_RECORDS + 1)])).rejects.toMatchObject({ code: 'state-full', httpStatus: 507 });
    await full.write([{ kind: 'rule', key: '0', value: null }, rule(MAX_RECORDS + 1)]); // a swap keeps the count
    expect(full.saved.size).toBe(MAX_RECORDS);
  });
});

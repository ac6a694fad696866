/**
 * JournalStore: the durable state in one directory (mode 0700) — `state.journal` (format: journal-format.ts, mode
 * 0600) and `lock` (state-lock.ts).
 *
 * Writing. Batches are written one at a time, in order: the batch's line is appended (O_APPEND) and fdatasync'ed,
 * and only then is the write resolved (and the change acknowledged). fsync runs on libuv's thread pool, so the
 * event loop — the datapath — does not wait for the disk. A write that fails (disk full, I/O error) is cut off
 * again (ftruncate to the last good byte, fsync'ed) and rejected with StateUnavailableError: the caller undoes its
 * change. If even the cut fails, the store refuses every later write until the daemon restarts (and restore drops
 * the torn tail).
 *
 * Compaction. Once the journal holds COMPACT_AFTER_ENTRIES change lines and at least as many as there are rows, the
 * whole state is written as a new base into `state.journal.tmp` (fsync), renamed over `state.journal`, and the
 * directory fsync'ed: a crash at any instant leaves the old journal or the new one, both whole. The cost is linear
 * in the rows and is paid once per that many changes, after the write that crossed the mark was acknowledged.
 *
 * Opening. The lock is taken first (two daemons must never share a state); a stale `.tmp` from a compaction that
 * crashed is removed; a torn last line (the write in flight when the daemon died) is dropped and cut off, and
 * logged; anything else wrong is a StateCorruptError and the store does not open. A missing journal is a new,
 * empty state.
 */
import { mkdir, open, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../log.js';
import { decodeJournal, encodeBase, encodeChanges } from './journal-format.js';
import { StateUnavailableError } from './state-errors.js';
import { StateLock } from './state-lock.js';
import type { StateChange } from './state-record.js';
import { checkBatch, type StateStore, type StateStoreInfo } from './state-store.js';
import { StateTable, type SavedState } from './state-table.js';

export const JOURNAL_FILE = 'state.journal';
export const COMPACT_AFTER_ENTRIES = 1000;

export interface JournalStoreOptions {
  readonly dir: string;
  readonly log?: Logger;
  /** Change lines before a compaction is considered (default COMPACT_AFTER_ENTRIES; tests use small numbers). */
  readonly compactAfterEntries?: number;
  /** Appended to corruption errors: how to start over (default: `vswitch state reset --state-dir DIR`). */
  readonly resetHint?: string;
}

export class JournalStore implements StateStore {
  private tail: Promise<unknown> = Promise.resolve();
  private broken: Error | undefined;
  private compactions = 0;

  private constructor(
    private readonly options: JournalStoreOptions,
    readonly file: string,
    private readonly lock: StateLock,
    private handle: FileHandle,
    private readonly table: StateTable,
    private seq: number,
    private entries: number,
    private bytes: number,
    private readonly tornBytesDropped: number,
    private readonly openMs: number,
  ) {}

  static async open(options: JournalStoreOptions): Promise<JournalStore> {
    const startedMs = performance.now();
    const { dir } = options;
    const file = join(dir, JOURNAL_FILE);
    const resetHint = options.resetHint ?? `\`vswitch state reset --state-dir ${dir}\` sets it aside and starts from the config alone`;
    await io(`${dir}: cannot create the state directory`, () => mkdir(dir, { recursive: true, mode: 0o700 }));
    const lock = await StateLock.acquire(dir);
    try {
      await unlink(`${file}.tmp`).catch(ignoreMissing);
      const bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw new StateUnavailableError(`${file}: cannot read the state: ${err.message}`, { cause: err });
      });
      if (bytes === undefined) {
        await writeWhole(dir, file, encodeBase(0, []));
        const handle = await io(`${file}: cannot open the state`, () => open(file, 'a', 0o600));
        return new JournalStore(options, file, lock, handle, new StateTable(), 0, 0, Buffer.byteLength(encodeBase(0, [])), 0, performance.now() - startedMs);
      }
      const decoded = decodeJournal(bytes, { file, resetHint });
      const handle = await io(`${file}: cannot open the state`, () => open(file, 'a', 0o600));
      if (decoded.torn) {
        options.log?.warn('state: dropped a torn last entry (the write in flight when the daemon stopped; it was never acknowledged)', {
          file,
          offset: decoded.torn.offset,
          bytes: decoded.torn.bytes,
          problem: decoded.torn.problem,
        });
        await io(`${file}: cannot cut off a torn last entry`, async () => {
          await handle.truncate(decoded.goodBytes);
          await handle.datasync();
        });
      }
      return new JournalStore(options, file, lock, handle, decoded.table, decoded.seq, decoded.entries, decoded.goodBytes, decoded.torn?.bytes ?? 0, performance.now() - startedMs);
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  get saved(): SavedState {
    return this.table;
  }

  write(changes: readonly StateChange[]): Promise<void> {
    if (changes.length === 0) return Promise.resolve();
    const written = this.serial(() => this.append(changes));
    void written.then(() => {
      if (this.shouldCompact()) void this.serial(() => this.compact());
    }, () => {});
    return written;
  }

  info(): StateStoreInfo {
    return {
      dir: this.options.dir,
      file: this.file,
      bytes: this.bytes,
      entries: this.entries,
      records: this.table.size,
      compactions: this.compactions,
      tornBytesDropped: this.tornBytesDropped,
      openMs: this.openMs,
    };
  }

  /** Waits for the writes under way, then closes the journal and releases the lock. */
  async close(): Promise<void> {
    await this.tail;
    await this.handle.close().catch(() => {});
    await this.lock.release();
  }

  /** Folds the journal into a new base now (tests; normally automatic). */
  compactNow(): Promise<void> {
    return this.serial(() => this.compact());
  }

  private serial<T>(step: () => Promise<T>): Promise<T> {
    const run = this.tail.then(step);
    this.tail = run.catch(() => {});
    return run;
  }

  private async append(changes: readonly StateChange[]): Promise<void> {
    checkBatch(this.table, changes);
    if (this.broken) throw new StateUnavailableError(`the change was not saved: ${this.file} could not be repaired after a failed write (${this.broken.message}): restart the daemon`, { cause: this.broken });
    const text = encodeChanges(this.seq + 1, changes);
    const data = Buffer.from(text, 'utf8');
    try {
      const { bytesWritten } = await this.handle.write(data);
      if (bytesWritten !== data.length) throw new Error(`short write: ${bytesWritten} of ${data.length} bytes`);
      await this.handle.datasync();
    } catch (err) {
      await this.cutBack();
      throw new StateUnavailableError(`the change was not saved: ${this.file}: ${(err as Error).message}`, { cause: err });
    }
    this.seq++;
    this.entries++;
    this.bytes += data.length;
    this.table.apply(changes);
  }

  /** After a failed append: the file back to its last good byte, or the store refuses further writes. */
  private async cutBack(): Promise<void> {
    try {
      await this.handle.truncate(this.bytes);
      await this.handle.datasync();
    } catch (err) {
      this.broken = err as Error;
      this.options.log?.error('state: a failed write could not be cut off; refusing further changes until restart', { file: this.file, err });
    }
  }

  private shouldCompact(): boolean {
    return this.broken === undefined && this.entries >= (this.options.compactAfterEntries ?? COMPACT_AFTER_ENTRIES) && this.entries >= this.table.size;
  }

  private async compact(): Promise<void> {
    if (this.broken) return;
    const text = encodeBase(this.seq, this.table.records());
    const tmp = `${this.file}.tmp`;
    let next: FileHandle | undefined;
    try {
      await unlink(tmp).catch(ignoreMissing);
      // Opened for appending: after the rename this very handle appends to the new journal.
      next = await open(tmp, 'a', 0o600);
      await next.write(text);
      await next.datasync();
      await rename(tmp, this.file);
    } catch (err) {
      await next?.close().catch(() => {});
      await unlink(tmp).catch(() => {});
      this.options.log?.warn('state: compaction failed; the journal goes on as it was', { file: this.file, err });
      return;
    }
    const old = this.handle;
    this.handle = next;
    this.bytes = Buffer.byteLength(text);
    this.entries = 0;
    this.compactions++;
    await old.close().catch(() => {});
    await fsyncDir(this.options.dir).catch((err: unknown) => this.options.log?.warn('state: fsync of the state directory failed after compaction', { dir: this.options.dir, err }));
  }
}

/** A new file, whole: written to `.tmp`, fsync'ed, renamed into place, the directory fsync'ed. */
async function writeWhole(dir: string, file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp`;
  await io(`${file}: cannot create the state`, async () => {
    const handle = await open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(text);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
    await fsyncDir(dir);
  });
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function io<T>(what: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (err instanceof StateUnavailableError) throw err;
    throw new StateUnavailableError(`${what}: ${(err as Error).message}`, { cause: err });
  }
}

function ignoreMissing(err: NodeJS.ErrnoException): void {
  if (err.code !== 'ENOENT') throw err;
}

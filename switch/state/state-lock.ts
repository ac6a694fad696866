/**
 * One daemon per state directory: a `lock` file holding the owner's pid and its start time (field 22 of
 * /proc/PID/stat), created with O_EXCL. A lock whose process is gone — or whose pid now names another process,
 * started at another time — is stale (the daemon was killed) and is taken over; a live owner's lock is refused.
 */
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { StateLockedError, StateUnavailableError } from './state-errors.js';

export class StateLock {
  private constructor(
    readonly file: string,
    private readonly identity: string,
  ) {}

  static async acquire(dir: string): Promise<StateLock> {
    const file = join(dir, 'lock');
    const identity = `${process.pid} ${(await startTimeOf(process.pid)) ?? '-'}`;
    for (let attempt = 0; ; attempt++) {
      try {
        const handle = await open(file, 'wx', 0o600);
        try {
          await handle.writeFile(`${identity}\n`);
        } finally {
          await handle.close();
        }
        return new StateLock(file, identity);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw lockError(err, dir, file);
        const holder = await holderOf(file);
        if (holder !== undefined) throw new StateLockedError(dir, holder);
        await unlink(file).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== 'ENOENT') throw e;
        });
      }
    }
  }

  /** Removes the lock if it is still this process's. */
  async release(): Promise<void> {
    const text = await readFile(this.file, 'utf8').catch(() => '');
    if (text.trim() === this.identity) await unlink(this.file).catch(() => {});
  }
}

/** The pid of the live process that holds `file`, or undefined when the lock is stale. */
async function holderOf(file: string): Promise<number | undefined> {
  const [pidText = '', started = '-'] = (await readFile(file, 'utf8').catch(() => '')).trim().split(' ');
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  const now = await startTimeOf(pid);
  // The pid is alive: it is the holder unless we can tell it is another process that reused the number.
  return now !== undefined && started !== '-' && now !== started ? undefined : pid;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The process's start time in clock ticks since boot (Linux), or undefined when /proc cannot tell. */
async function startTimeOf(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  // "pid (comm) state ppid …": comm may hold spaces and parentheses, so count fields from the last ")".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19];
}

function lockError(err: unknown, dir: string, file: string): Error {
  return new StateUnavailableError(`${file}: cannot lock the state directory ${dir}: ${(err as Error).message}`, { cause: err });
}

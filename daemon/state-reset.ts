/**
 * `vswitch state reset`: the way out of a state the daemon will not start on (or one the operator wants gone). With
 * the daemon stopped — it takes the state directory's lock, so it refuses while the daemon runs — it sets the
 * journal aside as `state.journal.reset-<time>` (kept for a post-mortem, never read again) and the next start is
 * from the config alone. Why offline only: a reset through the API would have to undo every run-time change live
 * (links, rules, registrations) — `topology apply` is the tool for reshaping a running overlay.
 */
import { access, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { VswitchError } from '../switch/errors.js';
import { decodeJournal } from '../switch/state/journal-format.js';
import { JOURNAL_FILE } from '../switch/state/journal-store.js';
import { StateLockedError } from '../switch/state/state-errors.js';
import { StateLock } from '../switch/state/state-lock.js';
import { loadDaemonConfigFile } from './config.js';
import { stateDirOf } from './state-dir.js';

/** The state directory of `--state-dir DIR`, or of the daemon of config file `-c FILE`. */
export function stateDirFor(options: { config?: string; stateDir?: string }): string {
  if (options.stateDir !== undefined) return stateDirOf({ name: '' }, { stateDir: options.stateDir });
  if (options.config === undefined) throw new VswitchError('usage', 'name the daemon: -c CONFIG_FILE or --state-dir DIR');
  return stateDirOf(loadDaemonConfigFile(options.config));
}

export interface StateResetResult {
  dir: string;
  /** The journal set aside (absent: there was none). */
  setAside?: string;
  /** Records it held, or why it could not be read. */
  records?: number;
  unreadable?: string;
}

export async function resetState(dir: string, nowMs: number): Promise<StateResetResult> {
  const file = join(dir, JOURNAL_FILE);
  const bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw new VswitchError('state-unavailable', `${file}: cannot read the state: ${err.message}`, { cause: err });
  });
  if (bytes === undefined) return { dir };
  let lock: StateLock;
  try {
    lock = await StateLock.acquire(dir);
  } catch (err) {
    if (err instanceof StateLockedError) throw new VswitchError('state-locked', `${dir}: the daemon (process ${err.pid}) is running on this state: stop it first — reset is for a stopped daemon`);
    throw err;
  }
  try {
    let counted: Pick<StateResetResult, 'records' | 'unreadable'>;
    try {
      counted = { records: decodeJournal(bytes, { file, resetHint: '' }).table.size };
    } catch (err) {
      counted = { unreadable: (err as VswitchError & { problem?: string }).problem ?? (err as Error).message };
    }
    const setAside = await freeName(`${file}.reset-${new Date(nowMs).toISOString().replace(/[:.]/g, '-')}`);
    await rename(file, setAside);
    const handle = await open(dir, 'r');
    await handle.sync().finally(() => handle.close());
    return { dir, setAside, ...counted };
  } finally {
    await lock.release();
  }
}

/** `name`, or `name-2`, `name-3`… when it is taken: an earlier reset's journal is never overwritten. */
async function freeName(name: string): Promise<string> {
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? name : `${name}-${n}`;
    const taken = await access(candidate).then(() => true, () => false);
    if (!taken) return candidate;
  }
}

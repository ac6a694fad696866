/**
 * Small files that must survive a crash whole: written to a temporary file beside the target, fsync'ed, renamed
 * over it, and the directory fsync'ed, so a reader (the next start) finds the old content or the new one, never a
 * torn mix. Reads are bounded: a state file larger than its bound is an error naming it, not a read of gigabytes.
 */
import { closeSync, fchmodSync, fchownSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { VswitchError } from '../errors.js';

/** A state file that cannot be read, or does not hold what it should. */
export class StateFileError extends VswitchError {
  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super('state-file-invalid', `${file}: ${problem} (move it away to start without it, or restore it from a backup)`, options);
  }
}

/** Writes `data` to `file` atomically with `mode` (default 0600), owned by group `gid` when given. */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600, gid?: number): void {
  const dir = dirname(file);
  const temp = join(dir, `.${file.slice(dir.length + 1)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', mode);
  try {
    // Group and mode before a byte is written, so the content is never readable by more than it should be.
    if (gid !== undefined) fchownSync(fd, -1, gid);
    fchmodSync(fd, mode);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(temp, file);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
  syncDirectory(dir);
}

/** The file's text, or undefined when it does not exist; larger than `maxBytes`: StateFileError. */
export function readBoundedFile(file: string, maxBytes: number): string | undefined {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StateFileError(file, `cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
  }
  if (size > maxBytes) throw new StateFileError(file, `is ${size} bytes, more than the ${maxBytes} it may hold`);
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new StateFileError(file, `cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
  }
}

/** Creates the directory (and its parents) with mode 0700 where it does not exist. */
export function ensurePrivateDirectory(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on a directory; the rename itself is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

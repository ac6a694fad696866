/**
 * Crash-only (Candea & Fox): the daemon has no "recover in place" path. An error nobody caught — an exception thrown
 * in a timer or a callback, a promise rejected with no handler — means its memory can no longer be trusted, so it is
 * logged with its stack and the process exits at once with CRASH_EXIT_CODE; the service manager (systemd
 * `Restart=on-failure`, the lab's restart) starts it again and the saved state (switch/state/) brings back every
 * acknowledged change. Nothing is cleaned up on the way out: what the kernel does not close with the process (TAPs,
 * sockets and the state journal's descriptors all go with it) the next start copes with — a torn last write of the
 * journal included.
 */
import type { Logger } from '../switch/log.js';

/** EX_SOFTWARE (sysexits.h): an internal error. */
export const CRASH_EXIT_CODE = 70;

export function installCrashHandlers(log: Logger, exit: (code: number) => void = (code) => process.exit(code)): void {
  process.on('uncaughtException', (err) => crash(log, 'uncaught exception', err, exit));
  process.on('unhandledRejection', (reason) => crash(log, 'unhandled promise rejection', reason, exit));
}

function crash(log: Logger, what: string, thrown: unknown, exit: (code: number) => void): void {
  const err = thrown instanceof Error ? thrown : new Error(`a non-Error was thrown: ${String(thrown)}`);
  try {
    log.error(`${what}: exiting (crash-only: the service manager restarts the daemon and its saved state comes back)`, { err, stack: err.stack ?? String(err), exitCode: CRASH_EXIT_CODE });
  } catch {
    // The log itself failed: the stack still goes out, unformatted.
    process.stderr.write(`vswitch: ${what}: ${err.stack ?? String(err)}\n`);
  }
  exit(CRASH_EXIT_CODE);
}

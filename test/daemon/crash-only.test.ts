/**
 * Crash-only: an error nobody catches — thrown in a timer, or a promise rejected with no handler — is logged with
 * its stack and ends the process with CRASH_EXIT_CODE, so the service manager restarts it on its saved state. Run
 * in a child process (the real handlers on the real logger), since the crash must end a process.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CRASH_EXIT_CODE } from '../../daemon/crash-only.js';
import { transpiled } from '../support/transpiled.js';

const dir = transpiled(['daemon/crash-only.ts', 'switch/log.ts']);

function runChild(name: string, body: string, withHandlers = true): { status: number | null; stderr: string; lines: Record<string, unknown>[] } {
  const file = join(dir, `${name}.mjs`);
  writeFileSync(
    file,
    [
      "import { installCrashHandlers } from './daemon/crash-only.js';",
      "import { createLogger } from './switch/log.js';",
      withHandlers ? "installCrashHandlers(createLogger({ pretty: false }, { daemon: 'h1' }));" : 'void installCrashHandlers, createLogger;',
      'setInterval(() => {}, 1000); // alive until something ends it',
      body,
    ].join('\n'),
  );
  const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 10_000 });
  const lines = r.stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { status: r.status, stderr: r.stderr, lines };
}

describe('crash-only', () => {
  it('an exception thrown in a timer: logged with its stack, and the process exits non-zero', () => {
    const { status, lines } = runChild('timer', "setTimeout(function housekeepingThatThrows() { throw new Error('boom in a timer'); }, 5);");
    expect(status).toBe(CRASH_EXIT_CODE);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'error', daemon: 'h1', msg: expect.stringContaining('uncaught exception: exiting'), err: { name: 'Error', message: 'boom in a timer' } });
    expect(lines[0]!.stack).toMatch(/^Error: boom in a timer\n\s+at Timeout\.housekeepingThatThrows /);
  });

  it('a promise rejected with no handler: the same', () => {
    const { status, lines } = runChild('rejection', "setTimeout(() => { void Promise.reject(new RangeError('nobody awaited this')); }, 5);");
    expect(status).toBe(CRASH_EXIT_CODE);
    expect(lines[0]).toMatchObject({ msg: expect.stringContaining('unhandled promise rejection: exiting'), err: { name: 'RangeError', message: 'nobody awaited this' } });
    expect(lines[0]!.stack).toContain('RangeError: nobody awaited this');
  });

  it('a thrown non-Error is reported too (with a stack made where it was caught)', () => {
    const { status, lines } = runChild('non-error', "setTimeout(() => { throw 'a string'; }, 5);");
    expect(status).toBe(CRASH_EXIT_CODE);
    expect(lines[0]).toMatchObject({ err: { message: 'a non-Error was thrown: a string' } });
  });

  it('the handlers are what logs and exits: without them the same child dies with Node\'s own exit code and no log line', () => {
    const { status, lines, stderr } = runChild('bare', "setTimeout(function housekeepingThatThrows() { throw new Error('boom in a timer'); }, 5);", false);
    expect(status).toBe(1);
    expect(lines).toEqual([]);
    expect(stderr).toContain('boom in a timer');
  });
});

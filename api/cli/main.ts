#!/usr/bin/env node
/**
 * The `vswitch` entry point: runs the command tree (api/cli/program.ts) on
 * process.argv and turns failures into one line on stderr and an exit code:
 * 0 ok, 1 the daemon refused or could not be reached (the problem's detail
 * is printed) or a checked file has problems (`up --check`, `topology check`),
 * 2 bad usage or a bad config file; `vswitch join` has one code per refusal (JOIN_EXIT_CODES).
 */
import { CommanderError } from 'commander';
import { VswitchError } from '../../switch/errors.js';
import { JOIN_EXIT_CODES } from '../../switch/join/join-errors.js';
import { CheckFailedError } from './check.js';
import type { CliIo } from './common.js';
import { createProgram } from './program.js';

const io: CliIo = {
  out: (text) => process.stdout.write(text + '\n'),
  err: (text) => process.stderr.write(text + '\n'),
  nowMs: () => Date.now(),
};

createProgram(io)
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
    if (err instanceof CheckFailedError) process.exit(1); // its problems are printed already
    if (err instanceof VswitchError) {
      io.err(`vswitch: ${err.message}`);
      process.exit(JOIN_EXIT_CODES[err.code] ?? (err.code === 'config-invalid' ? 2 : 1));
    }
    io.err(`vswitch: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  });

/**
 * The checks that need no daemon: `vswitch up --check -c FILE` (a daemon's config) and `vswitch topology check
 * FILE` (an overlay description). Each prints what `vswitch up` or the Proxy would refuse the file for, in their
 * words (`file:line:col: …`, every problem of a description on its own line, its warnings after), or one line
 * saying it is OK — and opens nothing: no socket, no device, no addon. A file that fails is exit 1
 * (CheckFailedError: already printed, api/cli/main.ts only sets the code).
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { VswitchError } from '../../switch/errors.js';
import { checkTopology } from '../../switch/topology/check.js';
import { formatProblem, TopologySyntaxError } from '../../switch/topology/errors.js';
import { parseTopology } from '../../switch/topology/parser.js';
import type { CliIo } from './common.js';

/** A checked file has problems; they are printed already. Exit 1. */
export class CheckFailedError extends VswitchError {
  constructor(file: string, problems: number) {
    super('check-failed', `${file}: ${problems} problem${problems === 1 ? '' : 's'}`);
  }
}

/** As `vswitch up -c FILE` reads it, with every plugin's section; the daemon's code is loaded only here. */
export async function checkConfigFile(file: string, io: CliIo): Promise<void> {
  const { checkDaemonConfigFile } = await import('../../daemon/config-check.js');
  try {
    io.out(checkDaemonConfigFile(file));
  } catch (err) {
    if (!(err instanceof VswitchError) || err.code !== 'config-invalid') throw err;
    io.err(err.message);
    throw new CheckFailedError(file, 1);
  }
}

/** As `vswitch topology apply FILE` would have the Proxy check it (named by its base name, as apply sends it). */
export async function checkTopologyFile(path: string, io: CliIo): Promise<void> {
  const file = basename(path);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    io.err(`${path}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    throw new CheckFailedError(path, 1);
  }
  let overlay;
  try {
    overlay = parseTopology(text, file);
  } catch (err) {
    if (!(err instanceof TopologySyntaxError)) throw err;
    io.err(err.message);
    throw new CheckFailedError(file, 1);
  }
  const { problems, warnings } = checkTopology(overlay, file);
  for (const p of problems) io.err(formatProblem(p));
  for (const w of warnings) io.err(`warning: ${formatProblem(w)}`);
  if (problems.length > 0) throw new CheckFailedError(file, problems.length);
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const proxy = overlay.hosts.find((h) => h.isProxy)!.name;
  io.out(`${file}: OK: ${count(overlay.hosts.length, 'host')} (proxy "${proxy}"), ${count(overlay.links.length, 'link')}, ${count(overlay.rules.length, 'rule')}${warnings.length > 0 ? `, ${count(warnings.length, 'warning')}` : ''}`);
}

/**
 * `vswitch install-service`: installs the systemd unit the package ships (packaging/systemd/vswitch@.service) with
 * its ExecStart pointing at this installation — this Node and this package's bin/vswitch.js, absolute, so the unit
 * does not depend on PATH — and the sysusers.d file that makes its user; then prints what is left to do. It writes
 * those two files and nothing else, and runs no other program. `--print` prints the unit instead of writing it.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { VswitchError } from '../../switch/errors.js';
import { packageRoot } from '../package-files.js';
import type { CliIo } from './common.js';

export const UNIT_FILE = 'packaging/systemd/vswitch@.service';
export const SYSUSERS_FILE = 'packaging/sysusers.d/vswitch.conf';
export const UNIT_NAME = 'vswitch@.service';

export class ServiceInstallError extends VswitchError {
  constructor(what: string, why: string, where: string, cause?: unknown) {
    super('service-install', `${what}: ${why} (${where})`, { cause });
  }
}

/** One word of an ExecStart= line: systemd's specifiers (%) and variables ($) escaped, quoted when it has blanks. */
export function systemdWord(word: string): string {
  const escaped = word.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (!/[\s"'\\;]/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * The unit with the program of its one ExecStart= line replaced by `program` (its words), the arguments kept.
 * The template's program is one word (the shipped one is /usr/bin/vswitch).
 */
export function unitWithProgram(unit: string, program: readonly string[]): string {
  const lines = unit.split('\n');
  const at = lines.flatMap((line, i) => (/^ExecStart=/.test(line) ? [i] : []));
  if (at.length !== 1) throw new ServiceInstallError('cannot install the unit', `it has ${at.length} ExecStart= lines, not one`, UNIT_FILE);
  const [, args = ''] = /^ExecStart=\S+(.*)$/.exec(lines[at[0]!]!) ?? [];
  lines[at[0]!] = `ExecStart=${program.map(systemdWord).join(' ')}${args}`;
  return lines.join('\n');
}

// The unit's sandbox hides these from the service: ProtectHome=yes and PrivateTmp=yes.
const HIDDEN = [
  { prefix: ['/home/', '/root/', '/run/user/'], by: 'ProtectHome=yes' },
  { prefix: ['/tmp/', '/var/tmp/'], by: 'PrivateTmp=yes' },
];

/** Warnings for paths of this installation that the service would not see (an npm prefix under a home, say). */
export function sandboxWarnings(paths: readonly string[]): string[] {
  return paths.flatMap((path) =>
    HIDDEN.filter((h) => h.prefix.some((p) => path.startsWith(p))).map(
      (h) => `warning: ${path} is hidden from the service by ${h.by}: install vswitch with a system Node (npm install -g as root)`,
    ),
  );
}

export interface InstallServiceOptions {
  unitDir: string;
  sysusersDir: string;
  print?: boolean;
}

export function installService(io: CliIo, opts: InstallServiceOptions, root = packageRoot(), node = process.execPath): void {
  const program = [node, join(root, 'bin/vswitch.js')];
  const unit = unitWithProgram(readFileSync(join(root, UNIT_FILE), 'utf8'), program);
  if (opts.print) {
    io.out(unit.replace(/\n$/, ''));
    return;
  }
  for (const warning of sandboxWarnings(program)) io.err(warning);
  const unitPath = join(opts.unitDir, UNIT_NAME);
  const sysusersPath = join(opts.sysusersDir, 'vswitch.conf');
  write(unitPath, () => {
    mkdirSync(opts.unitDir, { recursive: true });
    writeFileSync(unitPath, unit, { mode: 0o644 });
  });
  write(sysusersPath, () => {
    mkdirSync(opts.sysusersDir, { recursive: true });
    copyFileSync(join(root, SYSUSERS_FILE), sysusersPath);
  });
  io.out(`wrote ${unitPath} (ExecStart=${program.join(' ')} up -c /etc/vswitch/%i.yaml)`);
  io.out(`wrote ${sysusersPath}`);
  io.out(NEXT_STEPS);
}

const NEXT_STEPS = `next, for a daemon named h1 (as root):
  systemd-sysusers                                   # creates the user vswitch
  systemctl daemon-reload
  install -d -m 0750 -g vswitch /etc/vswitch
  install -m 0640 -g vswitch h1.yaml /etc/vswitch/   # privateKeyFile: /etc/vswitch/h1.key
  (umask 027; vswitch genkey > /etc/vswitch/h1.key) && chgrp vswitch /etc/vswitch/h1.key
  systemctl enable --now vswitch@h1                  # journalctl -u vswitch@h1 for its log`;

function write(path: string, action: () => void): void {
  try {
    action();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    const why = code === 'EACCES' || code === 'EPERM' ? `permission denied (${code}): run as root, or choose the directory` : code;
    throw new ServiceInstallError('cannot install the service', why, path, err);
  }
}

export function installServiceCommand(io: CliIo): Command {
  return new Command('install-service')
    .description('install the systemd unit vswitch@.service (for /etc/vswitch/NAME.yaml) and its user, then say what is left')
    .option('--unit-dir <dir>', 'where the unit goes', '/etc/systemd/system')
    .option('--sysusers-dir <dir>', 'where the sysusers.d file (the user vswitch) goes', '/etc/sysusers.d')
    .option('--print', 'print the unit (with this installation\'s ExecStart) instead of writing anything')
    .action((opts: InstallServiceOptions) => installService(io, opts));
}

/**
 * The `vswitch` command tree. `up` runs a daemon; `genkey`/`pubkey` make
 * keys; `install-service` installs the systemd unit; every other command is
 * an HTTP client of a daemon's API (like `wg` and `ovs-vsctl` talk to theirs)
 * and wraps exactly one API call, or two for `status --host`. Output goes
 * through `io` and commander never exits the process itself (exitOverride),
 * so tests drive the real program.
 */
import { Command } from 'commander';
import { checkConfigFile } from './check.js';
import type { CliIo } from './common.js';
import { configTimeCommand, hostsCommand, ifaceCommand, macsCommand, statusCommand } from './daemon-commands.js';
import { installServiceCommand } from './install-service.js';
import { runGenkey, runPubkey } from './keys.js';
import { linkCommand } from './link.js';
import { pluginsCommand } from './plugins.js';
import { portCommand } from './port.js';
import { ruleCommand } from './rule.js';
import { topologyCommand } from './topology.js';
import { vttifCommand } from './vttif.js';
import { stateCommand } from './state.js';
import { packageVersion } from '../package-files.js';

export function createProgram(io: CliIo): Command {
  const program = new Command('vswitch')
    .description('A userspace virtual Ethernet switch: VM overlays over WireGuard-protocol links')
    .version(packageVersion());

  program
    .command('up')
    .description('run a daemon with the given config until SIGINT/SIGTERM')
    .requiredOption('-c, --config <file>', 'YAML config file')
    .option('--no-offload', 'keep every frame in JS: no native flow offload (as `switch: { offload: false }`)')
    .option('--check', 'only read and check the config (every plugin\'s section), print OK or its problem, start nothing; exit 0 or 1')
    .option('--state-dir <dir>', "where run-time changes are saved (default: the config's stateDir, else /var/lib/vswitch/NAME)")
    .action(async (opts: { config: string; offload: boolean; check?: boolean; stateDir?: string }) => {
      if (opts.check) return checkConfigFile(opts.config, io);
      // The daemon is loaded only for `up`: every other command is a small HTTP client.
      const { runUp } = await import('../../daemon/up.js');
      await runUp(opts.config, { offload: opts.offload, ...(opts.stateDir === undefined ? {} : { stateDir: opts.stateDir }) });
    });
  program.command('genkey').description('print a new Curve25519 private key (base64), as `wg genkey`').action(runGenkey);
  program.command('pubkey').description('read a private key on stdin, print its public key, as `wg pubkey`').action(runPubkey);

  for (const command of [statusCommand(io), portCommand(io), linkCommand(io), ruleCommand(io), ifaceCommand(io), configTimeCommand(io), hostsCommand(io), macsCommand(io), topologyCommand(io), vttifCommand(io), pluginsCommand(io), installServiceCommand(io), stateCommand(io)]) {
    program.addCommand(command);
  }
  configureTree(program, io);
  return program;
}

/** commander copies settings only to commands made with .command(), so set them on the whole tree. */
function configureTree(command: Command, io: CliIo): void {
  command
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) });
  for (const sub of command.commands) configureTree(sub, io);
}

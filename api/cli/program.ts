/**
 * The `vswitch` command tree. `up` runs a daemon; `join` joins an overlay with
 * a token (and runs the daemon with --up); `genkey`/`pubkey` make
 * keys; `install-service` installs the systemd unit; every other command is
 * an HTTP client of a daemon's API (like `wg` and `ovs-vsctl` talk to theirs)
 * and wraps exactly one API call, or two for `status --host`. Output goes
 * through `io` and commander never exits the process itself (exitOverride),
 * so tests drive the real program.
 */
import { Command } from 'commander';
import { checkConfigFile } from './check.js';
import { parseInteger, type CliIo } from './common.js';
import { configTimeCommand, hostsCommand, ifaceCommand, macsCommand, statusCommand } from './daemon-commands.js';
import { installServiceCommand } from './install-service.js';
import { joinedHostCommand, joinTokenCommand } from './join-token.js';
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
  program
    .command('join')
    .description('join an overlay with a token from its Proxy (`vswitch join-token create` there): writes this host\'s key and config, and with --up runs it')
    .argument('<token>', 'the join token (vsj1.…)')
    .option('--name <name>', "this host's name (default: the one the token is for, else this machine's hostname)")
    .option('--key <file>', 'the private key file: used if it exists, else a new key is written there (default: next to the config, NAME.key)')
    .option('--config <file>', 'the config file to write (default /etc/vswitch/NAME.yaml)')
    .option('--tap <name>', 'a VM port: a TAP device the daemon creates (repeatable)', (value: string, previous: string[]) => [...previous, value], [] as string[])
    .option('--mtu <bytes>', "the TAP ports' MTU", parseInteger, 1500)
    .option('--listen <ip:port>', "where this host's links listen (UDP, and TCP for the fallback)", '0.0.0.0:51820')
    .option('--api-listen <address>', "this host's API: IP:PORT or unix:/path", '127.0.0.1:7000')
    .option('--group <group>', 'a group that may read the config and key too (0640; the systemd unit runs as group vswitch)')
    .option('--up', 'then run the daemon in the foreground, as `vswitch up -c CONFIG`')
    .option('--no-offload', 'with --up: no native flow offload')
    .action(async (token: string, opts: { name?: string; key?: string; config?: string; tap: string[]; mtu: number; listen: string; apiListen: string; group?: string; up?: boolean; offload: boolean }) => {
      // As `up`, the daemon side is loaded only for `join`.
      const { runJoin } = await import('../../daemon/join.js');
      await runJoin(token, { ...opts, up: opts.up === true }, io);
    });
  program.command('genkey').description('print a new Curve25519 private key (base64), as `wg genkey`').action(runGenkey);
  program.command('pubkey').description('read a private key on stdin, print its public key, as `wg pubkey`').action(runPubkey);

  for (const command of [statusCommand(io), portCommand(io), linkCommand(io), ruleCommand(io), ifaceCommand(io), configTimeCommand(io), hostsCommand(io), macsCommand(io), topologyCommand(io), vttifCommand(io), pluginsCommand(io), joinTokenCommand(io), joinedHostCommand(io), installServiceCommand(io), stateCommand(io)]) {
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

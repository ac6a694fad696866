#!/usr/bin/env node
/**
 * The `vswitch` command. `up` runs a daemon; every other command is an HTTP
 * client of a daemon's API (like `wg` and `ovs-vsctl` talk to theirs).
 */
import { Command, Option } from 'commander';
import { apiRequest, ApiClientError } from './client.js';
import type { MacEntry, Status } from './schemas.js';
import { formatTable } from './table.js';
import { packageVersion } from './package-files.js';
import { runUp } from './cli-up.js';
import { VswitchError } from '../switch/errors.js';
import { runGenkey, runPubkey } from './cli-keys.js';

const program = new Command('vswitch')
  .description('A userspace virtual Ethernet switch: VM overlays over WireGuard-protocol links')
  .version(packageVersion())
  .showHelpAfterError();

const apiOption = (): Option =>
  new Option('--api <url>', 'daemon API: http://HOST:PORT or unix:/path').env('VSWITCH_API').default('http://127.0.0.1:7000');
const jsonOption = (): Option => new Option('--json', 'print JSON for scripts');

program
  .command('up')
  .description('run a daemon with the given config until SIGINT/SIGTERM')
  .requiredOption('-c, --config <file>', 'YAML config file')
  .action(async (opts: { config: string }) => {
    await runUp(opts.config);
  });

program.command('genkey').description('print a new Curve25519 private key (base64), as `wg genkey`').action(runGenkey);
program.command('pubkey').description('read a private key on stdin, print its public key, as `wg pubkey`').action(runPubkey);

program
  .command('status')
  .description("show the daemon's ports and MAC table")
  .addOption(apiOption())
  .addOption(jsonOption())
  .action(async (opts: { api: string; json?: boolean }) => {
    const s = await apiRequest<Status>({ base: opts.api }, 'GET', '/v1/status');
    if (opts.json) return print(JSON.stringify(s, null, 2));
    print(`${s.name} (${s.role}) vswitch ${s.version}, up ${s.uptimeS} s`);
    print(`MAC table: ${s.macTable.entries} entries (learned ${s.macTable.learned}, moved ${s.macTable.moved}, expired ${s.macTable.expired})\n`);
    print(
      formatTable(
        ['PORT', 'KIND', 'STATE', 'RX FRAMES', 'RX BYTES', 'TX FRAMES', 'TX BYTES', 'DROPS'],
        s.ports.map((p) => [p.name, p.kind, p.state, p.rxFrames, p.rxBytes, p.txFrames, p.txBytes, formatDrops(p.drops)]),
      ),
    );
    if (s.links.length === 0) return;
    print('');
    print(
      formatTable(
        ['LINK', 'STATE', 'TRANSPORT', 'ENDPOINT', 'LAST HANDSHAKE', 'RX BYTES', 'TX BYTES', 'DROPS'],
        s.links.map((l) => [
          l.name,
          l.state,
          l.mode === 'auto' ? `${l.transport} (auto)` : l.transport,
          l.endpoint ?? '-',
          l.lastHandshakeAt ? `${Math.round((Date.now() - Date.parse(l.lastHandshakeAt)) / 1000)} s ago` : 'never',
          l.rxBytes,
          l.txBytes,
          formatDrops(l.drops),
        ]),
      ),
    );
  });

program
  .command('macs')
  .description('show the MAC learning table')
  .addOption(apiOption())
  .addOption(jsonOption())
  .action(async (opts: { api: string; json?: boolean }) => {
    const { macs } = await apiRequest<{ macs: MacEntry[] }>({ base: opts.api }, 'GET', '/v1/macs');
    if (opts.json) return print(JSON.stringify(macs, null, 2));
    print(formatTable(['MAC', 'PORT', 'STATIC', 'AGE S'], macs.map((m) => [m.mac, m.port, m.static ? 'yes' : 'no', m.ageS])));
  });

function formatDrops(drops: Record<string, number>): string {
  const parts = Object.entries(drops).filter(([, n]) => n > 0).map(([reason, n]) => `${reason}=${n}`);
  return parts.length === 0 ? '-' : parts.join(',');
}

function print(text: string): void {
  process.stdout.write(text + '\n');
}

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof VswitchError || err instanceof ApiClientError) {
    process.stderr.write(`vswitch: ${err.message}\n`);
    process.exit(err.code === 'config-invalid' ? 2 : 1);
  }
  process.stderr.write(`vswitch: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});

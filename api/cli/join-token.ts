/**
 * Joining from the command line, on the Proxy (clients of its API, like every command but `up` and `join`):
 *   vswitch join-token create [--expires 1h] [--name h9]   prints the token (alone on stdout: TOKEN=$(…))
 *   vswitch join-token list                                 id, name, state, created, expires, used by (no secrets)
 *   vswitch join-token revoke ID
 *   vswitch joined-host list                                the hosts that joined
 *   vswitch joined-host remove NAME                         forget one, and delete its star link
 * The new host's side, `vswitch join TOKEN`, is program.ts's (it runs the daemon with --up).
 */
import { Command, InvalidArgumentError } from 'commander';
import type { components } from '../generated/openapi.js';
import { ApiTarget, emit, withApiOptions, type ApiOptions, type CliIo } from './common.js';
import { formatTable } from './table.js';

type JoinToken = components['schemas']['JoinToken'];
type JoinTokenCreated = components['schemas']['JoinTokenCreated'];
type JoinedHost = components['schemas']['JoinedHost'];

const UNIT_S: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** "90s", "10m", "1h", "7d", "1h30m", or plain seconds → seconds. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const parts = [...trimmed.matchAll(/(\d+)([smhd])/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== trimmed) throw new InvalidArgumentError('must be a duration such as 90s, 10m, 1h, 7d or 1h30m');
  return parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_S[p[2]!]!, 0);
}

export function formatJoinTokens(tokens: readonly JoinToken[]): string {
  return formatTable(
    ['ID', 'NAME', 'STATE', 'CREATED', 'EXPIRES', 'USED BY', 'BY'],
    tokens.map((t) => [t.id, t.name ?? '-', t.state, t.createdAt, t.expiresAt, t.usedBy ? `${t.usedBy} (${t.usedAt ?? '?'})` : '-', t.createdBy]),
  );
}

export function formatJoinedHosts(hosts: readonly JoinedHost[]): string {
  return formatTable(
    ['HOST', 'PUBLIC KEY', 'ENDPOINT', 'JOINED', 'TOKEN'],
    hosts.map((h) => [h.name, h.publicKey, h.endpoint ?? '-', h.joinedAt, h.token]),
  );
}

export function joinTokenCommand(io: CliIo): Command {
  const cmd = new Command('join-token').description('on the Proxy: tokens with which a new host joins the overlay (`vswitch join TOKEN` there)');
  withApiOptions(
    cmd
      .command('create')
      .description('create a single-use join token; prints it (shown once)')
      .option('--expires <duration>', 'how long it is good for: 90s, 10m, 1h, 7d (default 1h, at most 7d)', parseDuration)
      .option('--name <host>', 'only a host of this name may join with it'),
    { host: false },
  ).action(async (opts: ApiOptions & { expires?: number; name?: string }) => {
    const created = await new ApiTarget(opts).request<JoinTokenCreated>('POST', '/join-tokens', {
      ...(opts.name === undefined ? {} : { name: opts.name }),
      ...(opts.expires === undefined ? {} : { expiresInS: opts.expires }),
    });
    if (opts.json) return emit(io, opts, created, () => '');
    io.out(created.token);
    io.err(`join token ${created.id}${created.name ? ` for host ${created.name}` : ''}, good once until ${created.expiresAt}; on the new host: vswitch join TOKEN${created.name ? '' : ' --name NAME'} --up`);
  });
  withApiOptions(cmd.command('list').alias('ls').description('every token the Proxy remembers: live, used, revoked, expired (never a secret)'), { host: false }).action(async (opts: ApiOptions) => {
    const { tokens } = await new ApiTarget(opts).request<{ tokens: JoinToken[] }>('GET', '/join-tokens');
    emit(io, opts, tokens, () => formatJoinTokens(tokens));
  });
  withApiOptions(cmd.command('revoke').description('revoke a live token').argument('<id>', 'the token id, as listed'), { host: false }).action(async (id: string, opts: ApiOptions) => {
    const token = await new ApiTarget(opts).request<JoinToken>('DELETE', `/join-tokens/${encodeURIComponent(id)}`);
    emit(io, opts, token, () => `join token ${token.id} revoked`);
  });
  return cmd;
}

export function joinedHostCommand(io: CliIo): Command {
  const cmd = new Command('joined-host').description('on the Proxy: the hosts that joined with a token');
  withApiOptions(cmd.command('list', { isDefault: true }).alias('ls').description('the joined hosts'), { host: false }).action(async (opts: ApiOptions) => {
    const { hosts } = await new ApiTarget(opts).request<{ hosts: JoinedHost[] }>('GET', '/joined-hosts');
    emit(io, opts, hosts, () => formatJoinedHosts(hosts));
  });
  withApiOptions(cmd.command('remove').alias('rm').description('forget a joined host and delete its star link').argument('<name>', 'the host'), { host: false }).action(async (name: string, opts: ApiOptions) => {
    await new ApiTarget(opts).request('DELETE', `/joined-hosts/${encodeURIComponent(name)}`);
    emit(io, opts, { removed: name }, () => `joined host ${name} removed`);
  });
  return cmd;
}

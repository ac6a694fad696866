/** `vswitch link add|del|list`: the add/delete/list link primitives. */
import { Command, Option } from 'commander';
import { ApiTarget, emit, parseInteger, withApiOptions, type ApiOptions, type CliIo } from './common.js';
import { formatLinks } from './tables.js';
import type { LinkInputBody, LinkStatusBody } from '../wire/schemas.js';

interface LinkAddOptions extends ApiOptions {
  publicKey: string;
  endpoint?: string;
  tcpEndpoint?: string;
  transport?: 'udp' | 'tcp' | 'auto';
  keepalive?: number;
}

export function linkCommand(io: CliIo): Command {
  const link = new Command('link').description('add, delete and list links to peer daemons');

  withApiOptions(
    link
      .command('add')
      .description('add a link to a peer daemon (the peer must list this daemon too)')
      .argument('<name>', 'link name')
      .requiredOption('--public-key <key>', "the peer's public key (base64, as `vswitch pubkey` prints)")
      .option('--endpoint <ip:port>', "the peer's UDP endpoint (and TCP, unless --tcp-endpoint)")
      .option('--tcp-endpoint <ip:port>', "the peer's TCP endpoint")
      .addOption(new Option('--transport <mode>', 'udp, tcp, or udp with tcp fallback').choices(['udp', 'tcp', 'auto']))
      .option('--keepalive <seconds>', 'persistent keepalive interval', parseInteger),
  ).action(async (name: string, opts: LinkAddOptions) => {
    const body: LinkInputBody = {
      name,
      publicKey: opts.publicKey,
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      ...(opts.tcpEndpoint ? { tcpEndpoint: opts.tcpEndpoint } : {}),
      ...(opts.transport ? { transport: opts.transport } : {}),
      ...(opts.keepalive !== undefined ? { persistentKeepaliveS: opts.keepalive } : {}),
    };
    const added = await new ApiTarget(opts).request<LinkStatusBody>('POST', '/links', body);
    emit(io, opts, added, () => `link ${added.name} added (${added.state})\n${formatLinks([added], io.nowMs())}`);
  });

  withApiOptions(link.command('del').alias('delete').description('delete a link').argument('<name>', 'link name')).action(
    async (name: string, opts: ApiOptions) => {
      await new ApiTarget(opts).request('DELETE', `/links/${encodeURIComponent(name)}`);
      emit(io, opts, { deleted: name }, () => `link ${name} deleted`);
    },
  );

  withApiOptions(link.command('list').alias('ls').description('list links')).action(async (opts: ApiOptions) => {
    const { links } = await new ApiTarget(opts).request<{ links: LinkStatusBody[] }>('GET', '/links');
    emit(io, opts, links, () => formatLinks(links, io.nowMs()));
  });
  return link;
}

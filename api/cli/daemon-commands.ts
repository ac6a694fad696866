/**
 * The read-mostly commands: `status`, `macs`, `iface list`, `config-time
 * get|set`, and `hosts` (the Proxy's view of its hosts).
 */
import { Command } from 'commander';
import { ApiTarget, emit, parseInteger, withApiOptions, type ApiOptions, type CliIo } from './common.js';
import { formatHosts, formatInterfaces, formatLinks, formatMacs, formatStatus } from './tables.js';
import type { ConfigTime, HostSummary, InterfaceStatus, LinkStatusBody, MacEntry, Status } from '../wire/schemas.js';

export function statusCommand(io: CliIo): Command {
  return withApiOptions(new Command('status').description("show the daemon's ports, links and MAC table (with --host: a host's, via the Proxy)")).action(
    async (opts: ApiOptions) => {
      const target = new ApiTarget(opts);
      if (opts.host === undefined) {
        const status = await target.request<Status>('GET', '/status');
        return emit(io, opts, status, () => formatStatus(status, io.nowMs()));
      }
      // A host's status through the Proxy is what its primitives list.
      const [{ interfaces }, { links }] = await Promise.all([
        target.request<{ interfaces: InterfaceStatus[] }>('GET', '/interfaces'),
        target.request<{ links: LinkStatusBody[] }>('GET', '/links'),
      ]);
      emit(io, opts, { name: opts.host, interfaces, links }, () =>
        [`${opts.host} (via the proxy)`, '', formatInterfaces(interfaces), ...(links.length > 0 ? ['', formatLinks(links, io.nowMs())] : [])].join('\n'),
      );
    },
  );
}

export function macsCommand(io: CliIo): Command {
  return withApiOptions(new Command('macs').description('show the MAC learning table'), { host: false }).action(async (opts: ApiOptions) => {
    const { macs } = await new ApiTarget(opts).request<{ macs: MacEntry[] }>('GET', '/macs');
    emit(io, opts, macs, () => formatMacs(macs));
  });
}

export function ifaceCommand(io: CliIo): Command {
  const iface = new Command('iface').description('list interfaces (ports and links with counters)');
  withApiOptions(iface.command('list').alias('ls').description('list interfaces')).action(async (opts: ApiOptions) => {
    const { interfaces } = await new ApiTarget(opts).request<{ interfaces: InterfaceStatus[] }>('GET', '/interfaces');
    emit(io, opts, interfaces, () => formatInterfaces(interfaces));
  });
  return iface;
}

export function configTimeCommand(io: CliIo): Command {
  const cmd = new Command('config-time').description('the upper bound on configuration time');
  withApiOptions(cmd.command('get').description('show the bound')).action(async (opts: ApiOptions) => {
    const bound = await new ApiTarget(opts).request<ConfigTime>('GET', '/config-time');
    emit(io, opts, bound, () => `${bound.upperBoundMs} ms`);
  });
  withApiOptions(cmd.command('set').description('set the bound').argument('<ms>', 'milliseconds', parseInteger)).action(async (ms: number, opts: ApiOptions) => {
    const bound = await new ApiTarget(opts).request<ConfigTime>('PUT', '/config-time', { upperBoundMs: ms });
    emit(io, opts, bound, () => `configuration time bound set to ${bound.upperBoundMs} ms`);
  });
  return cmd;
}

export function hostsCommand(io: CliIo): Command {
  return withApiOptions(new Command('hosts').description('on the Proxy: the hosts it knows'), { host: false }).action(async (opts: ApiOptions) => {
    const { hosts } = await new ApiTarget(opts).request<{ hosts: HostSummary[] }>('GET', '/hosts');
    emit(io, opts, hosts, () => formatHosts(hosts, io.nowMs()));
  });
}

/**
 * Plugins from the command line (against the Proxy):
 *   vswitch plugins [list]          every plugin: kind, state, events, what it owns, counters
 *   vswitch plugins show NAME       one plugin, with its own status (JSON)
 *   vswitch plugins enable NAME     / disable NAME (disabling removes every link and rule it owns)
 *   vswitch plugins remove NAME     unregister an HTTP policy (and remove what it owns)
 */
import { Command } from 'commander';
import { ApiTarget, emit, withApiOptions, type ApiOptions, type CliIo } from './common.js';
import type { components } from '../generated/openapi.js';
import { formatTable } from './table.js';

type Plugin = components['schemas']['Plugin'];

export function formatPlugins(plugins: readonly Plugin[]): string {
  return formatTable(
    ['PLUGIN', 'KIND', 'STATE', 'ACTOR', 'EVENTS', 'OWNS', 'DELIVERED', 'DROPPED', 'ERRORS', 'LAST ERROR'],
    plugins.map((p) => [
      p.name,
      p.kind === 'http' ? `http (${p.delivery?.type ?? 'sse'})` : p.kind,
      p.state,
      p.actor ?? '-',
      p.events.length > 0 ? p.events.join(',') : '-',
      `${p.owns.links} links, ${p.owns.rules} rules`,
      p.counters.delivered,
      p.counters.dropped,
      p.counters.errors,
      p.lastError ?? '-',
    ]),
  );
}

export function pluginsCommand(io: CliIo): Command {
  const plugins = new Command('plugins').description('adaptation plugins on the Proxy: built-in, config modules, HTTP policies');
  const list = async (opts: ApiOptions): Promise<void> => {
    const body = await new ApiTarget(opts).request<{ plugins: Plugin[] }>('GET', '/plugins');
    emit(io, opts, body, () => formatPlugins(body.plugins));
  };
  // `list` is the default: `vswitch plugins` alone lists (the options stay the subcommand's, not the parent's).
  withApiOptions(plugins.command('list', { isDefault: true }).description('every plugin: kind, state, events, what it owns, counters'), { host: false }).action(list);
  withApiOptions(plugins.command('show').argument('<name>').description("one plugin, with its own status (always JSON)"), { host: false }).action(
    async (name: string, opts: ApiOptions) => {
      const body = await new ApiTarget(opts).request<Plugin>('GET', `/plugins/${encodeURIComponent(name)}`);
      io.out(JSON.stringify(body, null, 2));
    },
  );
  for (const [verb, enabled] of [['enable', true], ['disable', false]] as const) {
    withApiOptions(
      plugins
        .command(verb)
        .argument('<name>')
        .description(enabled ? 'turn a plugin on (an HTTP policy gets its current-state events again)' : 'turn a plugin off: no more events, and every link and rule it owns is removed'),
      { host: false },
    ).action(async (name: string, opts: ApiOptions) => {
      const body = await new ApiTarget(opts).request<Plugin>('PATCH', `/plugins/${encodeURIComponent(name)}`, { enabled });
      emit(io, opts, body, () => `plugin ${body.name}: ${body.state}`);
    });
  }
  withApiOptions(plugins.command('remove').argument('<name>').description('unregister an HTTP policy; what it owns is removed'), { host: false }).action(
    async (name: string, opts: ApiOptions) => {
      await new ApiTarget(opts).request('DELETE', `/plugins/${encodeURIComponent(name)}`);
      emit(io, opts, { removed: name }, () => `plugin ${name}: removed`);
    },
  );
  return plugins;
}

/**
 * The durable state from the command line:
 *   vswitch state show [--json]                          what the running daemon saved, where each thing comes from
 *                                                       (config | state), and what its last restore skipped and why
 *   vswitch state reset (-c FILE | --state-dir DIR)      with the daemon STOPPED: set its state aside (kept as
 *                                                       state.journal.reset-TIME), so it next starts from its config
 * `show` is an API client like the other commands; `reset` works on the directory itself (it must work when the
 * daemon refuses to start on a corrupt state), so it loads the daemon's config code only when it runs.
 */
import { Command, Option } from 'commander';
import { ApiTarget, emit, withApiOptions, type ApiOptions, type CliIo } from './common.js';
import { formatTable } from './table.js';
import type { StateItem, StateView } from '../wire/schemas.js';

export function formatState(view: StateView): string {
  const head = view.persistent
    ? `${view.file}: ${view.records} records, ${view.bytes} bytes, ${view.entries} entries since the last compaction${view.tornBytesDropped > 0 ? `; a torn last entry of ${view.tornBytesDropped} bytes was dropped at start` : ''}`
    : 'memory only: this daemon saves nothing (started without a state directory)';
  const rows = view.items.map((i) => [i.kind, i.key, i.from, i.status, detail(i)]);
  return rows.length === 0 ? `${head}\n(nothing saved; everything comes from the config)` : `${head}\n\n${formatTable(['KIND', 'KEY', 'FROM', 'STATUS', 'DETAIL'], rows)}`;
}

function detail(item: StateItem): string {
  if (item.reason !== undefined) return item.reason;
  if (item.value === undefined) return '-';
  const text = JSON.stringify(item.value);
  return text.length > 100 ? `${text.slice(0, 97)}...` : text;
}

export function stateCommand(io: CliIo): Command {
  const state = new Command('state').description('the durable state: what is saved across restarts, and the way to start over');
  withApiOptions(state.command('show').description('what the daemon saved, where each thing comes from, what the last restore skipped'), { host: false }).action(
    async (opts: ApiOptions) => {
      const view = await new ApiTarget(opts).request<StateView>('GET', '/state');
      emit(io, opts, view, () => formatState(view));
    },
  );
  state
    .command('reset')
    .description("with the daemon stopped: set its saved state aside, so that it starts from its config alone")
    .addOption(new Option('-c, --config <file>', "the daemon's config file (its stateDir, or /var/lib/vswitch/NAME)"))
    .addOption(new Option('--state-dir <dir>', 'the state directory itself'))
    .addOption(new Option('--json', 'print JSON for scripts'))
    .action(async (opts: { config?: string; stateDir?: string; json?: boolean }) => {
      const { resetState, stateDirFor } = await import('../../daemon/state-reset.js');
      const result = await resetState(stateDirFor(opts), io.nowMs());
      emit(io, { api: '', ...(opts.json ? { json: true } : {}) }, result, () =>
        result.setAside === undefined
          ? `${result.dir}: no saved state: nothing to reset`
          : `state reset: ${result.setAside} set aside (${result.records !== undefined ? `${result.records} records` : `unreadable: ${result.unreadable}`}); the daemon starts from its config alone`,
      );
    });
  return state;
}

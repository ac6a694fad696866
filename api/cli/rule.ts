/** `vswitch rule add|del|list`: the add/delete/list forwarding rule primitives. */
import { Command } from 'commander';
import { ApiTarget, emit, parseInteger, withApiOptions, type ApiOptions, type CliIo } from './common.js';
import { formatRules } from './tables.js';
import type { RuleBody, RuleInputBody } from '../wire/schemas.js';

interface RuleAddOptions extends ApiOptions {
  src: string;
  dst: string;
  target: string;
  priority?: number;
}

export function ruleCommand(io: CliIo): Command {
  const rule = new Command('rule').description('add, delete and list forwarding rules');

  withApiOptions(
    rule
      .command('add')
      .description('add a forwarding rule: frames from SRC to DST leave by TARGET')
      .requiredOption('--src <mac|any>', 'source MAC, or any')
      .requiredOption('--dst <mac|any|none>', 'destination MAC, any, or none (the default rule of SRC)')
      .requiredOption('--target <name>', 'the port or link frames leave by')
      .option('--priority <n>', 'larger wins (default 0)', parseInteger),
  ).action(async (opts: RuleAddOptions) => {
    const body: RuleInputBody = {
      src: opts.src,
      dst: opts.dst,
      target: opts.target,
      ...(opts.priority !== undefined ? { priority: opts.priority } : {}),
    };
    const added = await new ApiTarget(opts).request<RuleBody>('POST', '/rules', body);
    emit(io, opts, added, () => `rule ${added.id} added\n${formatRules([added])}`);
  });

  withApiOptions(rule.command('del').alias('delete').description('delete a forwarding rule').argument('<id>', 'rule id, as listed', parseInteger)).action(
    async (id: number, opts: ApiOptions) => {
      await new ApiTarget(opts).request('DELETE', `/rules/${id}`);
      emit(io, opts, { deleted: id }, () => `rule ${id} deleted`);
    },
  );

  withApiOptions(rule.command('list').alias('ls').description('list forwarding rules with hit counters')).action(async (opts: ApiOptions) => {
    const { rules } = await new ApiTarget(opts).request<{ rules: RuleBody[] }>('GET', '/rules');
    emit(io, opts, rules, () => formatRules(rules));
  });
  return rule;
}

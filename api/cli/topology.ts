/**
 * `vswitch topology show|diff|apply|route|app|check`: the overlay description
 * tools, against the Proxy's API (`app`, VTTIF's topology: api/cli/vttif.ts; `check` needs no Proxy:
 * api/cli/check.ts). `show --format svg|png` asks for DOT and
 * renders it with Graphviz `dot` (Debian package graphviz) when installed.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { Command, Option } from 'commander';
import { ApiTarget, emit, withApiOptions, type ApiOptions, type CliIo } from './common.js';
import { addAppCommand } from './vttif.js';
import { checkTopologyFile } from './check.js';
import { GraphvizError, renderDot } from './graphviz.js';
import { apiRequest } from './client.js';
import type { components } from '../generated/openapi.js';

type Plan = components['schemas']['TopologyPlan'];
type Route = components['schemas']['Route'];

interface ShowOptions extends ApiOptions {
  format: 'text' | 'json' | 'dot' | 'svg' | 'png';
  output?: string;
}

export function topologyCommand(io: CliIo): Command {
  const topology = new Command('topology').description('the overlay description language and its tools (on the Proxy)');

  withApiOptions(
    topology
      .command('show')
      .description('fetch and display the current topology')
      .addOption(new Option('--format <format>', 'text (the language), json, dot, or svg/png (rendered by Graphviz dot)').choices(['text', 'json', 'dot', 'svg', 'png']).default('text'))
      .option('-o, --output <file>', 'write to FILE instead of standard output (required for png)'),
    { host: false },
  ).action(async (opts: ShowOptions) => {
    const target = new ApiTarget(opts);
    const wire = opts.format === 'svg' || opts.format === 'png' ? 'dot' : opts.json ? 'json' : opts.format;
    const body = await apiRequest<unknown>(target.client, 'GET', `/v1/topology?format=${wire}`);
    let out: string | Buffer = typeof body === 'string' ? body : JSON.stringify(body, null, 2);
    if (opts.format === 'svg' || opts.format === 'png') {
      if (opts.format === 'png' && !opts.output) throw new GraphvizError('--format png needs -o FILE');
      out = await renderDot(String(body), opts.format);
    }
    if (opts.output) await writeFile(opts.output, out);
    else io.out(String(out).replace(/\n$/, ''));
  });

  for (const verb of ['diff', 'apply'] as const) {
    withApiOptions(
      topology
        .command(verb)
        .description(verb === 'diff' ? 'show what applying FILE would change (changes nothing)' : 'bring every daemon to FILE: all or nothing, rolled back on failure')
        .argument('<file>', 'a description in the overlay language'),
      { host: false },
    ).action(async (file: string, opts: ApiOptions) => {
      const text = await readFile(file, 'utf8');
      const plan = await new ApiTarget(opts).request<Plan>('POST', `/topology/${verb}`, { text, file: basename(file) });
      emit(io, opts, plan, () => formatPlan(plan, verb));
    });
  }

  withApiOptions(
    topology
      .command('route')
      .description('the route a frame from SRC to DST takes, hop by hop, with the rule matched at each')
      .argument('<src>', 'source MAC')
      .argument('<dst>', 'destination MAC')
      .option('--from <host>', 'the host the frame enters at (default: where SRC is learned)'),
    { host: false },
  ).action(async (src: string, dst: string, opts: ApiOptions & { from?: string }) => {
    const query = new URLSearchParams({ src, dst, ...(opts.from ? { from: opts.from } : {}) });
    const route = await new ApiTarget(opts).request<Route>('GET', `/topology/route?${query.toString()}`);
    emit(io, opts, route, () => formatRoute(route));
  });

  topology
    .command('check')
    .description('check FILE as `apply` would have the Proxy check it, without a Proxy: print its problems or OK; exit 0 or 1')
    .argument('<file>', 'a description in the overlay language')
    .action((file: string) => checkTopologyFile(file, io));

  addAppCommand(topology, io);
  return topology;
}

export function formatPlan(plan: Plan, verb: 'diff' | 'apply'): string {
  const lines: string[] = [];
  if (plan.changes.length === 0) lines.push(verb === 'apply' ? 'nothing to change: the overlay already matches' : 'no differences');
  else lines.push(`${verb === 'apply' ? 'applied' : 'would apply'} ${plan.changes.length} change(s):`, ...plan.changes.map((c) => `  ${c.text}`));
  for (const c of plan.conflicts) lines.push(`conflict: ${c}`);
  for (const p of plan.pending) lines.push(`pending: ${p}`);
  for (const w of plan.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

export function formatRoute(route: Route): string {
  const lines = route.hops.map((h, i) => {
    const how = h.rule ? `${h.step} #${h.rule.id} (src ${h.rule.src} dst ${h.rule.dst} priority ${h.rule.priority}, owner ${h.rule.owner})` : h.step;
    const out = h.outPort ? ` → ${h.outPort}${h.next && h.next !== h.outPort ? ` (to ${h.next})` : ''}` : '';
    return `${i + 1}. ${h.host} (in ${h.inPort}): ${how}${out}${h.reason ? ` — ${h.reason}` : ''}`;
  });
  return [`${route.src} → ${route.dst}: ${route.outcome}`, ...lines].join('\n');
}


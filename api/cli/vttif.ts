/**
 * VTTIF from the command line (against the Proxy):
 *   vswitch topology app [--format text|json|dot|svg|png] [-o FILE] [--watch [--events N]]
 *   vswitch vttif params [--rate HZ] [--smoothing MS|derived] [--threshold T]
 * svg is drawn here (no Graphviz needed); png renders the DOT with Graphviz `dot`.
 */
import { writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { appTopologyToDot, appTopologyToSvg, formatAppTopology, type AppTopology } from '../wire/app-topology-format.js';
import { ApiTarget, emit, withApiOptions, type ApiOptions, type CliIo } from './common.js';
import { GraphvizError, renderDot } from './graphviz.js';
import { readEventStream } from '../wire/sse.js';
import type { components } from '../generated/openapi.js';

type VttifSettings = components['schemas']['VttifSettings'];
type AppFormat = 'text' | 'json' | 'dot' | 'svg' | 'png';

interface AppOptions extends ApiOptions {
  format: AppFormat;
  output?: string;
  watch?: boolean;
  events?: number;
}

/** The `app` subcommand of `vswitch topology`. */
export function addAppCommand(topology: Command, io: CliIo): void {
  withApiOptions(
    topology
      .command('app')
      .description('the application topology inferred by VTTIF (edges with intensities, and its shape)')
      .addOption(new Option('--format <format>', 'text, json, dot (penwidth = intensity), svg, or png (Graphviz dot)').choices(['text', 'json', 'dot', 'svg', 'png']).default('text'))
      .option('-o, --output <file>', 'write to FILE instead of standard output (required for png; with --watch, rewritten at each change)')
      .option('--watch', 'follow the change events (server-sent events) until interrupted')
      .addOption(new Option('--events <n>', 'with --watch: stop after N events').argParser(positiveInteger)),
    { host: false },
  ).action(async (opts: AppOptions) => {
    const target = new ApiTarget(opts);
    const format: AppFormat = opts.json ? 'json' : opts.format;
    if (format === 'png' && !opts.output) throw new GraphvizError('--format png needs -o FILE');
    const show = async (topology: AppTopology): Promise<void> => {
      const out = await render(topology, format);
      if (opts.output) await writeFile(opts.output, out);
      else io.out(String(out).replace(/\n$/, ''));
    };
    if (!opts.watch) return show(await target.request<AppTopology>('GET', '/vttif/topology'));
    let seen = 0;
    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    process.once('SIGINT', onSignal);
    let pending = Promise.resolve();
    try {
      await readEventStream(
        target.client,
        '/v1/vttif/events',
        (name, data) => {
          if (name !== 'topology') return true;
          const event = JSON.parse(data) as AppTopology;
          pending = pending.then(() => show(event));
          return opts.events === undefined || ++seen < opts.events;
        },
        stop.signal,
      );
      await pending;
    } finally {
      process.off('SIGINT', onSignal);
    }
  });
}

async function render(topology: AppTopology, format: AppFormat): Promise<string | Buffer> {
  switch (format) {
    case 'json':
      return JSON.stringify(topology, null, 2);
    case 'dot':
      return appTopologyToDot(topology);
    case 'svg':
      return appTopologyToSvg(topology);
    case 'png':
      return renderDot(appTopologyToDot(topology), 'png');
    case 'text':
      return formatAppTopology(topology);
  }
}

interface ParamsOptions extends ApiOptions {
  rate?: number;
  smoothing?: number | 'derived';
  threshold?: number;
}

export function vttifCommand(io: CliIo): Command {
  const vttif = new Command('vttif').description('VTTIF, the traffic inference (on the Proxy)');
  withApiOptions(
    vttif
      .command('params')
      .description('show VTTIF parameters, or set any of them (the rate reaches every host)')
      .addOption(new Option('--rate <hz>', 'update rate, 1..20 Hz').argParser(finiteNumber))
      .addOption(new Option('--smoothing <ms>', 'smoothing interval in ms, or "derived" (from the config-time bound)').argParser((t) => (t === 'derived' ? t : finiteNumber(t))))
      .addOption(new Option('--threshold <t>', 'detection threshold, 0..1').argParser(finiteNumber)),
    { host: false },
  ).action(async (opts: ParamsOptions) => {
    const target = new ApiTarget(opts);
    const change = {
      ...(opts.rate === undefined ? {} : { updateRateHz: opts.rate }),
      // null = derive it again (commander cannot carry null itself).
      ...(opts.smoothing === undefined ? {} : { smoothingMs: opts.smoothing === 'derived' ? null : opts.smoothing }),
      ...(opts.threshold === undefined ? {} : { threshold: opts.threshold }),
    };
    const settings = Object.keys(change).length === 0 ? await target.request<VttifSettings>('GET', '/vttif/parameters') : await target.request<VttifSettings>('PUT', '/vttif/parameters', change);
    emit(io, opts, settings, () => formatSettings(settings));
  });
  return vttif;
}

export function formatSettings(s: VttifSettings): string {
  return [
    `update rate   ${s.updateRateHz} Hz`,
    `smoothing     ${s.smoothingMs} ms${s.isSmoothingDerived ? ` (derived from the config-time bound, ${s.configTimeBoundMs} ms)` : ''}`,
    `threshold     ${s.threshold}`,
    `settle        ${s.settleMs} ms`,
  ].join('\n');
}

function finiteNumber(text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('must be a number');
  return n;
}

function positiveInteger(text: string): number {
  if (!/^[1-9]\d*$/.test(text)) throw new InvalidArgumentError('must be a positive integer');
  return Number(text);
}

/**
 * What every API command of the CLI shares: the options (`--api`, `--token`,
 * `--json`, `--host`), where to send the request (`/v1/…` on the daemon, or
 * `/v1/hosts/NAME/…` relayed by the Proxy), and where output goes — an `io`
 * object, so tests run the real commands and read what they printed.
 */
import { Option, type Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { apiRequest, type ApiClientOptions } from './client.js';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Wall-clock ms, for "3 s ago" (the CLI is an edge, so it may read the clock). */
  nowMs(): number;
}

export interface ApiOptions {
  api: string;
  token?: string;
  json?: boolean;
  host?: string;
}

export const DEFAULT_API = 'http://127.0.0.1:7000';

/** Adds --api, --token, --json, and --host (unless the command is about this daemon only). */
export function withApiOptions(command: Command, opts: { host?: boolean } = {}): Command {
  command
    .addOption(new Option('--api <url>', 'daemon API: http://HOST:PORT or unix:/path').env('VSWITCH_API').default(DEFAULT_API))
    .addOption(new Option('--token <token>', 'bearer token (required when the daemon lists api.tokens)').env('VSWITCH_TOKEN'))
    .addOption(new Option('--json', 'print JSON for scripts'));
  if (opts.host !== false) command.addOption(new Option('--host <name>', 'on the Proxy: act on this host (relayed)'));
  return command;
}

export class ApiTarget {
  readonly client: ApiClientOptions;
  /** "/v1" or "/v1/hosts/NAME". */
  readonly prefix: string;

  constructor(readonly opts: ApiOptions) {
    this.client = { base: opts.api, ...(opts.token ? { token: opts.token } : {}) };
    this.prefix = opts.host === undefined ? '/v1' : `/v1/hosts/${encodeURIComponent(opts.host)}`;
  }

  request<T>(method: string, path: string, body?: unknown): Promise<T> {
    return apiRequest<T>(this.client, method, `${this.prefix}${path}`, body);
  }
}

/** Prints `value` as JSON when --json, else the human text. */
export function emit(io: CliIo, opts: ApiOptions, value: unknown, human: () => string): void {
  io.out(opts.json ? JSON.stringify(value, null, 2) : human());
}

export function parseInteger(text: string): number {
  if (!/^-?\d+$/.test(text)) throw new InvalidArgumentError('must be an integer');
  return Number(text);
}

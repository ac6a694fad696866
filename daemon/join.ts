/**
 * `vswitch join TOKEN`: the new host's side of joining (loaded by the CLI for `join` only, as `up` is).
 *
 *   1. decode the token (address, pin, id, secret, the name it is for) and check every option and file, before
 *      anything goes out; the host's name is --name, else the token's, else this machine's hostname;
 *   2. the key: the one in --key if that file exists, else a new one (kept in memory until the join succeeds);
 *   3. the exchange (switch/join/join-client.ts): TLS to the token's address, the certificate pinned before the
 *      request is sent; the Proxy answers with this host's name and the Proxy's name, key and link endpoints;
 *   4. write the key file (if new) and the config file, each 0600 and atomically, the config checked by the
 *      daemon's own loader (also before step 3, with a stand-in answer: an option the loader refuses, such as an
 *      API address without tokens, never costs the token);
 *   5. with --up, run the daemon from that config in the foreground, exactly as `vswitch up -c CONFIG`.
 * A file that would be overwritten is refused before step 3: a join never clobbers a host's config or key.
 */
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { CliIo } from '../api/cli/common.js';
import { VswitchError } from '../switch/errors.js';
import { readBoundedFile, writeFileAtomic } from '../switch/join/durable-file.js';
import { requestJoin } from '../switch/join/join-client.js';
import { JoinAnswerInvalidError } from '../switch/join/join-errors.js';
import { HOST_NAME, HOST_NAME_TEXT, JOIN_EXCHANGE_VERSION, type JoinAnswer } from '../switch/join/join-exchange.js';
import { hostConfigYaml, type JoinedHostConfig } from '../switch/join/host-config.js';
import { decodeJoinToken, joinAddress } from '../switch/join/join-token.js';
import { decodeKeyBase64, encodeKeyBase64, generatePrivateKey, publicKey } from '../switch/link/noise/crypto.js';
import { groupId } from '../api/http/server.js';
import { parseDaemonConfig } from './config.js';

export interface JoinCommandOptions {
  name?: string;
  key?: string;
  config?: string;
  tap: readonly string[];
  mtu: number;
  listen: string;
  apiListen: string;
  /** A group that may read the config and key too (mode 0640): the systemd unit's user "vswitch". */
  group?: string;
  up: boolean;
  offload: boolean;
}

/** Bad usage of `vswitch join` (exit 2, as the CLI's other usage errors). */
export class JoinUsageError extends VswitchError {
  constructor(option: string, problem: string) {
    super('config-invalid', `vswitch join: ${option}: ${problem}`);
  }
}

const IFNAME = /^(?!\.{1,2}$)[^\s/:]{1,15}$/;
export const DEFAULT_CONFIG_DIR = '/etc/vswitch';

export async function runJoin(tokenText: string, options: JoinCommandOptions, io: Pick<CliIo, 'out' | 'err'>, deps: { randomBytes?: (n: number) => Uint8Array } = {}): Promise<{ configFile: string; name: string }> {
  const token = decodeJoinToken(tokenText);
  checkOptions(options);
  const name = hostNameOf(options, token.name);
  const random = deps.randomBytes ?? ((n: number) => new Uint8Array(randomBytes(n)));
  const givenKey = options.key !== undefined && existsSync(options.key) ? readKey(options.key) : undefined;
  const privateKey = givenKey ?? generatePrivateKey(random);
  const files = filesFor(name, options, givenKey !== undefined);
  const gid = groupOf(options.group);
  const mode = gid === undefined ? 0o600 : 0o640;
  const listenPort = Number(options.listen.slice(options.listen.lastIndexOf(':') + 1));
  const configOf = (answer: JoinAnswer, key: JoinedHostConfig['key']): string =>
    hostConfigYaml({
      answer,
      key,
      listen: options.listen,
      apiListen: options.apiListen,
      taps: options.tap.map((tap) => ({ name: tap, mtu: options.mtu })),
      joinedAt: new Date().toISOString(),
      tokenId: token.id,
      joinAddress: joinAddress(token),
    });
  // Everything that could fail after the exchange is tried first: the directories, and the config as the loader reads it.
  const standIn: JoinAnswer = { v: JOIN_EXCHANGE_VERSION, name, proxy: { name: name === 'proxy' ? 'proxy-0' : 'proxy', publicKey: encodeKeyBase64(publicKey(privateKey)), endpoint: '127.0.0.1:51820' } };
  parseDaemonConfig(configOf(standIn, { inline: encodeKeyBase64(privateKey) }), files.config);
  for (const dir of new Set([dirname(files.config), dirname(files.key)])) writableDirectory(dir);
  const answer = await requestJoin(token, {
    v: JOIN_EXCHANGE_VERSION,
    token: token.id,
    secret: Buffer.from(token.secret).toString('base64url'),
    publicKey: encodeKeyBase64(publicKey(privateKey)),
    name,
    listenPort,
  });
  if (answer.name !== name) throw new JoinAnswerInvalidError(`it names the host "${answer.name}", not "${name}"`);
  if (givenKey === undefined) writeFileAtomic(files.key, `${encodeKeyBase64(privateKey)}\n`, mode, gid);
  const yaml = configOf(answer, { file: files.key });
  parseDaemonConfig(yaml, files.config); // what is written is what `vswitch up` reads
  writeFileAtomic(files.config, yaml, mode, gid);
  io.out(`joined the overlay as ${answer.name} (Proxy "${answer.proxy.name}" at ${answer.proxy.endpoint}); config ${files.config}, key ${files.key}`);
  if (options.up) {
    const { runUp } = await import('./up.js');
    await runUp(files.config, { offload: options.offload });
  } else {
    io.out(`start it with: vswitch up -c ${files.config}`);
  }
  return { configFile: files.config, name: answer.name };
}

/** Bad options are refused before the token is spent. */
function checkOptions(options: JoinCommandOptions): void {
  if (options.name !== undefined && !HOST_NAME.test(options.name)) throw new JoinUsageError('--name', `must be ${HOST_NAME_TEXT} (found "${options.name.slice(0, 64)}")`);
  const seen = new Set<string>();
  for (const tap of options.tap) {
    if (!IFNAME.test(tap)) throw new JoinUsageError('--tap', `"${tap.slice(0, 64)}" is not a Linux interface name (1 to 15 characters, no spaces, "/" or ":")`);
    if (seen.has(tap)) throw new JoinUsageError('--tap', `"${tap}" is given twice`);
    seen.add(tap);
  }
  if (!Number.isInteger(options.mtu) || options.mtu < 68 || options.mtu > 65_521) throw new JoinUsageError('--mtu', `must be 68 to 65521 (found ${options.mtu})`);
  const m = /^(?:\[[0-9a-fA-F:.]+\]|[0-9.]+):(\d{1,5})$/.exec(options.listen);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 65_535) throw new JoinUsageError('--listen', `must be "IP:PORT" (found "${options.listen.slice(0, 64)}")`);
}

/** The config and key files for host `name`; refuses to overwrite either (a given --key that exists is used). */
function filesFor(name: string, options: JoinCommandOptions, keyExists: boolean): { config: string; key: string } {
  const config = resolve(options.config ?? join(DEFAULT_CONFIG_DIR, `${name}.yaml`));
  const key = resolve(options.key ?? join(dirname(config), `${name}.key`));
  if (existsSync(config)) throw new JoinUsageError('--config', `${config} exists: this host has a config already (remove it, or give another --config)`);
  if (!keyExists && existsSync(key)) throw new JoinUsageError('--key', `${key} exists: give it with --key ${key} to use that key, or remove it`);
  return { config, key };
}

/** Makes the directory (0750) where it is missing, and checks this process may write there. */
function writableDirectory(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o750 });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new JoinUsageError('--config', `cannot write in ${dir} (${(err as NodeJS.ErrnoException).code ?? 'error'}): run as root, or give --config and --key elsewhere`);
  }
}

/** --group as a gid (a name from /etc/group, or a number); undefined without it. */
function groupOf(group: string | undefined): number | undefined {
  if (group === undefined) return undefined;
  try {
    return groupId(group);
  } catch {
    throw new JoinUsageError('--group', `no group "${group.slice(0, 64)}" on this machine (the systemd unit's is "vswitch": systemd-sysusers makes it)`);
  }
}

function readKey(file: string): Uint8Array {
  const text = readBoundedFile(file, 4096) ?? '';
  try {
    return decodeKeyBase64(text.trim());
  } catch {
    throw new JoinUsageError('--key', `${file} does not hold a private key in base64, as \`vswitch genkey\` prints`);
  }
}

/** --name, else the token's name, else this machine's hostname when it is a host name. */
function hostNameOf(options: JoinCommandOptions, tokenName: string | undefined): string {
  if (options.name !== undefined && tokenName !== undefined && options.name !== tokenName) {
    throw new JoinUsageError('--name', `this token is for host "${tokenName}", not "${options.name}": leave out --name, or ask for a token for ${options.name}`);
  }
  const name = options.name ?? tokenName ?? hostname().toLowerCase().split('.')[0] ?? '';
  if (!HOST_NAME.test(name)) throw new JoinUsageError('--name', `is required: the token names no host and this machine's hostname "${name.slice(0, 64)}" is not ${HOST_NAME_TEXT}`);
  return name;
}

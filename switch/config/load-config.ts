import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { CST, isScalar, Lexer, LineCounter, parseDocument, visit, type Document } from 'yaml';
import { ConfigError } from './config-error.js';
import { ConfigReader, shown } from './config-reader.js';
import type { ConfigSection } from './config-section.js';
import { isIP } from 'node:net';
import { decodeKeyBase64 } from '../link/noise/crypto.js';
import {
  type PluginModuleConfig,
  DEFAULT_API_LISTEN,
  DEFAULT_LINK_PORT,
  DEFAULT_STATE_ROOT,
  type ApiTokenConfig,
  type DaemonConfig,
  type JoinConfig,
  type HaConfig,
  type LinkListenConfig,
  type PeerConfig,
  type PortConfig,
} from './config.js';

const NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
const NAME_TEXT = 'lower-case letters, digits and "-", at most 32 characters';
// Linux interface names: at most 15 bytes, no "/", no whitespace, not "." or "..".
const IFNAME = /^(?!\.{1,2}$)[^\s/:]{1,15}$/;
const IFNAME_TEXT = 'a Linux interface name of 1 to 15 characters without spaces, "/" or ":"';
const LISTEN = /^(unix:\/.+|(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]|localhost):\d{1,5})$/;

/** Reads and checks a daemon config file; throws one ConfigError naming file, key and problem. */
export function loadConfigFile(file: string, sections: readonly ConfigSection[] = []): DaemonConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
    throw new ConfigError(file, '', `cannot read the file (${code})`);
  }
  return parseConfig(text, file, sections);
}

/**
 * Nesting and aliases a config may have. The YAML library composes nesting by recursion and overflows the stack
 * at about 1000 levels (caught as a syntax error, or, when the overflow lands in V8's regexp compiler, a fatal
 * error that ends the process), and spends 10–70 µs per alias (100 ms for 4 KiB of `*a`); a config needs
 * neither, so both are refused before parsing, by the library's lexer (iterative, linear), at the first token
 * over the limit. Nesting counts flow brackets, block indentation (a deeper block needs a deeper column) and
 * the `- `, `? `, `: ` indicators of the line.
 */
export const MAX_CONFIG_NESTING = 128;
export const MAX_CONFIG_ALIASES = 100;
const LEXER_MARKERS = new Set([CST.DOCUMENT, CST.FLOW_END, CST.SCALAR]);

function checkNestingAndAliases(text: string, file: string): void {
  let flow = 0;
  let indent = 0;
  let indicators = 0;
  let lineStart = true;
  let aliases = 0;
  let offset = 0;
  for (const token of new Lexer().lex(text)) {
    const at = offset;
    if (!LEXER_MARKERS.has(token)) offset += token.length;
    let problem: string | undefined;
    switch (CST.tokenType(token)) {
      case 'newline':
        lineStart = true;
        indent = 0;
        indicators = 0;
        continue;
      case 'space':
        if (lineStart) indent = token.length;
        continue;
      case 'flow-map-start':
      case 'flow-seq-start':
        flow++;
        break;
      case 'flow-map-end':
      case 'flow-seq-end':
        flow = Math.max(0, flow - 1);
        break;
      case 'seq-item-ind':
      case 'explicit-key-ind':
      case 'map-value-ind':
        indicators++;
        break;
      case 'alias':
        if (++aliases > MAX_CONFIG_ALIASES) problem = `YAML: more than ${MAX_CONFIG_ALIASES} aliases (*name); a config needs none`;
        break;
      default:
    }
    lineStart = false;
    if (flow + (flow > 0 ? 0 : indent) + indicators > MAX_CONFIG_NESTING) problem = `YAML: nested deeper than ${MAX_CONFIG_NESTING} levels (brackets, indentation and "- " items)`;
    if (problem) {
      const before = text.slice(0, at);
      const line = before.split('\n').length;
      throw new ConfigError(file, '', problem, line, at - before.lastIndexOf('\n'));
    }
  }
}

/** A mapping's keys must be distinct (YAML 1.2 §3.2.1.1): scalar keys are compared by value, as the library does. */
function checkUniqueKeys(doc: Document, file: string, lines: LineCounter): void {
  visit(doc, {
    Map(_key, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const value = pair.key.value;
        if (!seen.has(value)) {
          seen.add(value);
          continue;
        }
        const pos = lines.linePos(pair.key.range?.[0] ?? 0);
        throw new ConfigError(file, '', 'YAML syntax: Map keys must be unique', pos.line, pos.col);
      }
    },
  });
}

/** Parses config text; `file` is only used in messages; `sections` are the plugins' (their keys are allowed). */
export function parseConfig(text: string, file: string, sections: readonly ConfigSection[] = []): DaemonConfig {
  checkNestingAndAliases(text, file);
  const lines = new LineCounter();
  // uniqueKeys: the library compares each key with every earlier one of its mapping (4000 keys: ~100 ms more);
  // checkUniqueKeys does it with a set.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  const syntax = doc.errors[0];
  if (syntax) {
    const pos = lines.linePos(Math.min(syntax.pos[0], text.length));
    throw new ConfigError(file, '', `YAML syntax: ${syntax.message.split('\n')[0]}`, pos?.line, pos?.col);
  }
  checkUniqueKeys(doc, file, lines);
  const r = new ConfigReader(file, doc, lines);
  if (doc.contents === null) r.fail([], 'the file is empty; it needs at least "name"');
  r.onlyKeys([], ['name', 'role', 'proxy', 'privateKey', 'privateKeyFile', 'stateDir', 'listen', 'peers', 'api', 'switch', 'ports', 'log', 'plugins', 'join', 'ha', ...sections.map((s) => s.key)]);
  r.onlyKeys(['listen'], ['udp', 'tcp']);
  r.onlyKeys(['api'], ['listen', 'tokens']);
  r.onlyKeys(['switch'], ['macIdleTimeS', 'macMaxEntries', 'maxFrameBytes', 'offload']);
  r.onlyKeys(['log'], ['level']);

  const config: DaemonConfig = {
    name: r.string(['name'], { pattern: NAME, patternText: NAME_TEXT }),
    role: r.string(['role'], { default: 'host', oneOf: ['host', 'proxy'] }) as DaemonConfig['role'],
    ...readPrivateKey(r, file),
    listen: readListen(r),
    peers: readPeers(r),
    api: {
      listen: r.string(['api', 'listen'], {
        default: DEFAULT_API_LISTEN,
        pattern: LISTEN,
        patternText: '"ADDRESS:PORT" or "unix:/path"',
      }),
      tokens: readApiTokens(r, sections),
    },
    switch: {
      macIdleTimeS: r.integer(['switch', 'macIdleTimeS'], { default: 300, min: 1, max: 86_400 }),
      macMaxEntries: r.integer(['switch', 'macMaxEntries'], { default: 8192, min: 16, max: 1_000_000 }),
      maxFrameBytes: r.integer(['switch', 'maxFrameBytes'], { default: 1518, min: 64, max: 65_535 }),
      offload: r.boolean(['switch', 'offload'], { default: true }),
    },
    ports: readPorts(r),
    log: { level: r.string(['log', 'level'], { default: 'info', oneOf: ['debug', 'info', 'warn', 'error'] }) as DaemonConfig['log']['level'] },
    sections: new Map(),
    plugins: readPlugins(r, file, sections),
    ...readStateDir(r, file),
  };
  const role = config.role;
  config.sections = new Map(sections.map((s) => [s.key, s.read(r, role)]));
  if (config.plugins.length > 0 && config.role !== 'proxy') r.fail(['plugins'], 'plugins run on the Proxy: remove this key, or set role: proxy');
  checkListenPort(r, config.api.listen);
  if (config.api.tokens.length === 0 && !isLoopbackListen(config.api.listen)) {
    r.fail(['api', 'tokens'], `is required when api.listen is not loopback or a unix socket (found "${shown(config.api.listen)}"): list at least one { name, token }`);
  }
  if (r.has(['proxy'])) {
    const proxies = readProxies(r, config.peers);
    if (config.role === 'proxy') r.fail(['proxy'], 'a proxy has no proxy of its own: remove this key, or set role: host');
    config.proxy = proxies[0]!;
    if (proxies.length > 1) config.proxies = proxies;
  }
  const ha = readHa(r, config.role);
  if (ha) config.ha = ha;
  const join = readJoin(r, file, config.name, config.role, config.stateDir);
  if (join) config.join = join;
  if (config.peers.length > 0 && !config.privateKey) r.fail(['privateKey'], 'is required when there are peers (generate one with `vswitch genkey`)');
  if (join && !config.privateKey) r.fail(['privateKey'], 'is required with a join listener: joined hosts link to this key (generate one with `vswitch genkey`)');
  return config;
}

/**
 * `proxy: NAME` or, with Proxy HA (switch/ha/), `proxy: [NAME, NAME…]`: the peers that are Proxies, the first
 * followed until one announces it is active.
 */
function readProxies(r: ConfigReader, peers: readonly { name: string }[]): string[] {
  const names: string[] = [];
  const n = Array.isArray(r.raw(['proxy'])) ? r.sequence(['proxy']) : 0;
  const paths = n === 0 ? [['proxy']] : Array.from({ length: n }, (_, i) => ['proxy', i]);
  if (Array.isArray(r.raw(['proxy'])) && n === 0) r.fail(['proxy'], 'lists no proxy: name at least one of the peers');
  if (n > 3) r.fail(['proxy'], `lists ${n} proxies, at most 3`);
  for (const path of paths) {
    const name = r.string(path, { pattern: NAME, patternText: NAME_TEXT });
    if (!peers.some((p) => p.name === name)) r.fail(path, `must name one of the peers (found "${shown(name)}")`);
    if (names.includes(name)) r.fail(path, `names "${shown(name)}" twice`);
    names.push(name);
  }
  return names;
}

/** `ha: { etcd: [URL…], leaseTtlMs?, key? }` on a Proxy: its election on etcd (switch/ha/proxy-election.ts). */
function readHa(r: ConfigReader, role: DaemonConfig['role']): HaConfig | undefined {
  if (!r.has(['ha'])) return undefined;
  if (role !== 'proxy') r.fail(['ha'], 'Proxies elect the active one among them; a host lists them under proxy: [...]: remove this key, or set role: proxy');
  r.onlyKeys(['ha'], ['etcd', 'leaseTtlMs', 'key']);
  const n = r.sequence(['ha', 'etcd']);
  if (n === 0) r.fail(['ha', 'etcd'], 'is required: the client URLs of the etcd members, e.g. [http://198.18.0.201:2379]');
  if (n > 9) r.fail(['ha', 'etcd'], `lists ${n} members, at most 9`);
  const etcd = Array.from({ length: n }, (_, i) => r.string(['ha', 'etcd', i], { pattern: ETCD_URL, patternText: 'http://HOST:PORT' }));
  return {
    etcd,
    leaseTtlMs: r.integer(['ha', 'leaseTtlMs'], { default: 2000, min: 2000, max: 60_000 }),
    key: r.string(['ha', 'key'], { default: '/vswitch/proxy/leader', pattern: ETCD_KEY, patternText: 'a path of letters, digits and "/_.-", starting with "/"' }),
  };
}

const ETCD_URL = /^https?:\/\/[A-Za-z0-9.:[\]-]{1,200}$/;
const ETCD_KEY = /^\/[A-Za-z0-9/_.-]{1,200}$/;

/** `join: { listen, advertise?, dir? }`: the Proxy's join listener (switch/join/). */
function readJoin(r: ConfigReader, file: string, name: string, role: DaemonConfig['role'], stateDir: string | undefined): JoinConfig | undefined {
  if (!r.has(['join'])) return undefined;
  r.onlyKeys(['join'], ['listen', 'advertise', 'dir']);
  if (role !== 'proxy') r.fail(['join'], 'hosts join a Proxy, and only the Proxy listens for joins: remove this key, or set role: proxy');
  const listen = readHostPort(r, ['join', 'listen']);
  const isWildcard = (host: string): boolean => host === '0.0.0.0' || host === '::';
  let advertise = listen;
  if (r.has(['join', 'advertise'])) {
    advertise = readHostPort(r, ['join', 'advertise']);
    if (isWildcard(advertise.host)) r.fail(['join', 'advertise'], `must be an address hosts can reach, not a wildcard (found "${advertise.host}")`);
  } else if (isWildcard(listen.host)) {
    r.fail(['join', 'advertise'], `is required when join.listen is a wildcard address (found "${listen.host}"): the address hosts reach the Proxy's join listener at, which join tokens carry (e.g. "198.18.1.1:${listen.port}")`);
  }
  // Beside the durable state: <stateDir>/join, else /var/lib/vswitch/NAME/join (`vswitch up --state-dir` does not move it).
  const dir = r.string(['join', 'dir'], { default: `${stateDir ?? `${DEFAULT_STATE_ROOT}/${name}`}/join` });
  if (dir.trim() === '' || dir.includes('\0')) r.fail(['join', 'dir'], 'must be a directory path');
  return { listen, advertise, dir: isAbsolute(dir) ? dir : resolve(dirname(file), dir) };
}

/** `plugins: [{ name, module, enabled?, options? }]`: in-process plugin modules (Proxy), paths relative to the file. */
function readPlugins(r: ConfigReader, file: string, sections: readonly ConfigSection[]): PluginModuleConfig[] {
  const plugins: PluginModuleConfig[] = [];
  const names = new Map<string, number>();
  const count = r.sequence(['plugins']);
  for (let i = 0; i < count; i++) {
    const at = ['plugins', i];
    r.onlyKeys(at, ['name', 'module', 'enabled', 'options']);
    const name = r.string([...at, 'name'], { pattern: NAME, patternText: NAME_TEXT });
    if (RESERVED_ACTORS.includes(name) || sections.some((s) => s.key === name)) r.fail([...at, 'name'], `"${name}" is a built-in plugin's name: choose another`);
    if (names.has(name)) r.fail([...at, 'name'], `"${name}" is already the name of plugins[${names.get(name)}]`);
    names.set(name, i);
    const module = r.string([...at, 'module']);
    const options = r.has([...at, 'options']) ? r.raw([...at, 'options']) : {};
    if (options === null || typeof options !== 'object' || Array.isArray(options)) r.fail([...at, 'options'], 'must be a mapping');
    plugins.push({
      name,
      module: isAbsolute(module) ? module : resolve(dirname(file), module),
      enabled: r.boolean([...at, 'enabled'], { default: true }),
      options: options as Record<string, unknown>,
    });
  }
  return plugins;
}

/** `stateDir`: where run-time changes are saved (docs/state.md); relative to the file; absent: the default. */
function readStateDir(r: ConfigReader, file: string): { stateDir?: string } {
  if (!r.has(['stateDir'])) return {};
  const dir = r.string(['stateDir'], { pattern: /^[^\0]{1,4096}$/, patternText: 'a directory path' });
  return { stateDir: isAbsolute(dir) ? dir : resolve(dirname(file), dir) };
}

function readPorts(r: ConfigReader): PortConfig[] {
  const ports: PortConfig[] = [];
  const seen = new Map<string, number>();
  const count = r.sequence(['ports']);
  for (let i = 0; i < count; i++) {
    const at = ['ports', i] as const;
    const type = r.string([...at, 'type'], { oneOf: ['tap', 'capture'] });
    const name = r.string([...at, 'name'], { pattern: IFNAME, patternText: IFNAME_TEXT });
    const earlier = seen.get(name);
    if (earlier !== undefined) r.fail([...at, 'name'], `"${name}" is already the name of ports[${earlier}]`);
    seen.set(name, i);
    if (type === 'tap') {
      r.onlyKeys(at, ['type', 'name', 'mtu', 'offloads']);
      const mtu = r.integer([...at, 'mtu'], { default: 1500, min: 68, max: 65_521 });
      const offloads = r.boolean([...at, 'offloads'], { default: false });
      ports.push({ type, name, mtu, ...(offloads ? { offloads } : {}) });
    } else {
      r.onlyKeys(at, ['type', 'name', 'interface', 'promiscuous', 'bpf']);
      const bpf = readBpf(r, [...at, 'bpf']);
      ports.push({
        type: 'capture',
        name,
        interface: r.string([...at, 'interface'], { pattern: IFNAME, patternText: IFNAME_TEXT }),
        promiscuous: r.boolean([...at, 'promiscuous'], { default: true }),
        ...(bpf ? { bpf } : {}),
      });
    }
  }
  return ports;
}

/** A classic BPF program as `tcpdump -dd` prints it: a list of [code, jt, jf, k]. */
function readBpf(r: ConfigReader, path: (string | number)[]): { code: number; jt: number; jf: number; k: number }[] | undefined {
  if (!r.has(path)) return undefined;
  const count = r.sequence(path);
  if (count === 0 || count > 4096) r.fail(path, `must hold 1 to 4096 instructions (found ${count})`);
  const program = [];
  for (let i = 0; i < count; i++) {
    const at = [...path, i];
    if (r.sequence(at) !== 4) r.fail(at, 'must be [code, jt, jf, k], as `tcpdump -dd` prints');
    program.push({
      code: r.integer([...at, 0], { default: 0, min: 0, max: 0xffff }),
      jt: r.integer([...at, 1], { default: 0, min: 0, max: 0xff }),
      jf: r.integer([...at, 2], { default: 0, min: 0, max: 0xff }),
      k: r.integer([...at, 3], { default: 0, min: 0, max: 0xffffffff }),
    });
  }
  return program;
}

function readKey(r: ConfigReader, path: (string | number)[], text: string): Uint8Array {
  try {
    return decodeKeyBase64(text);
  } catch {
    return r.fail(path, 'must be a 32-byte key in base64, as `vswitch genkey` prints (44 characters)');
  }
}

function readPrivateKey(r: ConfigReader, file: string): { privateKey?: Uint8Array } {
  if (r.has(['privateKey']) && r.has(['privateKeyFile'])) r.fail(['privateKeyFile'], 'give privateKey or privateKeyFile, not both');
  if (r.has(['privateKey'])) return { privateKey: readKey(r, ['privateKey'], r.string(['privateKey'])) };
  if (!r.has(['privateKeyFile'])) return {};
  const keyFile = r.string(['privateKeyFile']);
  let text: string;
  try {
    text = readFileSync(keyFile.startsWith('/') ? keyFile : new URL(keyFile, `file://${process.cwd()}/${file}`).pathname, 'utf8');
  } catch (err) {
    return r.fail(['privateKeyFile'], `cannot read ${keyFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return { privateKey: readKey(r, ['privateKeyFile'], text.trim()) };
}

/** "198.18.0.1:51820", "[::1]:443", "0.0.0.0:51820": IP literals only, so no DNS on the data path. */
function readHostPort(r: ConfigReader, path: (string | number)[], fallback?: string): { host: string; port: number } {
  const text = r.string(path, fallback === undefined ? {} : { default: fallback });
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(text);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (!match || !host || isIP(host) === 0) r.fail(path, `must be "IP:PORT" with a numeric IP address (found "${shown(text)}")`);
  if (port < 1 || port > 65_535) r.fail(path, `port must be between 1 and 65535 (found ${port})`);
  return { host, port };
}

function readListen(r: ConfigReader): LinkListenConfig {
  const udp = readHostPort(r, ['listen', 'udp'], `0.0.0.0:${DEFAULT_LINK_PORT}`);
  return r.has(['listen', 'tcp']) ? { udp, tcp: readHostPort(r, ['listen', 'tcp']) } : { udp };
}

function readPeers(r: ConfigReader): PeerConfig[] {
  const peers: PeerConfig[] = [];
  const names = new Map<string, number>();
  const keys = new Map<string, number>();
  const count = r.sequence(['peers']);
  for (let i = 0; i < count; i++) {
    const at = ['peers', i];
    r.onlyKeys(at, ['name', 'publicKey', 'presharedKey', 'endpoint', 'tcpEndpoint', 'transport', 'persistentKeepaliveS']);
    const name = r.string([...at, 'name'], { pattern: NAME, patternText: NAME_TEXT });
    if (names.has(name)) r.fail([...at, 'name'], `"${name}" is already the name of peers[${names.get(name)}]`);
    names.set(name, i);
    const keyText = r.string([...at, 'publicKey']);
    const publicKey = readKey(r, [...at, 'publicKey'], keyText);
    if (keys.has(keyText.trim())) r.fail([...at, 'publicKey'], `is already the key of peers[${keys.get(keyText.trim())}]`);
    keys.set(keyText.trim(), i);
    const peer: PeerConfig = {
      name,
      publicKey,
      transport: r.string([...at, 'transport'], { default: 'auto', oneOf: ['udp', 'tcp', 'auto'] }) as PeerConfig['transport'],
    };
    if (r.has([...at, 'presharedKey'])) peer.presharedKey = readKey(r, [...at, 'presharedKey'], r.string([...at, 'presharedKey']));
    if (r.has([...at, 'endpoint'])) peer.endpoint = readHostPort(r, [...at, 'endpoint']);
    if (r.has([...at, 'tcpEndpoint'])) peer.tcpEndpoint = readHostPort(r, [...at, 'tcpEndpoint']);
    else if (peer.endpoint) peer.tcpEndpoint = peer.endpoint;
    const keepalive = r.integer([...at, 'persistentKeepaliveS'], { default: 0, min: 0, max: 65_535 });
    if (keepalive > 0) peer.persistentKeepaliveS = keepalive;
    peers.push(peer);
  }
  return peers;
}

function checkListenPort(r: ConfigReader, listen: string): void {
  if (listen.startsWith('unix:')) return;
  const port = Number(listen.slice(listen.lastIndexOf(':') + 1));
  if (port < 1 || port > 65_535) r.fail(['api', 'listen'], `port must be between 1 and 65535 (found ${port})`);
}

export { ConfigError };

/** Loopback (127.0.0.0/8, ::1, localhost) or a unix socket: reachable only from this machine. */
export function isLoopbackListen(listen: string): boolean {
  if (listen.startsWith('unix:')) return true;
  const host = listen.slice(0, listen.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Actor names of the Proxy's clean-up and config (and every plugin section's key): a token named so could pass for them. */
const RESERVED_ACTORS = ['plugins', 'star', 'config', 'join'];

const TOKEN = /^[\x21-\x7e]{16,256}$/;

function readApiTokens(r: ConfigReader, sections: readonly ConfigSection[]): ApiTokenConfig[] {
  const tokens: ApiTokenConfig[] = [];
  const names = new Map<string, number>();
  const values = new Map<string, number>();
  const count = r.sequence(['api', 'tokens']);
  for (let i = 0; i < count; i++) {
    const at = ['api', 'tokens', i];
    r.onlyKeys(at, ['name', 'token', 'readOnly']);
    const name = r.string([...at, 'name'], { pattern: NAME, patternText: NAME_TEXT });
    if (RESERVED_ACTORS.includes(name) || sections.some((s) => s.key === name)) r.fail([...at, 'name'], `"${name}" is the name the Proxy's own plugins act under: choose another`);
    if (names.has(name)) r.fail([...at, 'name'], `"${name}" is already the name of api.tokens[${names.get(name)}]`);
    names.set(name, i);
    const token = r.string([...at, 'token'], { pattern: TOKEN, patternText: '16 to 256 printable characters without spaces' });
    if (values.has(token)) r.fail([...at, 'token'], `is already the token of api.tokens[${values.get(token)}]`);
    values.set(token, i);
    tokens.push({ name, token, readOnly: r.boolean([...at, 'readOnly'], { default: false }) });
  }
  return tokens;
}

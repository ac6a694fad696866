import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError } from './config-error.js';
import { ConfigReader } from './config-reader.js';
import { DEFAULT_API_LISTEN, type DaemonConfig, type PortConfig } from './config.js';

const NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
const NAME_TEXT = 'lower-case letters, digits and "-", at most 32 characters';
// Linux interface names: at most 15 bytes, no "/", no whitespace, not "." or "..".
const IFNAME = /^(?!\.{1,2}$)[^\s/:]{1,15}$/;
const IFNAME_TEXT = 'a Linux interface name of 1 to 15 characters without spaces, "/" or ":"';
const LISTEN = /^(unix:\/.+|(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]|localhost):\d{1,5})$/;

/** Reads and checks a daemon config file; throws one ConfigError naming file, key and problem. */
export function loadConfigFile(file: string): DaemonConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
    throw new ConfigError(file, '', `cannot read the file (${code})`);
  }
  return parseConfig(text, file);
}

/** Parses config text; `file` is only used in messages. */
export function parseConfig(text: string, file: string): DaemonConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const pos = lines.linePos(Math.min(syntax.pos[0], text.length));
    throw new ConfigError(file, '', `YAML syntax: ${syntax.message.split('\n')[0]}`, pos?.line, pos?.col);
  }
  const r = new ConfigReader(file, doc, lines);
  if (doc.contents === null) r.fail([], 'the file is empty; it needs at least "name"');
  r.onlyKeys([], ['name', 'role', 'api', 'switch', 'ports', 'log']);
  r.onlyKeys(['api'], ['listen']);
  r.onlyKeys(['switch'], ['macIdleTimeS', 'macMaxEntries', 'maxFrameBytes']);
  r.onlyKeys(['log'], ['level']);

  const config: DaemonConfig = {
    name: r.string(['name'], { pattern: NAME, patternText: NAME_TEXT }),
    role: r.string(['role'], { default: 'host', oneOf: ['host', 'proxy'] }) as DaemonConfig['role'],
    api: {
      listen: r.string(['api', 'listen'], {
        default: DEFAULT_API_LISTEN,
        pattern: LISTEN,
        patternText: '"ADDRESS:PORT" or "unix:/path"',
      }),
    },
    switch: {
      macIdleTimeS: r.integer(['switch', 'macIdleTimeS'], { default: 300, min: 1, max: 86_400 }),
      macMaxEntries: r.integer(['switch', 'macMaxEntries'], { default: 8192, min: 16, max: 1_000_000 }),
      maxFrameBytes: r.integer(['switch', 'maxFrameBytes'], { default: 1518, min: 64, max: 65_535 }),
    },
    ports: readPorts(r),
    log: { level: r.string(['log', 'level'], { default: 'info', oneOf: ['debug', 'info', 'warn', 'error'] }) as DaemonConfig['log']['level'] },
  };
  checkListenPort(r, config.api.listen);
  return config;
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
      r.onlyKeys(at, ['type', 'name', 'mtu']);
      ports.push({ type, name, mtu: r.integer([...at, 'mtu'], { default: 1500, min: 68, max: 65_521 }) });
    } else {
      r.onlyKeys(at, ['type', 'name', 'interface', 'promiscuous']);
      ports.push({
        type: 'capture',
        name,
        interface: r.string([...at, 'interface'], { pattern: IFNAME, patternText: IFNAME_TEXT }),
        promiscuous: r.boolean([...at, 'promiscuous'], { default: true }),
      });
    }
  }
  return ports;
}

function checkListenPort(r: ConfigReader, listen: string): void {
  if (listen.startsWith('unix:')) return;
  const port = Number(listen.slice(listen.lastIndexOf(':') + 1));
  if (port < 1 || port > 65_535) r.fail(['api', 'listen'], `port must be between 1 and 65535 (found ${port})`);
}

export { ConfigError };

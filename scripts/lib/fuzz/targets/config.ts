/**
 * The config loader → parseDaemonConfig (daemon/config.ts: switch/config/load-config.ts parseConfig with the
 * plugins' sections, `vttif:` and `fastpath:`) on arbitrary text.
 *
 * Oracle: a DaemonConfig, or a ConfigError with code config-invalid whose message starts "file:line:col: "
 * (the operator must be pointed at the place); any other error is a crash. A `privateKeyFile` is read from
 * disk, so generated paths stay among a few harmless ones (/dev/null, a missing file, a directory).
 */
import { stringify } from 'yaml';
import { parseDaemonConfig } from '../../../../daemon/config.js';
import { ConfigError } from '../../../../switch/config/config-error.js';
import { fromShape, randomJson, type Json, type JsonVocabulary, type Shape } from '../json-gen.js';
import { mutateText } from '../mutate.js';
import type { Rng } from '../rng.js';
import { check, textCodec, type FuzzTarget } from '../target.js';

const FILE = 'fuzz.yaml';
const KEY = 'm27sy1It46pvVHoaX1hlMHuX+8oGyVVdoo8y03MUTwg=';
const OTHER = 'YBfJ2ZBrWNszeoqJKE0/yOK7xD5IKKzvu8S5J1tN3mI=';
const TOKEN = 'tok-0123456789abcdef';

const HOST_SEED = `# a host
name: h1
privateKey: ${KEY}
proxy: proxy
listen:
  udp: "0.0.0.0:51820"
  tcp: "0.0.0.0:443"
peers:
  - name: proxy
    publicKey: "${OTHER}"
    endpoint: "198.18.0.1:51820"
    transport: auto
    persistentKeepaliveS: 25
api:
  listen: "127.0.0.1:7000"
switch: { macIdleTimeS: 300, macMaxEntries: 8192, maxFrameBytes: 1518, offload: true }
ports:
  - { name: tap0, type: tap, mtu: 1500 }
  - name: cap0
    type: capture
    interface: veth0
    promiscuous: false
    bpf: [[40, 0, 0, 12], [21, 0, 1, 2048], [6, 0, 0, 262144], [6, 0, 0, 0]]
log: { level: debug }
vttif: { enabled: true, updateRateHz: 10, threshold: 0.25, smoothingMs: 2000 }
`;

const PROXY_SEED = `name: proxy
role: proxy
privateKey: ${KEY}
listen: { udp: "[::]:51820" }
peers:
  - { name: h1, publicKey: "${OTHER}", endpoint: "[2001:db8::1]:51820", tcpEndpoint: "198.18.0.2:443", transport: tcp }
api:
  listen: "0.0.0.0:7000"
  tokens:
    - { name: ops, token: "${TOKEN}" }
    - { name: ro, token: "${TOKEN}-ro", readOnly: true }
plugins:
  - name: pin
    module: ./pin.mjs
    enabled: false
    options: { pairs: [[a, b]], anchor: &x { k: 1 }, again: *x }
fastpath: { enabled: true, maxLinksPerHost: 3, maxLinks: 10, removeAfterMs: 5000, addAfterMs: 100 }
vttif: { updateRateHz: 20 }
`;

const SEEDS = [HOST_SEED, PROXY_SEED, 'name: h1\n', 'name: h1\nports:\n  - { name: tap0, type: tap }\n', ''];

const DICTIONARY = [
  ': ', '- ', '  ', '\n', '#', '&a ', '*a', '<<: ', '? ', '!!binary ', '!!set ', '!!omap ', '!!str ', '!!int ', '!!float ', '!!null ', '!!map ', '!!seq ', '!custom ',
  '--- ', '...', '|', '>-', '%YAML 1.2\n', '%TAG ! tag:x,2000:\n', '{', '}', '[', ']', ',', '"', "'", '\\', '~', 'null', 'true', 'yes', '0x1F', '0o17', '.nan', '-.inf', '1_000',
  'name', 'role', 'proxy', 'privateKey', 'privateKeyFile', 'listen', 'peers', 'api', 'switch', 'ports', 'log', 'plugins', 'vttif', 'fastpath', 'tokens', 'udp', 'tcp',
  'publicKey', 'presharedKey', 'endpoint', 'tcpEndpoint', 'transport', 'persistentKeepaliveS', 'type', 'mtu', 'interface', 'promiscuous', 'bpf', 'module', 'options', 'enabled',
  KEY, OTHER, '198.18.0.1:51820', '[::1]:1', 'unix:/run/x.sock', '/dev/null',
];

const str = (...values: Json[]): Shape => ({ oneOf: values });
const int = (...values: number[]): Shape => ({ oneOf: values });
const CONFIG_SHAPE: Shape = {
  fields: {
    name: str('h1', 'proxy', 'H1', '', 'a'.repeat(33), 'x-1'),
    role: str('host', 'proxy', 'peer'),
    proxy: str('proxy', 'h2', 'nobody'),
    privateKey: str(KEY, OTHER, 'short', `${KEY}=`),
    privateKeyFile: str('/dev/null', '/nonexistent/fuzz.key', '/tmp', 'relative.key'),
    listen: { fields: { udp: str('0.0.0.0:51820', '[::]:0', '1.2.3.4:65536', '999.1.1.1:1', 'host:1'), tcp: str('0.0.0.0:443', '[::1]:443') }, optional: ['udp', 'tcp'] },
    peers: {
      items: {
        fields: {
          name: str('proxy', 'h2', 'h2'),
          publicKey: str(OTHER, KEY, 'bad'),
          presharedKey: str(KEY, ''),
          endpoint: str('198.18.0.1:51820', '[2001:db8::1]:1', '1.1.1.1'),
          tcpEndpoint: str('198.18.0.1:443'),
          transport: str('udp', 'tcp', 'auto', 'quic'),
          persistentKeepaliveS: int(0, 25, 65_535, 65_536, -1),
        },
        optional: ['presharedKey', 'endpoint', 'tcpEndpoint', 'transport', 'persistentKeepaliveS'],
      },
      max: 4,
    },
    api: {
      fields: {
        listen: str('127.0.0.1:7000', '0.0.0.0:7000', 'unix:/run/v.sock', 'localhost:0', '[::1]:7000'),
        tokens: { items: { fields: { name: str('ops', 'star', 'vttif', 'ops'), token: str(TOKEN, 'short', `${TOKEN} x`), readOnly: str(true, false, 'yes') }, optional: ['readOnly'] }, max: 3 },
      },
      optional: ['tokens'],
    },
    switch: { fields: { macIdleTimeS: int(1, 0, 86_400, 86_401), macMaxEntries: int(16, 15, 1_000_000), maxFrameBytes: int(64, 1518, 65_535, 65_536), offload: str(true, false, 0) }, optional: ['macIdleTimeS', 'macMaxEntries', 'maxFrameBytes', 'offload'] },
    ports: {
      items: {
        fields: {
          name: str('tap0', 'cap0', 'tap0', '.', '..', 'a/b', 'x'.repeat(16)),
          type: str('tap', 'capture', 'tun'),
          mtu: int(68, 67, 1500, 65_521, 65_522),
          interface: str('veth0', 'eth 0'),
          promiscuous: str(true, false),
          bpf: { items: { items: { oneOf: [0, 6, 21, 255, 256, 0xffffffff, 2 ** 32, -1] }, max: 5 }, max: 6 },
        },
        optional: ['mtu', 'interface', 'promiscuous', 'bpf'],
      },
      max: 4,
    },
    log: { fields: { level: str('debug', 'info', 'warn', 'error', 'trace') } },
    plugins: { items: { fields: { name: str('pin', 'star', 'vttif', 'pin'), module: str('./p.mjs', '/abs/p.mjs', ''), enabled: str(true, false), options: { make: (rng) => randomJson(rng, {}, 3) } }, optional: ['enabled', 'options'] }, max: 3 },
    vttif: { fields: { enabled: str(true, false), updateRateHz: int(1, 20, 0.5, 21, 10.5), threshold: int(0, 1, 0.5, 1.5, -0), smoothingMs: int(100, 99, 3_600_000) }, optional: ['enabled', 'updateRateHz', 'threshold', 'smoothingMs'] },
    fastpath: { fields: { enabled: str(true, false), maxLinksPerHost: int(0, 1000, 1001), maxLinks: int(0, 100_000), removeAfterMs: int(0, 3_600_001), addAfterMs: int(0, 5) }, optional: ['enabled', 'maxLinksPerHost', 'maxLinks', 'removeAfterMs', 'addAfterMs'] },
  },
  optional: ['role', 'proxy', 'privateKey', 'privateKeyFile', 'listen', 'peers', 'api', 'switch', 'ports', 'log', 'plugins', 'vttif', 'fastpath'],
};
const VOCABULARY: JsonVocabulary = { keys: DICTIONARY.filter((d) => /^[a-zA-Z]+$/.test(d)), strings: ['h1', 'proxy', 'tap0', KEY, '198.18.0.1:51820'] };

function yamlText(rng: Rng, value: Json): string {
  try {
    return stringify(value, {
      indent: rng.pick([2, 2, 4, 1]),
      flowCollectionPadding: rng.bool(),
      collectionStyle: rng.pick(['any', 'any', 'block', 'flow'] as const),
      defaultStringType: rng.pick(['PLAIN', 'PLAIN', 'QUOTE_DOUBLE', 'QUOTE_SINGLE', 'BLOCK_LITERAL'] as const),
      lineWidth: rng.pick([80, 0, 20]),
    });
  } catch {
    return JSON.stringify(value); // JSON is YAML too
  }
}

function generate(rng: Rng): string {
  const r = rng.float();
  if (r < 0.4) return mutateText(rng, rng.pick(SEEDS), { dictionary: DICTIONARY, others: SEEDS, maxChars: 65_536 });
  if (r < 0.8) return yamlText(rng, fromShape(rng, CONFIG_SHAPE, VOCABULARY));
  if (r < 0.95) return mutateText(rng, yamlText(rng, fromShape(rng, CONFIG_SHAPE, VOCABULARY, 0.02)), { dictionary: DICTIONARY, maxMutations: 3 });
  return yamlText(rng, randomJson(rng, VOCABULARY, 5));
}

export function isPositionedConfigError(error: unknown, file = FILE): boolean {
  return error instanceof ConfigError && error.code === 'config-invalid' && error.line !== undefined && error.message.startsWith(`${file}:${error.line}:${error.column}: `);
}

export function configTarget(): FuzzTarget<string> {
  return {
    name: 'config',
    summary: 'parseDaemonConfig (switch + plugin sections) on any text: a config, or a ConfigError at file:line:col',
    generate,
    execute(text) {
      const config = parseDaemonConfig(text, FILE);
      check(typeof config.name === 'string' && Array.isArray(config.peers) && Array.isArray(config.ports), 'config of the wrong shape');
      for (const p of config.plugins) check(p.options !== null && typeof p.options === 'object' && Object.getPrototypeOf(p.options) === Object.prototype, `plugins: options is a ${p.options?.constructor?.name ?? typeof p.options}, not a plain object`);
      return 'ok';
    },
    classify(error) {
      if (isPositionedConfigError(error)) return `ConfigError:${(error as ConfigError).keyPath.replace(/\[\d+\]/g, '[]') || 'syntax'}`.slice(0, 48);
      return undefined;
    },
    ...textCodec,
    worstCases: [
      { name: 'deep flow nesting', make: (n) => `name: h1\nvttif: ${'['.repeat(Math.floor(n / 2))}${']'.repeat(Math.floor(n / 2))}\n` },
      { name: 'unclosed flow nesting', make: (n) => `name: h1\nvttif: ${'['.repeat(n)}\n` },
      { name: 'deep block nesting', make: (n) => `name: h1\nvttif:\n${Array.from({ length: Math.floor(Math.sqrt(n)) }, (_, i) => `${' '.repeat(i + 1)}k:`).join('\n')}\n` },
      { name: 'long key (edit distance)', make: (n) => `name: h1\n${'p'.repeat(n)}: 1\n` },
      { name: 'many keys', make: (n) => `name: h1\nports:\n${'  - { name: t, type: tap }\n'.repeat(Math.floor(n / 27))}` },
      { name: 'one mapping, many keys', make: (n) => `name: h1\nrole: proxy\nplugins:\n  - name: p\n    module: m\n    options:\n${Array.from({ length: Math.floor(n / 16) }, (_, i) => `      k${i}: ${i}`).join('\n')}\n` },
      { name: 'run of spaces', make: (n) => `name: h1${' '.repeat(n)}\n` },
      { name: 'run of dashes', make: (n) => '- '.repeat(Math.floor(n / 2)) },
      { name: 'many aliases', make: (n) => `name: h1\nrole: proxy\nplugins:\n  - name: p\n    module: m\n    options: { a: &a [1], b: [${Array(Math.max(1, Math.floor(n / 4))).fill('*a').join(',')}] }\n` },
      { name: 'long comment', make: (n) => `name: h1 #${'#'.repeat(n)}\n` },
    ],
  };
}

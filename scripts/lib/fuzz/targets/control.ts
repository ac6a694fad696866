/**
 * Control messages → parseControlMessage (switch/overlay/control-messages.ts) with VTTIF's extensions
 * (plugins/vttif/control-extensions.ts: `matrix`, `vttif-rate`), on the bytes a link delivers; the switch's own
 * messages include the move messages (`mac-moved`, `mac-moved-ack`, `mac-arrived`).
 *
 * Oracle: never throws; { ok: false, reason, detail } with a reason of the fixed set (CONTROL_DROP_REASONS or
 * "<extension>-invalid": the channel counts refusals by reason, so a reason that echoes the input would grow
 * that table without bound) and a detail of at most MAX_DETAIL_CHARS, or { ok: true } with a message of the
 * declared shape that encodes again (encodeControlMessage) and parses back to itself.
 */
import {
  CONTROL_DROP_REASONS,
  controlExtensions,
  encodeControlMessage,
  MAX_DETAIL_CHARS,
  parseControlMessage,
  PRIMITIVE_OPS,
  type ControlId,
  type ControlMessage,
} from '../../../../switch/overlay/control-messages.js';
import { VTTIF_CONTROL_EXTENSIONS } from '../../../../plugins/vttif/control-extensions.js';
import { isValidMatrixUpdate, type MatrixUpdate } from '../../../../plugins/vttif/matrix.js';
import { deepJson, fromShape, jsonText, randomJson, type Json, type JsonVocabulary, type Shape } from '../json-gen.js';
import { mutateBytes, mutateText } from '../mutate.js';
import type { Rng } from '../rng.js';
import { bytesCodec, check, type FuzzTarget } from '../target.js';
import { matrixUpdateShape, MATRIX_VOCABULARY } from './matrix.js';

const MAC = { oneOf: ['02:00:00:00:00:01', '02:00:00:00:00:02', 'ff:ff:ff:ff:ff:ff', '02-00-00-00-00-03', '02:00:00:00:00:0G', 'any'] } as const;
const ID: Shape = { oneOf: [0, 1, 7, 2 ** 53 - 1, 2 ** 53, -1, 1.5, 'ff', '0123456789abcdef0123456789abcdef', 'FF', 'x', ''] };
const COUNT: Shape = { oneOf: [0, 1, 5, 2 ** 53 - 1, -1, 1.5] };
const DROPS: Shape = { make: (rng) => (rng.bool(0.8) ? { runt: rng.int(5) } : rng.pick<Json>([{}, { proto: 1 }, { 'a b': 1 }, [], { x: -1 }])) };
const INTERFACE: Shape = {
  fields: {
    name: { oneOf: ['tap0', 'h2', '', 'x'.repeat(65)] },
    kind: { oneOf: ['tap', 'capture', 'memory', 'link', 'tun'] },
    state: { oneOf: ['up', 'down'] },
    lastError: { oneOf: ['EIO', 'x'.repeat(1025)] },
    rxFrames: COUNT,
    rxBytes: COUNT,
    txFrames: COUNT,
    txBytes: COUNT,
    drops: DROPS,
  },
  optional: ['lastError'],
};
const LINK: Shape = {
  fields: {
    name: { oneOf: ['proxy', 'h2'] },
    publicKey: { oneOf: ['m27sy1It46pvVHoaX1hlMHuX+8oGyVVdoo8y03MUTwg=', 'x'.repeat(65)] },
    state: { oneOf: ['up', 'connecting'] },
    mode: { oneOf: ['udp', 'tcp', 'auto'] },
    transport: { oneOf: ['udp', 'tcp'] },
    endpoint: { oneOf: ['udp:198.18.0.1:51820', 'x'.repeat(81)] },
    lastHandshakeAt: { oneOf: ['2026-01-01T00:00:00.000Z'] },
    owner: { oneOf: ['config', 'proxy:fastpath'] },
    rxBytes: COUNT,
    txBytes: COUNT,
    rxPackets: COUNT,
    txPackets: COUNT,
    transportSwitches: COUNT,
    drops: DROPS,
  },
  optional: ['endpoint', 'lastHandshakeAt', 'owner'],
};
const RULE: Shape = {
  fields: {
    id: COUNT,
    src: MAC,
    dst: { oneOf: ['any', 'none', '02:00:00:00:00:01', 'ANY'] },
    target: { oneOf: ['h2', 'tap0'] },
    priority: { oneOf: [0, -5, 1.5] },
    owner: { oneOf: ['config', 'api'] },
    hitFrames: COUNT,
    hitBytes: COUNT,
  },
};
const SHAPES: Record<string, Shape> = {
  hb: { fields: { t: { oneOf: ['hb'] }, name: { oneOf: ['h1', 'proxy', '', 'x'.repeat(65)] }, role: { oneOf: ['host', 'proxy', 'peer'] } } },
  req: {
    fields: {
      t: { oneOf: ['req'] },
      id: ID,
      op: { oneOf: [...PRIMITIVE_OPS, 'constructor', 'toString', 'exec'] },
      args: { items: { make: (rng) => randomJson(rng, {}, 2) }, max: 6 },
      actor: { oneOf: ['proxy', 'api', 'star', '', 'x'.repeat(257)] },
    },
  },
  res: {
    fields: {
      t: { oneOf: ['res'] },
      id: ID,
      ok: { oneOf: [true, false] },
      result: { make: (rng) => randomJson(rng, {}, 3) },
      error: {
        fields: { code: { oneOf: ['rule-conflict', 'x', '', 'a b'] }, message: { oneOf: ['m', ''] }, field: { oneOf: ['/body/src', 1] }, status: { oneOf: [400, 404, 499, 500, 399, 400.5] } },
        optional: ['field', 'status'],
      },
    },
    optional: ['result', 'error'],
  },
  report: {
    fields: {
      t: { oneOf: ['report'] },
      name: { oneOf: ['h1', 'h2'] },
      interfaces: { items: INTERFACE, max: 4 },
      links: { items: LINK, max: 3 },
      rules: { items: RULE, max: 4 },
      listen: { fields: { udp: { oneOf: [51820, 0, 65_536, 1.5, '51820'] }, tcp: { oneOf: [443, 65_535, 1] } }, optional: ['udp', 'tcp'] },
    },
    optional: ['listen'],
  },
  'mac-moved': {
    fields: {
      t: { oneOf: ['mac-moved'] },
      id: { oneOf: [1, 7, 0, -1, 1.5, '1', 2 ** 53] },
      mac: { oneOf: ['02:00:c6:13:01:01', '03:00:c6:13:01:01', '02:00:C6:13:01:01', 'ff:ff:ff:ff:ff:ff', '02:00:c6:13:01', ''] },
      host: { oneOf: ['h2', 'proxy', '', 'x'.repeat(65)] },
    },
  },
  'mac-moved-ack': { fields: { t: { oneOf: ['mac-moved-ack'] }, id: { oneOf: [1, 0, 1.5, '3', null] } } },
  'mac-arrived': { fields: { t: { oneOf: ['mac-arrived'] }, mac: { oneOf: ['02:00:c6:13:01:01', '01:00:5e:00:00:01', 'x', 5] } } },
  matrix: { fields: { t: { oneOf: ['matrix'] }, update: matrixUpdateShape } },
  'vttif-rate': { fields: { t: { oneOf: ['vttif-rate'] }, updateRateHz: { oneOf: [1, 20, 0, 21, 0.5, 10.5, '5', null] } } },
};
const VOCABULARY: JsonVocabulary = {
  keys: ['t', 'name', 'role', 'id', 'op', 'args', 'actor', 'ok', 'result', 'error', 'code', 'message', 'field', 'status', 'interfaces', 'links', 'rules', 'listen', 'udp', 'tcp', 'update', 'updateRateHz', 'mac', 'host', ...(MATRIX_VOCABULARY.keys ?? [])],
  strings: ['hb', 'req', 'res', 'report', 'plugin', 'matrix', 'vttif-rate', 'mac-moved', 'mac-moved-ack', 'mac-arrived', 'host', 'proxy', ...PRIMITIVE_OPS, ...(MATRIX_VOCABULARY.strings ?? [])],
};
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** JSON with object keys sorted: compares two values whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) : v,
  );
}

const extensions = controlExtensions(VTTIF_CONTROL_EXTENSIONS);

const REASONS = new Set<string>([...CONTROL_DROP_REASONS, ...[...extensions.keys()].map((type) => `${type}-invalid`)]);
/** A unicast MAC, lower-case, colons: what the move messages carry. */
const MOVE_MAC = /^[0-9a-f][02468ace](?::[0-9a-f]{2}){5}$/;
const isId = (id: ControlId): boolean => (typeof id === 'string' ? /^[0-9a-f]{1,32}$/.test(id) : Number.isSafeInteger(id) && id >= 0);

function checkMessage(m: ControlMessage): void {
  switch (m.t) {
    case 'hb':
      check(typeof m.name === 'string' && (m.role === 'host' || m.role === 'proxy'), 'hb: shape');
      break;
    case 'req':
      check(isId(m.id) && (PRIMITIVE_OPS as readonly string[]).includes(m.op) && Array.isArray(m.args) && m.args.length <= 4 && typeof m.actor === 'string', 'req: shape');
      break;
    case 'res':
      check(isId(m.id) && typeof m.ok === 'boolean', 'res: shape');
      if (!m.ok) check(typeof m.error?.code === 'string' && typeof m.error.message === 'string', 'res: error shape');
      if (m.error?.status !== undefined) check(Number.isInteger(m.error.status) && m.error.status >= 400 && m.error.status < 500, 'res: status');
      break;
    case 'report':
      check(typeof m.name === 'string' && Array.isArray(m.interfaces) && Array.isArray(m.links) && Array.isArray(m.rules), 'report: shape');
      for (const i of m.interfaces) check(typeof i.name === 'string' && Number.isSafeInteger(i.rxFrames) && typeof i.drops === 'object', 'report: interface shape');
      for (const r of m.rules) check(Number.isSafeInteger(r.id) && Number.isInteger(r.priority) && typeof r.target === 'string', 'report: rule shape');
      for (const port of [m.listen?.udp, m.listen?.tcp]) if (port !== undefined) check(Number.isInteger(port) && port >= 1 && port <= 65_535, 'report: listen port');
      break;
    case 'mac-moved':
      check(Number.isSafeInteger(m.id) && m.id >= 1 && MOVE_MAC.test(m.mac) && typeof m.host === 'string' && m.host.length >= 1 && m.host.length <= 64, 'mac-moved: shape');
      break;
    case 'mac-moved-ack':
      check(Number.isSafeInteger(m.id) && m.id >= 1, 'mac-moved-ack: shape');
      break;
    case 'mac-arrived':
      check(MOVE_MAC.test(m.mac), 'mac-arrived: shape');
      break;
    case 'plugin':
      check(extensions.has(m.type), `plugin: unknown type ${m.type}`);
      if (m.type === 'matrix') check(isValidMatrixUpdate(m.body as MatrixUpdate), 'matrix: body is not a valid MatrixUpdate');
      if (m.type === 'vttif-rate') check(typeof m.body === 'number' && m.body >= 1 && m.body <= 20, 'vttif-rate: body');
      break;
    default:
      check(false, `unknown message t ${JSON.stringify((m as { t: unknown }).t)}`);
  }
}

export function structuredControl(rng: Rng): string {
  const type = rng.pick(Object.keys(SHAPES));
  const value = rng.bool(0.9) ? fromShape(rng, SHAPES[type]!, VOCABULARY) : ({ t: type, ...(randomJson(rng, VOCABULARY, 3) as object) } as Json);
  return jsonText(rng, value);
}

export function controlTarget(): FuzzTarget<Uint8Array> {
  let seeds: Uint8Array[] | undefined;
  const makeSeeds = (): Uint8Array[] => [
    encodeControlMessage({ t: 'hb', name: 'h1', role: 'host' }),
    encodeControlMessage({ t: 'req', id: 7, op: 'addRule', args: [{ src: '02:00:00:00:00:01', dst: 'any', target: 'h2', priority: 3 }], actor: 'proxy' }),
    encodeControlMessage({ t: 'res', id: 7, ok: false, error: { code: 'rule-conflict', message: 'taken', field: '/body/src', status: 409 } }),
    encodeControlMessage({ t: 'res', id: 8, ok: true, result: { id: 3 } }),
    encodeControlMessage({ t: 'report', name: 'h1', interfaces: [], links: [], rules: [], listen: { udp: 51820, tcp: 443 } }),
    encodeControlMessage({ t: 'mac-moved', id: 3, mac: '02:00:c6:13:01:01', host: 'h2' }),
    encodeControlMessage({ t: 'mac-moved-ack', id: 3 }),
    encodeControlMessage({ t: 'mac-arrived', mac: '02:00:c6:13:01:01' }),
    encodeControlMessage(
      { t: 'plugin', type: 'matrix', body: { host: 'h1', atMs: 12, entries: [{ src: 0x020000000001, dst: 0x020000000002, frames: 3, bytes: 180 }] } },
      extensions,
    ),
    encodeControlMessage({ t: 'plugin', type: 'vttif-rate', body: 5 }, extensions),
  ];
  return {
    name: 'control',
    summary: 'parseControlMessage with the VTTIF extensions: a short reason or a well-shaped message that round-trips, never a throw',
    generate(rng) {
      seeds ??= makeSeeds();
      const r = rng.float();
      if (r < 0.3) return mutateBytes(rng, rng.pick(seeds), { others: seeds, maxBytes: 70_000 });
      if (r < 0.5) return encoder.encode(mutateText(rng, decoder.decode(rng.pick(seeds)), { dictionary: ['{', '}', '[', ']', '"t":', ',', '"', '\\u0000', '1e999', 'null', '-0'], others: seeds.map((s) => decoder.decode(s)) }));
      if (r < 0.95) return encoder.encode(structuredControl(rng));
      return encoder.encode(rng.bool(0.5) ? deepJson(rng.size(70_000), rng.bool() ? 'array' : 'object') : jsonText(rng, randomJson(rng, VOCABULARY, 6)));
    },
    execute(bytes) {
      const parsed = parseControlMessage(bytes, extensions);
      if (!parsed.ok) {
        check(REASONS.has(parsed.reason), `reason outside the fixed set (the channel counts refusals by reason)\n${String(parsed.reason).slice(0, 80)}`);
        check(typeof parsed.detail === 'string' && parsed.detail.length <= MAX_DETAIL_CHARS, `detail longer than ${MAX_DETAIL_CHARS} chars`);
        return `refused:${parsed.reason}`;
      }
      const message = parsed.message;
      checkMessage(message);
      const again = encodeControlMessage(message, extensions);
      if (again.length <= 60_000) {
        const back = parseControlMessage(again, extensions);
        check(back.ok, `re-encoded message does not parse: ${back.ok ? '' : back.reason}`);
        check(canonical(back.message) === canonical(message), 're-encoded message parses to something else');
      }
      return message.t === 'plugin' ? `ok:${message.type}` : `ok:${message.t}`;
    },
    classify: () => undefined,
    ...bytesCodec,
    worstCases: [
      { name: 'deep array nesting', make: (n) => encoder.encode(deepJson(n, 'array')) },
      { name: 'deep object nesting', make: (n) => encoder.encode(deepJson(n, 'object')) },
      { name: 'long unknown type', make: (n) => encoder.encode(`{"t":"${'x'.repeat(Math.max(0, n - 9))}"}`) },
      { name: 'many args', make: (n) => encoder.encode(`{"t":"req","id":1,"op":"rules","actor":"a","args":[${Array(Math.max(1, Math.floor(n / 2))).fill('0').join(',')}]}`) },
    ],
  };
}

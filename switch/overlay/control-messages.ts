/**
 * Control messages carried inside the encrypted links (link payload type
 * 0x02, version 1): JSON objects with a `t` tag. Every message from the wire is
 * checked here, whole, before anything acts on it; a malformed one comes back
 * as a reason and changes nothing.
 *
 *   hb       heartbeat, both ways on the star, once a second (liveness)
 *   req      the Proxy asks a host to run a primitive
 *   res      the host's answer (result, or a typed error)
 *   report   a host tells the Proxy its interfaces, links and rules, and the
 *            ports its transports listen on (`listen`, optional: the Proxy
 *            dials fast paths there; its star link may run over TCP from an
 *            ephemeral port, which says nothing about the host's UDP port)
 *
 * Plugins add message types of their own (ControlExtension: VTTIF's `matrix` and `vttif-rate`,
 * plugins/vttif/control-extensions.ts): the switch knows only that such a message is a JSON object with that `t`;
 * the plugin's decoder checks the rest, whole, here on arrival — so a malformed one is still refused and counted
 * by the channel, and the switch imports nothing of the plugin. On the wire they look like any other message.
 */
import type { InterfaceView, RuleView } from './primitives.js';
import type { LinkStatus, ListenPorts } from '../link/link-manager.js';

export const PRIMITIVE_OPS = [
  'interfaces',
  'links',
  'addLink',
  'deleteLink',
  'rules',
  'addRule',
  'deleteRule',
  'configTimeBound',
  'setConfigTimeBound',
  'macs',
] as const;
export type PrimitiveOp = (typeof PRIMITIVE_OPS)[number];

export interface HeartbeatMessage {
  t: 'hb';
  name: string;
  role: 'host' | 'proxy';
}
export interface RequestMessage {
  t: 'req';
  id: number;
  op: PrimitiveOp;
  args: unknown[];
  actor: string;
}
export interface ResponseMessage {
  t: 'res';
  id: number;
  ok: boolean;
  result?: unknown;
  /** `status`: the HTTP status of the host's error (4xx), so the Proxy answers as the host would. */
  error?: { code: string; message: string; field?: string; status?: number };
}
export interface ReportMessage {
  t: 'report';
  name: string;
  interfaces: InterfaceView[];
  links: LinkStatus[];
  rules: RuleView[];
  /** The host's bound listen ports (absent from older hosts). */
  listen?: ListenPorts;
}
/** A plugin's message: `type` is its wire `t`, `body` its other fields (sent), or what its decoder made of them (received). */
export interface PluginMessage {
  t: 'plugin';
  type: string;
  body: unknown;
}
export type ControlMessage = HeartbeatMessage | RequestMessage | ResponseMessage | ReportMessage | PluginMessage;

/** A message type a plugin carries over the control channel. */
export interface ControlExtension {
  /** The wire `t`; must not be one of the switch's own. */
  readonly type: string;
  /** What a well-formed message needs, for the malformed-message reason. */
  readonly needs: string;
  /** The message's fields (without `t`) → what the plugin acts on, or undefined when malformed. Must not throw. */
  decode(fields: Record<string, unknown>): unknown;
  /** What the plugin sends → the message's fields (without `t`). */
  encode(body: unknown): Record<string, unknown>;
}

export type ControlExtensions = ReadonlyMap<string, ControlExtension>;
const NO_EXTENSIONS: ControlExtensions = new Map();
const OWN_TYPES = new Set(['hb', 'req', 'res', 'report', 'plugin']);

/** Checks a set of extensions: distinct types that are not the switch's own. */
export function controlExtensions(list: readonly ControlExtension[]): ControlExtensions {
  const map = new Map<string, ControlExtension>();
  for (const ext of list) {
    if (OWN_TYPES.has(ext.type) || map.has(ext.type)) throw new Error(`control extension type "${ext.type}" is taken`);
    map.set(ext.type, ext);
  }
  return map;
}

export type ControlParseResult = { ok: true; message: ControlMessage } | { ok: false; reason: string };

const MAX_CONTROL_BYTES = 60_000;
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeControlMessage(message: ControlMessage, extensions: ControlExtensions = NO_EXTENSIONS): Uint8Array {
  let wire: unknown = message;
  if (message.t === 'plugin') {
    const ext = extensions.get(message.type);
    if (!ext) throw new Error(`no control extension for "${message.type}"`);
    wire = { ...ext.encode(message.body), t: message.type };
  }
  return new TextEncoder().encode(JSON.stringify(wire));
}

export function parseControlMessage(body: Uint8Array, extensions: ControlExtensions = NO_EXTENSIONS): ControlParseResult {
  if (body.length > MAX_CONTROL_BYTES) return { ok: false, reason: `too large (${body.length} bytes)` };
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(body));
  } catch {
    return { ok: false, reason: 'not UTF-8 JSON' };
  }
  if (!isObject(value)) return { ok: false, reason: 'not a JSON object' };
  switch (value.t) {
    case 'hb':
      if (typeof value.name !== 'string' || (value.role !== 'host' && value.role !== 'proxy')) return bad('hb', 'name, role');
      return { ok: true, message: { t: 'hb', name: value.name, role: value.role } };
    case 'req':
      if (!isId(value.id)) return bad('req', 'id');
      if (typeof value.op !== 'string' || !(PRIMITIVE_OPS as readonly string[]).includes(value.op)) return bad('req', 'op');
      if (!Array.isArray(value.args) || value.args.length > 4) return bad('req', 'args');
      if (typeof value.actor !== 'string') return bad('req', 'actor');
      return { ok: true, message: { t: 'req', id: value.id, op: value.op as PrimitiveOp, args: value.args, actor: value.actor } };
    case 'res': {
      if (!isId(value.id) || typeof value.ok !== 'boolean') return bad('res', 'id, ok');
      if (value.ok) return { ok: true, message: { t: 'res', id: value.id, ok: true, result: value.result } };
      const e = value.error;
      if (!isObject(e) || typeof e.code !== 'string' || typeof e.message !== 'string') return bad('res', 'error');
      const status = typeof e.status === 'number' && Number.isInteger(e.status) && e.status >= 400 && e.status < 500 ? { status: e.status } : {};
      const error = { code: e.code, message: e.message, ...(typeof e.field === 'string' ? { field: e.field } : {}), ...status };
      return { ok: true, message: { t: 'res', id: value.id, ok: false, error } };
    }
    case 'report': {
      if (typeof value.name !== 'string' || !Array.isArray(value.interfaces) || !Array.isArray(value.links) || !Array.isArray(value.rules)) {
        return bad('report', 'name, interfaces, links, rules');
      }
      const listen = value.listen === undefined ? undefined : listenPorts(value.listen);
      if (listen === null) return bad('report', 'listen { udp?, tcp? } (ports 1..65535)');
      return {
        ok: true,
        message: {
          t: 'report',
          name: value.name,
          interfaces: value.interfaces as InterfaceView[],
          links: value.links as LinkStatus[],
          rules: value.rules as RuleView[],
          ...(listen ? { listen } : {}),
        },
      };
    }
    default: {
      const ext = typeof value.t === 'string' && !OWN_TYPES.has(value.t) ? extensions.get(value.t) : undefined;
      if (!ext) return { ok: false, reason: `unknown message type ${JSON.stringify(value.t)}` };
      const { t: _t, ...fields } = value;
      let decoded: unknown;
      try {
        decoded = ext.decode(fields);
      } catch {
        decoded = undefined;
      }
      if (decoded === undefined) return bad(ext.type, ext.needs);
      return { ok: true, message: { t: 'plugin', type: ext.type, body: decoded } };
    }
  }
}

function bad(type: string, fields: string): ControlParseResult {
  return { ok: false, reason: `malformed ${type}: needs ${fields}` };
}

/** `{ udp?, tcp? }` with ports 1..65535 and nothing else; null when malformed. */
function listenPorts(v: unknown): ListenPorts | null {
  if (!isObject(v) || Object.keys(v).some((k) => k !== 'udp' && k !== 'tcp')) return null;
  const listen: ListenPorts = {};
  for (const kind of ['udp', 'tcp'] as const) {
    const port = v[kind];
    if (port === undefined) continue;
    if (!isPort(port)) return null;
    listen[kind] = port;
  }
  return listen;
}

function isPort(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65_535;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isId(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER;
}

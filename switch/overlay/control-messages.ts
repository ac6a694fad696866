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
 *   mac-moved      the Proxy tells every host that VM MAC `mac` is now at host
 *                  `host` (a move it detected); only a host's Proxy may send it
 *   mac-moved-ack  the host's answer: it has re-pointed what it knew (`id` as sent)
 *   mac-arrived    a host tells its Proxy that `mac` appeared on one of its own
 *                  ports (a VM booted or arrived): the Proxy's second source of
 *                  moves, beside the guest's own announcement on the star
 *
 * A refusal carries one of a fixed set of reasons (CONTROL_DROP_REASONS, or "<extension type>-invalid" for the
 * extensions the daemon was built with), so counting refusals by reason cannot grow with what a sender writes, and
 * a detail of at most 200 characters for the log. Reports are checked element by element, and the result of a
 * relayed primitive against what that op returns (control-schemas.ts).
 *
 * Request ids are numbers (older Proxies) or strings of up to 32 hex digits (a random 64-bit id: control-channel.ts);
 * an answer echoes the id it answers, in its type.
 *
 * Plugins add message types of their own (ControlExtension: VTTIF's `matrix` and `vttif-rate`,
 * plugins/vttif/control-extensions.ts): the switch knows only that such a message is a JSON object with that `t`;
 * the plugin's decoder checks the rest, whole, here on arrival — so a malformed one is still refused and counted
 * by the channel, and the switch imports nothing of the plugin. On the wire they look like any other message.
 */
import type { InterfaceView, RuleView } from './primitives.js';
import type { LinkStatus, ListenPorts } from '../link/link-manager.js';
import { checkShape, interfaceList, linkList, PRIMITIVE_OPS, PRIMITIVE_RESULTS, ruleList, SHAPE_LIMITS, type PrimitiveOp } from './control-schemas.js';

export { PRIMITIVE_OPS, type PrimitiveOp } from './control-schemas.js';

export interface HeartbeatMessage {
  t: 'hb';
  name: string;
  role: 'host' | 'proxy';
}
/** A request id: a random 64-bit value as 16 hex digits; numbers from older Proxies are answered too. */
export type ControlId = number | string;

export interface RequestMessage {
  t: 'req';
  id: ControlId;
  op: PrimitiveOp;
  args: unknown[];
  actor: string;
}
export interface ResponseMessage {
  t: 'res';
  id: ControlId;
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
/** The Proxy → every host: VM `mac` is now at `host` (switch/overlay/proxy-moves.ts). */
export interface MacMovedMessage {
  t: 'mac-moved';
  /** The move's number on this Proxy (1, 2, 3…), echoed by the ack. */
  id: number;
  mac: string;
  host: string;
}
export interface MacMovedAckMessage {
  t: 'mac-moved-ack';
  id: number;
}
/** A host → its Proxy: `mac` was just learned on one of the host's own (VM) ports. */
export interface MacArrivedMessage {
  t: 'mac-arrived';
  mac: string;
}
/**
 * A Proxy → its hosts: "I am active, with this epoch" (issue 19, Proxy HA on etcd: switch/ha/). A host with
 * several Proxies follows the highest epoch it was told; sent at once on winning, then with every heartbeat.
 */
export interface ProxyActiveMessage {
  t: 'proxy-active';
  epoch: number;
}
export type MoveMessage = MacMovedMessage | MacMovedAckMessage | MacArrivedMessage;
/** A plugin's message: `type` is its wire `t`, `body` its other fields (sent), or what its decoder made of them (received). */
export interface PluginMessage {
  t: 'plugin';
  type: string;
  body: unknown;
}
export type ControlMessage = HeartbeatMessage | RequestMessage | ResponseMessage | ReportMessage | MoveMessage | ProxyActiveMessage | PluginMessage;

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
const OWN_TYPES = new Set(['hb', 'req', 'res', 'report', 'mac-moved', 'mac-moved-ack', 'mac-arrived', 'proxy-active', 'plugin']);

/** Checks a set of extensions: distinct types that are not the switch's own. */
export function controlExtensions(list: readonly ControlExtension[]): ControlExtensions {
  const map = new Map<string, ControlExtension>();
  for (const ext of list) {
    if (OWN_TYPES.has(ext.type) || map.has(ext.type)) throw new Error(`control extension type "${ext.type}" is taken`);
    map.set(ext.type, ext);
  }
  return map;
}

/** Why a control message was refused: a fixed set (plus "<extension>-invalid"), never text from the sender. */
export const CONTROL_DROP_REASONS = [
  /** Over MAX_CONTROL_BYTES. */
  'too-large',
  /** Not UTF-8, or not JSON. */
  'not-json',
  /** JSON, but not an object. */
  'not-object',
  /** A `t` that is neither the switch's nor a known extension's. */
  'unknown-type',
  'hb-invalid',
  'req-invalid',
  'res-invalid',
  'report-invalid',
  /** An answer from a peer other than the one the request went to (control-channel.ts). */
  'res-wrong-peer',
  /** An answer to no pending request: an id never sent, or one that already timed out. */
  'res-unknown-id',
  /** An answer whose result is not what its op returns. */
  'res-result-invalid',
  /** Over the peer's message rate, beyond the answers it owes (control-budget.ts): dropped unread. */
  'rate-limited',
  'mac-moved-invalid',
  'mac-moved-ack-invalid',
  'mac-arrived-invalid',
  /** A `mac-moved` from anyone but this host's Proxy (or at the Proxy itself): refused, nothing forgotten. */
  'mac-moved-not-from-proxy',
  /** A `mac-moved-ack` for no move waiting for that peer (not asked, answered twice, or too late). */
  'mac-moved-ack-unexpected',
  /** A `mac-arrived` anywhere but at the Proxy, or from a peer that is not one of its hosts. */
  'mac-arrived-not-from-host',
  'proxy-active-invalid',
  /** A `proxy-active` at a Proxy, or from a peer that is none of the host's Proxies. */
  'proxy-active-not-from-proxy',
  /** A `proxy-active` with an older epoch than the one the host follows (or the same from another Proxy). */
  'proxy-active-stale',
  /** Anything else (a reason this list forgot). */
  'other',
] as const;
export type ControlDropReason = (typeof CONTROL_DROP_REASONS)[number] | `${string}-invalid`;

export type ControlParseResult = { ok: true; message: ControlMessage } | { ok: false; reason: ControlDropReason; detail: string };

export const MAX_CONTROL_BYTES = 60_000;
/** How much of a refusal's detail is kept for the log. */
export const MAX_DETAIL_CHARS = 200;
const MAX_ACTOR_CHARS = 256;
const MAX_ID_HEX_DIGITS = 32;
/** What an error code in an answer looks like. */
export const CONTROL_ERROR_CODE = /^[A-Za-z0-9_.-]{1,64}$/;
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
  if (body.length > MAX_CONTROL_BYTES) return refuse('too-large', `${body.length} bytes, at most ${MAX_CONTROL_BYTES}`);
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(body));
  } catch {
    return refuse('not-json', 'not UTF-8 JSON');
  }
  if (!isObject(value)) return refuse('not-object', 'not a JSON object');
  switch (value.t) {
    case 'hb':
      if (!isShortString(value.name, SHAPE_LIMITS.nameChars) || (value.role !== 'host' && value.role !== 'proxy')) return bad('hb', 'name, role');
      return { ok: true, message: { t: 'hb', name: value.name, role: value.role } };
    case 'req':
      if (!isId(value.id)) return bad('req', 'id');
      if (typeof value.op !== 'string' || !(PRIMITIVE_OPS as readonly string[]).includes(value.op)) return bad('req', 'op');
      if (!Array.isArray(value.args) || value.args.length > 4) return bad('req', 'args');
      if (!isShortString(value.actor, MAX_ACTOR_CHARS)) return bad('req', 'actor');
      return { ok: true, message: { t: 'req', id: value.id, op: value.op as PrimitiveOp, args: value.args, actor: value.actor } };
    case 'res': {
      if (!isId(value.id) || typeof value.ok !== 'boolean') return bad('res', 'id, ok');
      if (value.ok) return { ok: true, message: { t: 'res', id: value.id, ok: true, result: value.result } };
      const e = value.error;
      if (!isObject(e) || typeof e.code !== 'string' || !CONTROL_ERROR_CODE.test(e.code) || !isShortString(e.message, SHAPE_LIMITS.textChars)) {
        return bad('res', 'error { code, message }');
      }
      if (e.field !== undefined && !isShortString(e.field, SHAPE_LIMITS.ownerChars)) return bad('res', 'error.field');
      const status = typeof e.status === 'number' && Number.isInteger(e.status) && e.status >= 400 && e.status < 500 ? { status: e.status } : {};
      const error = { code: e.code, message: e.message, ...(typeof e.field === 'string' ? { field: e.field } : {}), ...status };
      return { ok: true, message: { t: 'res', id: value.id, ok: false, error } };
    }
    case 'report': {
      if (!isShortString(value.name, SHAPE_LIMITS.nameChars)) return bad('report', 'name');
      const interfaces = checkShape(interfaceList, value.interfaces, 'interfaces');
      if (!interfaces.ok) return refuse('report-invalid', interfaces.problem);
      const links = checkShape(linkList, value.links, 'links');
      if (!links.ok) return refuse('report-invalid', links.problem);
      const rules = checkShape(ruleList, value.rules, 'rules');
      if (!rules.ok) return refuse('report-invalid', rules.problem);
      const listen = value.listen === undefined ? undefined : listenPorts(value.listen);
      if (listen === null) return bad('report', 'listen { udp?, tcp? } (ports 1..65535)');
      return {
        ok: true,
        message: { t: 'report', name: value.name, interfaces: interfaces.value, links: links.value, rules: rules.value, ...(listen ? { listen } : {}) },
      };
    }
    case 'mac-moved':
      if (!isMoveId(value.id) || !isMacText(value.mac) || !isName(value.host)) return bad('mac-moved', 'id, mac, host');
      return { ok: true, message: { t: 'mac-moved', id: value.id, mac: value.mac, host: value.host } };
    case 'mac-moved-ack':
      if (!isMoveId(value.id)) return bad('mac-moved-ack', 'id');
      return { ok: true, message: { t: 'mac-moved-ack', id: value.id } };
    case 'mac-arrived':
      if (!isMacText(value.mac)) return bad('mac-arrived', 'mac');
      return { ok: true, message: { t: 'mac-arrived', mac: value.mac } };
    case 'proxy-active':
      if (!isMoveId(value.epoch)) return bad('proxy-active', 'epoch');
      return { ok: true, message: { t: 'proxy-active', epoch: value.epoch } };
    default: {
      const ext = typeof value.t === 'string' && !OWN_TYPES.has(value.t) ? extensions.get(value.t) : undefined;
      if (!ext) return refuse('unknown-type', `unknown message type ${JSON.stringify(value.t)}`);
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

/**
 * The result of a relayed primitive, checked against what `op` returns and rebuilt from the known fields;
 * `problem` (at most MAX_DETAIL_CHARS) says where it went wrong.
 */
export function checkPrimitiveResult(op: PrimitiveOp, result: unknown): { ok: true; value: unknown } | { ok: false; problem: string } {
  const checked = checkShape(PRIMITIVE_RESULTS[op], result, 'result');
  return checked.ok ? checked : { ok: false, problem: truncate(checked.problem) };
}

/** Text for a log, cut to MAX_DETAIL_CHARS. */
export function truncate(text: string, maxChars = MAX_DETAIL_CHARS): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars - 1)}…`;
}

function refuse(reason: ControlDropReason, detail: string): ControlParseResult {
  return { ok: false, reason, detail: truncate(detail) };
}

function bad(type: string, fields: string): ControlParseResult {
  return refuse(`${type}-invalid`, `malformed ${type}: needs ${fields}`);
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

function isShortString(v: unknown, maxChars: number): v is string {
  return typeof v === 'string' && v.length <= maxChars;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const MAC_TEXT = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;

/** A unicast MAC in the API's form (lower-case, colons): a VM's address, never a group one. */
function isMacText(v: unknown): v is string {
  return typeof v === 'string' && MAC_TEXT.test(v) && (parseInt(v.slice(0, 2), 16) & 1) === 0;
}

function isName(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= SHAPE_LIMITS.nameChars;
}

function isMoveId(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;
}

const HEX_ID = new RegExp(`^[0-9a-f]{1,${MAX_ID_HEX_DIGITS}}$`);

function isId(v: unknown): v is ControlId {
  if (typeof v === 'string') return HEX_ID.test(v);
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER;
}

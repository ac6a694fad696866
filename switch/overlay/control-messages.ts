/**
 * Control messages carried inside the encrypted links (link payload type
 * 0x02, version 1): JSON objects with a `t` tag. Every message from the wire is
 * checked here, whole, before anything acts on it; a malformed one comes back
 * as a reason and changes nothing.
 *
 *   hb       heartbeat, both ways on the star, once a second (liveness)
 *   req      the Proxy asks a host to run a primitive
 *   res      the host's answer (result, or a typed error)
 *   report   a host tells the Proxy its interfaces, links and rules
 *   matrix   a host's VTTIF traffic-matrix deltas since its last one (MACs in colon form on the wire,
 *            plugins/vttif/matrix-codec.ts); checked whole: one bad entry rejects the message
 *   vttif-rate  the Proxy tells a host its new VTTIF update rate (1..20 Hz)
 */
import { decodeMatrixUpdate, encodeMatrixUpdate } from '../../plugins/vttif/matrix-codec.js';
import type { MatrixUpdate } from '../../plugins/vttif/matrix.js';
import { MAX_UPDATE_RATE_HZ, MIN_UPDATE_RATE_HZ } from '../../plugins/vttif/parameters.js';
import type { InterfaceView, RuleView } from './primitives.js';
import type { LinkStatus } from '../link/link-manager.js';

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
  error?: { code: string; message: string; field?: string };
}
export interface ReportMessage {
  t: 'report';
  name: string;
  interfaces: InterfaceView[];
  links: LinkStatus[];
  rules: RuleView[];
}
export interface MatrixMessage {
  t: 'matrix';
  update: MatrixUpdate;
}
export interface VttifRateMessage {
  t: 'vttif-rate';
  updateRateHz: number;
}
export type ControlMessage = HeartbeatMessage | RequestMessage | ResponseMessage | ReportMessage | MatrixMessage | VttifRateMessage;

export type ControlParseResult = { ok: true; message: ControlMessage } | { ok: false; reason: string };

const MAX_CONTROL_BYTES = 60_000;
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeControlMessage(message: ControlMessage): Uint8Array {
  const wire = message.t === 'matrix' ? { t: 'matrix', update: encodeMatrixUpdate(message.update) } : message;
  return new TextEncoder().encode(JSON.stringify(wire));
}

export function parseControlMessage(body: Uint8Array): ControlParseResult {
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
      const error = { code: e.code, message: e.message, ...(typeof e.field === 'string' ? { field: e.field } : {}) };
      return { ok: true, message: { t: 'res', id: value.id, ok: false, error } };
    }
    case 'report':
      if (typeof value.name !== 'string' || !Array.isArray(value.interfaces) || !Array.isArray(value.links) || !Array.isArray(value.rules)) {
        return bad('report', 'name, interfaces, links, rules');
      }
      return {
        ok: true,
        message: {
          t: 'report',
          name: value.name,
          interfaces: value.interfaces as InterfaceView[],
          links: value.links as LinkStatus[],
          rules: value.rules as RuleView[],
        },
      };
    case 'matrix': {
      const update = decodeMatrixUpdate(value.update);
      if (update === undefined) return bad('matrix', 'update { host, atMs, entries [{ src, dst, frames, bytes }] }');
      return { ok: true, message: { t: 'matrix', update } };
    }
    case 'vttif-rate': {
      const hz = value.updateRateHz;
      if (typeof hz !== 'number' || !(hz >= MIN_UPDATE_RATE_HZ && hz <= MAX_UPDATE_RATE_HZ)) return bad('vttif-rate', 'updateRateHz 1..20');
      return { ok: true, message: { t: 'vttif-rate', updateRateHz: hz } };
    }
    default:
      return { ok: false, reason: `unknown message type ${JSON.stringify(value.t)}` };
  }
}

function bad(type: string, fields: string): ControlParseResult {
  return { ok: false, reason: `malformed ${type}: needs ${fields}` };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isId(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER;
}

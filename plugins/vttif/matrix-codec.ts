/**
 * JSON form of a MatrixUpdate for the control channel: MACs in lower-case colon form, so the wire stays readable
 * and independent of how the switch represents a Mac. `decodeMatrixUpdate` is total: bad input gives undefined
 * (the Proxy counts it), never an exception.
 */
import { formatMac, parseMac } from '../../switch/frame/mac.js';
import { isValidMatrixUpdate, type MatrixEntry, type MatrixUpdate } from './matrix.js';

export interface MatrixEntryJson {
  src: string;
  dst: string;
  frames: number;
  bytes: number;
}

export interface MatrixUpdateJson {
  host: string;
  atMs: number;
  entries: MatrixEntryJson[];
}

export function encodeMatrixUpdate(update: MatrixUpdate): MatrixUpdateJson {
  return {
    host: update.host,
    atMs: update.atMs,
    entries: update.entries.map((e) => ({ src: formatMac(e.src), dst: formatMac(e.dst), frames: e.frames, bytes: e.bytes })),
  };
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

export function decodeMatrixUpdate(json: unknown): MatrixUpdate | undefined {
  if (!isRecord(json) || typeof json.host !== 'string' || typeof json.atMs !== 'number') return undefined;
  if (!Array.isArray(json.entries)) return undefined;
  const entries: MatrixEntry[] = [];
  for (const raw of json.entries as unknown[]) {
    if (!isRecord(raw) || typeof raw.src !== 'string' || typeof raw.dst !== 'string') return undefined;
    const src = parseMac(raw.src);
    const dst = parseMac(raw.dst);
    if (src === undefined || dst === undefined) return undefined;
    entries.push({ src, dst, frames: raw.frames as number, bytes: raw.bytes as number });
  }
  const update: MatrixUpdate = { host: json.host, atMs: json.atMs, entries };
  return isValidMatrixUpdate(update) ? update : undefined;
}

/**
 * The VTTIF matrix codec → decodeMatrixUpdate (plugins/vttif/matrix-codec.ts) on any JSON value (what
 * JSON.parse makes of a `matrix` message's `update`).
 *
 * Oracle: never throws; undefined, or an update that isValidMatrixUpdate accepts, whose entries are as many as
 * the input's, and that encodes and decodes back to itself.
 */
import { decodeMatrixUpdate, encodeMatrixUpdate } from '../../../../plugins/vttif/matrix-codec.js';
import { isValidMatrixUpdate } from '../../../../plugins/vttif/matrix.js';
import { fromShape, jsonText, randomJson, type JsonVocabulary, type Shape } from '../json-gen.js';
import { mutateText } from '../mutate.js';
import type { Rng } from '../rng.js';
import { check, textCodec, type FuzzTarget } from '../target.js';

export const MATRIX_VOCABULARY: JsonVocabulary = {
  keys: ['host', 'atMs', 'entries', 'src', 'dst', 'frames', 'bytes'],
  strings: ['02:00:00:00:00:01', '02-00-00-00-00-02', 'FF:FF:FF:FF:FF:FF', '02:00:00:00:00:1', '02:00:00:00:00:01 ', '02:00:00-00:00:01', 'h1'],
};

/** Mostly valid values (so whole updates decode and round-trip), and the boundary cases. */
const COUNT: Shape = { make: (rng) => (rng.bool(0.85) ? rng.pick([0, 1, 180, 1514, 2 ** 53 - 1]) : rng.pick([2 ** 53, -1, 1.5, 1e308, '3', -0, null])) };
const MAC_TEXT: Shape = { make: (rng) => (rng.bool(0.85) ? rng.pick(['02:00:00:00:00:01', '02-00-00-00-00-02', 'FF:FF:FF:FF:FF:FF', '52:54:00:12:34:56']) : rng.pick(MATRIX_VOCABULARY.strings!)) };
export const matrixUpdateShape: Shape = {
  fields: {
    host: { oneOf: ['h1', 'h1', 'proxy', ''] },
    atMs: { oneOf: [0, 12.5, 1_700_000_000_000, -1, 1e308] },
    entries: { items: { fields: { src: MAC_TEXT, dst: MAC_TEXT, frames: COUNT, bytes: COUNT } }, max: 12 },
  },
};

function generateText(rng: Rng): string {
  const r = rng.float();
  if (r < 0.6) return jsonText(rng, fromShape(rng, matrixUpdateShape, MATRIX_VOCABULARY, rng.pick([0, 0.02, 0.08])));
  if (r < 0.85) return mutateText(rng, jsonText(rng, fromShape(rng, matrixUpdateShape, MATRIX_VOCABULARY, 0)), { dictionary: ['{', '}', '[', ']', ',', '"src":', '"entries":', 'null', '-0', '1e400'] });
  return jsonText(rng, randomJson(rng, MATRIX_VOCABULARY, 5));
}

export function matrixTarget(): FuzzTarget<string> {
  return {
    name: 'vttif-matrix',
    summary: 'decodeMatrixUpdate on any JSON value: undefined or a valid update that round-trips, never a throw',
    generate: generateText,
    execute(text) {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return 'not-json';
      }
      const update = decodeMatrixUpdate(json);
      if (update === undefined) return 'refused';
      check(isValidMatrixUpdate(update), 'decoded an update isValidMatrixUpdate refuses');
      const entries = (json as { entries?: unknown }).entries;
      check(Array.isArray(entries) && entries.length === update.entries.length, 'entries lost or invented');
      const back = decodeMatrixUpdate(JSON.parse(JSON.stringify(encodeMatrixUpdate(update))));
      check(back !== undefined && JSON.stringify(back) === JSON.stringify(update), 'encode → decode is not the identity');
      return update.entries.length === 0 ? 'ok:empty' : 'ok';
    },
    classify: () => undefined,
    ...textCodec,
    worstCases: [
      {
        name: 'many entries',
        make: (n) => JSON.stringify({ host: 'h1', atMs: 1, entries: Array.from({ length: Math.max(1, Math.floor(n / 75)) }, () => ({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02', frames: 1, bytes: 64 })) }),
      },
      { name: 'long MAC string', make: (n) => JSON.stringify({ host: 'h1', atMs: 1, entries: [{ src: '0'.repeat(n), dst: '02:00:00:00:00:02', frames: 1, bytes: 1 }] }) },
      { name: 'long host', make: (n) => JSON.stringify({ host: 'h'.repeat(n), atMs: 1, entries: [] }) },
    ],
  };
}

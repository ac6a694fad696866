import { describe, expect, it } from 'vitest';
import { decodeMatrixUpdate, encodeMatrixUpdate } from '../../../plugins/vttif/matrix-codec.js';
import { isValidMatrixUpdate } from '../../../plugins/vttif/matrix.js';
import { vm } from './simulate.js';

describe('matrix codec', () => {
  const update = { host: 'h1', atMs: 5, entries: [{ src: vm(1), dst: vm(2), frames: 3, bytes: 4500 }] };

  it('round-trips, with MACs as text on the wire', () => {
    const json = encodeMatrixUpdate(update);
    expect(json.entries[0]).toMatchObject({ src: '02:00:c6:13:00:01', dst: '02:00:c6:13:00:02' });
    expect(decodeMatrixUpdate(JSON.parse(JSON.stringify(json)))).toEqual(update);
  });

  it('gives undefined for malformed input instead of throwing', () => {
    expect(decodeMatrixUpdate(null)).toBeUndefined();
    expect(decodeMatrixUpdate({ host: 'h1', atMs: 0, entries: [{ src: 'nope', dst: '02:00:00:00:00:01' }] })).toBeUndefined();
    expect(
      decodeMatrixUpdate({ host: 'h1', atMs: 0, entries: [{ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02', frames: -1, bytes: 1 }] }),
    ).toBeUndefined();
    expect(isValidMatrixUpdate({ host: '', atMs: 0, entries: [] })).toBe(false);
  });
});

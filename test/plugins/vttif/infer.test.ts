import { describe, expect, it } from 'vitest';
import { infer, normalize, topologyToJson } from '../../../plugins/vttif/infer.js';
import type { GlobalMatrix } from '../../../plugins/vttif/matrix.js';
import { vm } from './simulate.js';

const matrix = (pairs: [number, number, number][]): GlobalMatrix => ({
  windowMs: 1000,
  pairs: pairs.map(([a, b, bytes]) => ({ a: vm(a), b: vm(b), bytes, frames: 1 })),
});

// A 4-ring carrying 1000 bytes per edge, plus ARP-like noise and one weaker edge.
const RING_WITH_NOISE = matrix([
  [0, 1, 1000],
  [0, 2, 10],
  [0, 3, 1000],
  [1, 2, 1000],
  [1, 3, 300],
  [2, 3, 800],
]);

describe('infer', () => {
  it('normalizes by the heaviest pair', () => {
    expect(normalize(RING_WITH_NOISE).map((e) => e.intensity)).toEqual([1, 0.01, 1, 1, 0.3, 0.8]);
  });

  it('prunes below the threshold; at 0.5 the ring remains and is classified', () => {
    const topology = infer(RING_WITH_NOISE, 0.5);
    expect(topology.edges.map((e) => [e.a - vm(0), e.b - vm(0)])).toEqual([[0, 1], [0, 3], [1, 2], [2, 3]]);
    expect(topology.shape).toBe('ring');
  });

  it('threshold is inclusive; 0 keeps every pair that carried traffic; 1 keeps the heaviest only', () => {
    expect(infer(RING_WITH_NOISE, 0.3).edges).toHaveLength(5);
    expect(infer(RING_WITH_NOISE, 0).edges).toHaveLength(6);
    expect(infer(RING_WITH_NOISE, 0).shape).toBe('all-to-all');
    expect(infer(RING_WITH_NOISE, 1).edges).toHaveLength(3);
  });

  it('an empty or silent matrix has no topology', () => {
    expect(infer(matrix([]), 0.1)).toEqual({ edges: [], shape: null });
    expect(infer(matrix([[0, 1, 0]]), 0)).toEqual({ edges: [], shape: null });
  });

  it('JSON form: undirected edges, lower-case colon MACs, intensity, shape', () => {
    const json = topologyToJson(infer(matrix([[0x0a, 0x0b, 10]]), 0.1));
    expect(json).toEqual({
      edges: [{ a: '02:00:c6:13:00:0a', b: '02:00:c6:13:00:0b', intensity: 1, bytes: 10 }],
      shape: 'all-to-all',
    });
  });
});

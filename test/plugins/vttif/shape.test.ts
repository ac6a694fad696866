import { describe, expect, it } from 'vitest';
import { classifyShape, type Shape } from '../../../plugins/vttif/shape.js';
import { PATTERNS, patternEdges } from '../../../scripts/lib/patterns-topology.js';

type Pairs = [number, number][];
const shapeOf = (pairs: Pairs): Shape | null => classifyShape(pairs.map(([a, b]) => ({ a, b })));

const ring = (n: number): Pairs => Array.from({ length: n }, (_, i): [number, number] => [i, (i + 1) % n]);
const path = (n: number): Pairs => Array.from({ length: n - 1 }, (_, i): [number, number] => [i, i + 1]);
const star = (n: number): Pairs => Array.from({ length: n - 1 }, (_, i): [number, number] => [0, i + 1]);
const complete = (n: number): Pairs => {
  const pairs: Pairs = [];
  for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) pairs.push([a, b]);
  return pairs;
};
const grid = (rows: number, cols: number): Pairs => {
  const pairs: Pairs = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if (c + 1 < cols) pairs.push([r * cols + c, r * cols + c + 1]);
      if (r + 1 < rows) pairs.push([r * cols + c, (r + 1) * cols + c]);
    }
  }
  return pairs;
};
const binaryTree = (n: number): Pairs => Array.from({ length: n - 1 }, (_, i): [number, number] => [Math.floor(i / 2), i + 1]);
/** Relabels nodes so the classifier cannot rely on the numbering. */
const shuffled = (pairs: Pairs): Pairs => pairs.map(([a, b]) => [(a * 7 + 3) % 101, (b * 7 + 3) % 101]);

describe('classifyShape', () => {
  it.each([
    ['all-to-all', complete(5)],
    ['all-to-all', complete(8)],
    ['ring', ring(5)],
    ['ring', ring(8)],
    ['bus', path(5)],
    ['star', star(6)],
    ['tree', binaryTree(7)],
    ['mesh', grid(2, 3)],
    ['mesh', grid(3, 3)],
    ['mesh', grid(3, 5)],
    ['mesh', grid(4, 4)],
  ] as [Shape, Pairs][])('recognises %s (%j)', (shape, pairs) => {
    expect(shapeOf(pairs)).toBe(shape);
    expect(shapeOf(shuffled(pairs))).toBe(shape);
    expect(shapeOf(pairs.map(([a, b]) => [b, a]))).toBe(shape);
  });

  it('precedence for graphs that are several shapes: all-to-all > ring > mesh > bus > star > tree', () => {
    expect(shapeOf([[0, 1]])).toBe('all-to-all'); // K2 is also a path
    expect(shapeOf(ring(3))).toBe('all-to-all'); // K3 is also a ring
    expect(shapeOf(grid(2, 2))).toBe('ring'); // the 2×2 grid is the 4-ring
    expect(shapeOf(path(3))).toBe('bus'); // the 3-path is also a star
    expect(shapeOf(path(4))).toBe('bus'); // a 1×4 grid is not a mesh (r, c ≥ 2)
  });

  it('near misses are null or the shape they really are', () => {
    expect(shapeOf(ring(6).slice(1))).toBe('bus'); // a ring missing an edge
    expect(shapeOf([...ring(6), [0, 2]])).toBeNull(); // a ring with a chord
    expect(shapeOf([...ring(6), [0, 3]])).toBe('mesh'); // …but this chord makes the 2×3 grid
    expect(shapeOf(complete(5).slice(1))).toBeNull(); // K5 minus an edge
    expect(shapeOf(grid(3, 3).slice(1))).toBeNull(); // a grid missing an edge
    expect(shapeOf([...grid(3, 3), [0, 4]])).toBeNull(); // a grid with a diagonal
    expect(shapeOf([...grid(2, 3), [0, 2]])).toBeNull(); // a wrap-around edge
    expect(shapeOf([...star(5), [1, 2]])).toBeNull(); // a star with a leaf-leaf edge
    expect(shapeOf([...ring(4), ...ring(4).map(([a, b]): [number, number] => [a + 10, b + 10])])).toBeNull(); // two rings
    expect(shapeOf([...binaryTree(7), [3, 4]])).toBeNull(); // a tree with a cycle
    expect(shapeOf([[0, 1], [2, 3]])).toBeNull(); // disconnected
    expect(shapeOf([])).toBeNull();
    expect(shapeOf([[1, 1]])).toBeNull(); // self-loop only
  });

  it('duplicate edges and both directions count once', () => {
    expect(shapeOf([...ring(5), ...ring(5).map(([a, b]): [number, number] => [b, a])])).toBe('ring');
  });

  it('classifies what `patterns` generates on 8 ranks as the pattern it is', () => {
    const expected: Record<(typeof PATTERNS)[number], Shape> = {
      ring: 'ring',
      'all-to-all': 'all-to-all',
      bus: 'bus',
      mesh: 'mesh', // 2 × 4
      tree: 'tree',
      star: 'star',
    };
    for (const pattern of PATTERNS) expect(shapeOf(patternEdges(pattern, 8)), pattern).toBe(expected[pattern]);
    expect(shapeOf(patternEdges('mesh', 9))).toBe('mesh');
    expect(shapeOf(patternEdges('mesh', 4))).toBe('ring'); // 2 × 2
  });
});

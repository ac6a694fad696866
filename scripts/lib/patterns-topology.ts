/**
 * Who talks to whom in `patterns` (the paper's §4 synthetic BSP benchmark): pure functions of (pattern, rank, n).
 *
 *   ring        rank ± 1 (mod n)
 *   all-to-all  every other rank
 *   bus         rank ± 1, no wrap (a line)
 *   mesh        2-D grid neighbours (up, down, left, right, no wrap) on rows × cols = n with rows the largest
 *               divisor of n that is ≤ √n: 4 → 2×2, 6 → 2×3, 8 → 2×4, 9 → 3×3. A prime n degenerates to a line.
 *   tree        binary tree: parent ⌊(r−1)/2⌋, children 2r+1, 2r+2
 *   star        rank 0 is the hub, every other rank a leaf
 *
 * Exchange style: ring, all-to-all, bus and mesh do a neighbour exchange (send to every neighbour, then wait for
 * every neighbour). Tree and star do a reduce (wait for the children, then send to the parent) followed by a
 * broadcast (wait for the parent, then send to the children) — star is the one-level tree rooted at 0.
 */

export const PATTERNS = ['ring', 'all-to-all', 'bus', 'mesh', 'tree', 'star'] as const;
export type Pattern = (typeof PATTERNS)[number];

export function isPattern(value: string): value is Pattern {
  return (PATTERNS as readonly string[]).includes(value);
}

export function meshDimensions(n: number): { rows: number; cols: number } {
  let rows = 1;
  for (let d = 1; d * d <= n; d++) if (n % d === 0) rows = d;
  return { rows, cols: n / rows };
}

/** The tree the reducing patterns use; undefined for the exchanging ones. */
export function treeOf(pattern: Pattern, rank: number, n: number): { parent: number | undefined; children: number[] } | undefined {
  if (pattern === 'star') {
    return rank === 0 ? { parent: undefined, children: range(1, n) } : { parent: 0, children: [] };
  }
  if (pattern === 'tree') {
    const parent = rank === 0 ? undefined : Math.floor((rank - 1) / 2);
    return { parent, children: [2 * rank + 1, 2 * rank + 2].filter((c) => c < n) };
  }
  return undefined;
}

/** The ranks `rank` exchanges messages with, sorted, without itself or duplicates. */
export function neighboursOf(pattern: Pattern, rank: number, n: number): number[] {
  const found = new Set<number>();
  const add = (other: number): void => {
    if (other >= 0 && other < n && other !== rank) found.add(other);
  };
  switch (pattern) {
    case 'ring':
      add((rank + 1) % n);
      add((rank - 1 + n) % n);
      break;
    case 'all-to-all':
      for (let other = 0; other < n; other++) add(other);
      break;
    case 'bus':
      add(rank - 1);
      add(rank + 1);
      break;
    case 'mesh': {
      const { cols } = meshDimensions(n);
      const col = rank % cols;
      add(rank - cols);
      add(rank + cols);
      if (col > 0) add(rank - 1);
      if (col < cols - 1) add(rank + 1);
      break;
    }
    case 'tree':
    case 'star': {
      const tree = treeOf(pattern, rank, n)!;
      if (tree.parent !== undefined) add(tree.parent);
      for (const child of tree.children) add(child);
      break;
    }
  }
  return [...found].sort((x, y) => x - y);
}

/** Every undirected edge of the pattern on n ranks, as [low, high]. */
export function patternEdges(pattern: Pattern, n: number): [number, number][] {
  const edges: [number, number][] = [];
  for (let rank = 0; rank < n; rank++) {
    for (const other of neighboursOf(pattern, rank, n)) if (other > rank) edges.push([rank, other]);
  }
  return edges;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}

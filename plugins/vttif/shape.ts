/**
 * Shape classification of an undirected application topology.
 *
 * The nodes are the endpoints of the edges (a VM with no retained edge is not part of the topology). Shapes:
 *   all-to-all  complete graph K_n, n ≥ 2
 *   ring        one cycle through all n ≥ 3 nodes
 *   mesh        2-D grid r × c with r, c ≥ 2 (no wrap-around)
 *   bus         a path (the paper's "bus"; a line), n ≥ 2
 *   star        one hub adjacent to the n − 1 ≥ 2 others and no other edge
 *   tree        connected and acyclic, but none of the above
 *   null        anything else (disconnected, extra or missing edges, empty)
 *
 * Small graphs are several shapes at once (K2 is a path, K3 is a ring, a 2 × 2 grid is the 4-ring, a 3-node path
 * is a star). The first shape of SHAPE_PRECEDENCE that matches wins: the most constrained shape first, so the
 * answer is the one a reader would draw — K2 and K3 are "all-to-all", the 2 × 2 grid "ring", the 3-path
 * "bus". So a 4-rank `patterns --pattern mesh` (2 × 2) is reported as a ring, and a 4-rank binary tree (a path
 * 3–1–0–2) as a bus: the shape names the graph, not the program that made it.
 */

export type Shape = 'all-to-all' | 'ring' | 'mesh' | 'bus' | 'star' | 'tree';

export const SHAPE_PRECEDENCE: readonly Shape[] = ['all-to-all', 'ring', 'mesh', 'bus', 'star', 'tree'];

export interface UndirectedEdge<T> {
  readonly a: T;
  readonly b: T;
}

/** Adjacency as a list of neighbour index sets; nodes are re-indexed 0..n-1. Self-loops and duplicates dropped. */
function adjacency<T>(edges: readonly UndirectedEdge<T>[]): Set<number>[] {
  const index = new Map<T, number>();
  const neighbours: Set<number>[] = [];
  const id = (node: T): number => {
    let i = index.get(node);
    if (i === undefined) {
      i = neighbours.length;
      index.set(node, i);
      neighbours.push(new Set());
    }
    return i;
  };
  for (const edge of edges) {
    if (edge.a === edge.b) continue;
    const a = id(edge.a);
    const b = id(edge.b);
    neighbours[a]!.add(b);
    neighbours[b]!.add(a);
  }
  return neighbours;
}

function distancesFrom(start: number, neighbours: readonly Set<number>[]): number[] {
  const distance = new Array<number>(neighbours.length).fill(-1);
  distance[start] = 0;
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i]!;
    for (const next of neighbours[node]!) {
      if (distance[next] === -1) {
        distance[next] = distance[node]! + 1;
        queue.push(next);
      }
    }
  }
  return distance;
}

/**
 * Grid recognition: a grid has exactly four corners of degree 2. With corner c0 at (0,0) and another corner c1
 * at (0, cols−1), d(c0,v) = i + j and d(c1,v) = i + cols−1 − j give every node's coordinates; the graph is the
 * grid iff those coordinates are a bijection onto rows × cols and every edge joins grid neighbours (the edge
 * count then matches as well).
 */
function isGrid(neighbours: readonly Set<number>[], edgeCount: number): boolean {
  const n = neighbours.length;
  const corners = neighbours.flatMap((set, i) => (set.size === 2 ? [i] : []));
  if (corners.length !== 4) return false;
  const c0 = corners[0]!;
  const fromC0 = distancesFrom(c0, neighbours);
  for (const c1 of corners.slice(1)) {
    const cols = fromC0[c1]! + 1;
    const rows = n / cols;
    if (cols < 2 || !Number.isInteger(rows) || rows < 2) continue;
    if (edgeCount !== rows * (cols - 1) + cols * (rows - 1)) continue;
    const fromC1 = distancesFrom(c1, neighbours);
    const cell = new Array<number>(n).fill(-1);
    const rowOf = new Array<number>(n).fill(0);
    const colOf = new Array<number>(n).fill(0);
    let isBijection = true;
    for (let v = 0; v < n && isBijection; v++) {
      const twiceJ = fromC0[v]! - fromC1[v]! + cols - 1;
      const j = twiceJ / 2;
      const i = fromC0[v]! - j;
      if (!Number.isInteger(j) || j < 0 || j >= cols || i < 0 || i >= rows || cell[i * cols + j] !== -1) {
        isBijection = false;
      } else {
        cell[i * cols + j] = v;
        rowOf[v] = i;
        colOf[v] = j;
      }
    }
    if (!isBijection) continue;
    let isGridEdges = true;
    for (let v = 0; v < n && isGridEdges; v++) {
      for (const w of neighbours[v]!) {
        if (Math.abs(rowOf[v]! - rowOf[w]!) + Math.abs(colOf[v]! - colOf[w]!) !== 1) {
          isGridEdges = false;
          break;
        }
      }
    }
    if (isGridEdges) return true;
  }
  return false;
}

/** The shape of the undirected graph these edges form, or null. Node identity is `===` on `a`/`b`. */
export function classifyShape<T>(edges: readonly UndirectedEdge<T>[]): Shape | null {
  const neighbours = adjacency(edges);
  const n = neighbours.length;
  if (n < 2) return null;
  const degrees = neighbours.map((set) => set.size);
  const edgeCount = degrees.reduce((sum, d) => sum + d, 0) / 2;
  const isConnected = distancesFrom(0, neighbours).every((d) => d >= 0);
  if (!isConnected) return null;
  const maxDegree = Math.max(...degrees);

  if (edgeCount === (n * (n - 1)) / 2) return 'all-to-all';
  if (n >= 3 && degrees.every((d) => d === 2)) return 'ring';
  if (n >= 4 && isGrid(neighbours, edgeCount)) return 'mesh';
  if (edgeCount !== n - 1) return null;
  if (maxDegree <= 2) return 'bus';
  if (maxDegree === n - 1) return 'star';
  return 'tree';
}

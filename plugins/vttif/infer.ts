/**
 * Inference: global matrix → application topology, by the paper's "simple normalization and pruning".
 *
 * Each pair's intensity is its window bytes divided by the heaviest pair's (so 0..1, the heaviest is 1). A pair is
 * an edge of the topology when its intensity is at least the detection threshold — "the fraction of traffic
 * intensity on the highest intensity link that must be present on any other link before it is considered to be a
 * part of the topology". Threshold 0 keeps every pair that carried a byte; threshold 1 keeps only the heaviest.
 */
import { formatMac, type Mac } from '../../switch/frame/mac.js';
import type { GlobalMatrix } from './matrix.js';
import { classifyShape, type Shape } from './shape.js';

/** An undirected edge of the application topology. Invariant: a < b. */
export interface Edge {
  readonly a: Mac;
  readonly b: Mac;
  /** Window bytes relative to the heaviest pair's: 0..1. */
  readonly intensity: number;
  /** Bytes both ways over the smoothing window. */
  readonly bytes: number;
}

export interface Topology {
  /** Sorted by (a, b). */
  readonly edges: readonly Edge[];
  readonly shape: Shape | null;
}

export interface TopologyJson {
  edges: { a: string; b: string; intensity: number; bytes: number }[];
  shape: Shape | null;
}

export const EMPTY_TOPOLOGY: Topology = { edges: [], shape: null };

/** Every pair that carried traffic, with its intensity; none pruned. */
export function normalize(matrix: GlobalMatrix): Edge[] {
  let heaviestBytes = 0;
  for (const pair of matrix.pairs) if (pair.bytes > heaviestBytes) heaviestBytes = pair.bytes;
  if (heaviestBytes === 0) return [];
  return matrix.pairs
    .filter((pair) => pair.bytes > 0 && pair.a !== pair.b)
    .map((pair) => ({ a: pair.a, b: pair.b, intensity: pair.bytes / heaviestBytes, bytes: pair.bytes }));
}

/** Edges at or above the threshold (0..1), then the shape of what is left. */
export function infer(matrix: GlobalMatrix, threshold: number): Topology {
  return topologyOf(normalize(matrix).filter((edge) => edge.intensity >= threshold));
}

export function topologyOf(edges: readonly Edge[]): Topology {
  const sorted = [...edges].sort((x, y) => x.a - y.a || x.b - y.b);
  return { edges: sorted, shape: classifyShape(sorted) };
}

/** The key that identifies an undirected edge in sets (a < b). */
export function edgeKey(edge: { readonly a: Mac; readonly b: Mac }): string {
  return `${edge.a}-${edge.b}`;
}

/** The API/JSON form: MACs lower-case with colons. */
export function topologyToJson(topology: Topology): TopologyJson {
  return {
    edges: topology.edges.map((e) => ({ a: formatMac(e.a), b: formatMac(e.b), intensity: e.intensity, bytes: e.bytes })),
    shape: topology.shape,
  };
}

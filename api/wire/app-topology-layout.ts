/**
 * The one drawing of VTTIF's application topology (the paper's Figure 5): the VMs on a ring, in MAC order,
 * each edge a line whose width grows with its intensity, a label outside the ring by each VM, a title on top.
 * Pure: a topology in, a scene out — a small tree of SVG elements whose attribute values are numbers (finite,
 * rounded to 0.1) or strings, and whose text is data. Two emitters draw the same scene:
 *   - the CLI (`topology app --format svg`, api/wire/app-topology-format.ts) serialises it as SVG text,
 *     XML-escaping every value;
 *   - the dashboard (api/dashboard/client.ts) builds DOM from it with createElementNS, setAttribute and text
 *     nodes, never through an HTML/SVG parser.
 * The input may come from a daemon (the dashboard reads it from the network): anything malformed is drawn as
 * text or as 0, never trusted as a type. Browser-safe: no Node API, type imports only (the dashboard inlines it).
 */

/** The elements a scene is made of (all in the SVG namespace). */
export type SceneTag = 'svg' | 'rect' | 'line' | 'circle' | 'text' | 'title';

export interface SceneNode {
  tag: SceneTag;
  /** Attribute values: numbers are finite; `undefined` means "not set" (the palette leaves it to CSS). */
  attrs: Record<string, string | number | undefined>;
  /** Elements, or text (data: emitted as text only). */
  children: (SceneNode | string)[];
}

/** The colours a caller draws with; absent ones are not set (the dashboard's come from its stylesheet). */
export interface ScenePalette {
  background?: string;
  edge: string;
  node: string;
  text?: string;
}

export interface LayoutOptions {
  palette: ScenePalette;
  /** The label of a VM (its MAC by default; the dashboard names VMs it knows). */
  label?: (mac: string) => string;
}

/** What the layout reads: the API's AppTopology, or whatever a daemon sent in its place. */
export interface AppTopologyInput {
  /** An array of { a, b, intensity } (anything else draws no edge). */
  edges?: unknown;
  shape?: unknown;
}

export interface TopologyEdge {
  a: string;
  b: string;
  intensity: number;
}

/** The view box and where things go in it: wider than tall, as the dashboard's panel is, so the ring is an ellipse. */
export const SCENE = { width: 560, height: 340, titleY: 22, centreX: 280, centreY: 190, radiusX: 190, radiusY: 110, nodeR: 8, labelAbove: -14, labelBelow: 24 } as const;
export const MIN_WIDTH = 1;
export const MAX_WIDTH = 8;

/** An edge's width (SVG stroke, DOT penwidth): 1 to 8 as its intensity goes 0 to 1 (clamped). */
export function penWidth(intensity: number): number {
  const i = Math.min(1, Math.max(0, Number.isFinite(intensity) ? intensity : 0));
  return round1(MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * i);
}

/** The edges of a topology, made well-formed: ends as strings, intensities as finite numbers (else 0). */
export function topologyEdges(topology: AppTopologyInput): TopologyEdge[] {
  const edges = Array.isArray(topology?.edges) ? (topology.edges as { a?: unknown; b?: unknown; intensity?: unknown }[]) : [];
  return edges.map((e) => ({ a: asText(e?.a), b: asText(e?.b), intensity: typeof e?.intensity === 'number' && Number.isFinite(e.intensity) ? e.intensity : 0 }));
}

/** The VMs of a set of edges, in MAC order (so the drawing does not depend on the order of the edges). */
export function topologyNodes(edges: readonly TopologyEdge[]): string[] {
  return [...new Set(edges.flatMap((e) => [e.a, e.b]))].sort();
}

/** The shape VTTIF recognised, when it is a string. */
export function shapeOf(topology: AppTopologyInput): string | null {
  return typeof topology?.shape === 'string' ? topology.shape : null;
}

/** The title over the drawing. */
export function titleOf(topology: AppTopologyInput): string {
  const n = topologyEdges(topology).length;
  return `${shapeOf(topology) ?? 'application topology'} — ${n} edge${n === 1 ? '' : 's'} (width ∝ intensity)`;
}

/** The drawing: an <svg> scene with, in paint order, the background, the edges, the VMs and their labels. */
export function layoutAppTopology(topology: AppTopologyInput, options: LayoutOptions): SceneNode {
  const { palette } = options;
  const label = options.label ?? ((mac: string) => mac);
  const edges = topologyEdges(topology);
  const nodes = topologyNodes(edges);
  const many = nodes.length > 1;
  // Each VM on the ellipse, its label outside it: above the VMs of the upper half, below the others.
  const at = new Map(
    nodes.map((node, i) => {
      const angle = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, nodes.length);
      const x = round1(SCENE.centreX + (many ? SCENE.radiusX : 0) * Math.cos(angle));
      const y = round1(SCENE.centreY + (many ? SCENE.radiusY : 0) * Math.sin(angle));
      return [node, { x, y, labelY: round1(y + (many && Math.sin(angle) < -0.1 ? SCENE.labelAbove : SCENE.labelBelow)) }] as const;
    }),
  );
  const { width, height } = SCENE;
  const children: SceneNode[] = [];
  if (palette.background !== undefined) children.push(el('rect', { width, height, fill: palette.background }));
  children.push(el('text', { class: 'app-title', x: SCENE.centreX, y: SCENE.titleY, 'text-anchor': 'middle', 'font-size': 16, fill: palette.text }, titleOf(topology)));
  for (const e of edges) {
    const a = at.get(e.a)!;
    const b = at.get(e.b)!;
    const attrs = { class: 'app-edge', 'data-intensity': round2(e.intensity), x1: a.x, y1: a.y, x2: b.x, y2: b.y };
    const style = { stroke: palette.edge, 'stroke-opacity': 0.85, 'stroke-linecap': 'round', 'stroke-width': penWidth(e.intensity) };
    children.push(el('line', { ...attrs, ...style }, el('title', {}, `${label(e.a)} — ${label(e.b)}: ${e.intensity.toFixed(2)}`)));
  }
  for (const node of nodes) {
    const p = at.get(node)!;
    children.push(el('circle', { class: 'app-vm', cx: p.x, cy: p.y, r: SCENE.nodeR, fill: palette.node }));
    children.push(el('text', { class: 'app-label', x: p.x, y: p.labelY, 'text-anchor': 'middle', 'font-size': 15, fill: palette.text }, label(node)));
  }
  return el('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'application topology', 'font-family': 'monospace' }, ...children);
}

function el(tag: SceneTag, attrs: SceneNode['attrs'], ...children: (SceneNode | string)[]): SceneNode {
  return { tag, attrs, children };
}

function asText(v: unknown): string {
  return v === null || v === undefined ? '' : String(v);
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

/** An intensity as data: as sent (to 0.01), however large; the width alone is clamped. */
function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/**
 * The application topology VTTIF infers, for people: text (one line per edge, a bar for its intensity), DOT
 * (Graphviz; `penwidth` from the intensity) and a self-contained SVG: the scene of api/wire/app-topology-layout.ts
 * (the drawing the dashboard shows too) serialised as text. Pure: a view in, a string out.
 */
import type { components } from '../generated/openapi.js';
import { topologyEdges, layoutAppTopology, topologyNodes, penWidth, type SceneNode, type ScenePalette } from './app-topology-layout.js';

export type AppTopology = components['schemas']['AppTopology'];

const BAR_WIDTH = 20;

/** The standalone SVG's colours: dark on white (the dashboard draws the same scene in its own colours). */
export const PRINT_PALETTE: ScenePalette = { background: 'white', edge: '#2060c0', node: '#202020', text: '#202020' };

export function formatAppTopology(topology: AppTopology): string {
  const nodes = topologyNodes(topologyEdges(topology));
  const when = topology.detectedAt === null ? 'nothing reported yet' : `reported at ${topology.detectedAt}`;
  const { updateRateHz, smoothingMs, threshold } = topology.settings;
  const lines = [
    `application topology: ${topology.shape ?? 'no known shape'} (${nodes.length} VMs, ${topology.edges.length} edges), ${when}`,
    `  settings: ${updateRateHz} Hz updates, ${smoothingMs} ms smoothing, threshold ${threshold}`,
  ];
  for (const e of topology.edges) {
    const bar = '█'.repeat(Math.max(1, Math.round(e.intensity * BAR_WIDTH)));
    lines.push(`  ${e.a} — ${e.b}  ${e.intensity.toFixed(2)}  ${bar}`);
  }
  return lines.join('\n');
}

export function appTopologyToDot(topology: AppTopology): string {
  const lines = ['graph vttif {', `  label="${topology.shape ?? 'application topology'}";`, '  layout=circo;', '  node [shape=box, fontname="monospace"];'];
  for (const node of topologyNodes(topologyEdges(topology))) lines.push(`  "${node}";`);
  for (const e of topology.edges) {
    lines.push(`  "${e.a}" -- "${e.b}" [penwidth=${penWidth(e.intensity)}, label="${e.intensity.toFixed(2)}"];`);
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

export function appTopologyToSvg(topology: AppTopology): string {
  return sceneToSvg(layoutAppTopology(topology, { palette: PRINT_PALETTE })) + '\n';
}

/** A scene as SVG text: one element a line, every attribute value and every text XML-escaped. */
export function sceneToSvg(node: SceneNode, isRoot = true): string {
  const attrs = Object.entries(isRoot ? { xmlns: 'http://www.w3.org/2000/svg', ...node.attrs } : node.attrs)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([name, value]) => ` ${name}="${escapeXml(typeof value === 'number' ? String(Number.isFinite(value) ? value : 0) : value)}"`)
    .join('');
  if (node.children.length === 0) return `<${node.tag}${attrs}/>`;
  const inner = node.children.map((c) => (typeof c === 'string' ? escapeXml(c) : sceneToSvg(c, false)));
  // The root's elements one a line, as a person reads the file; inside them, nothing is added to the text.
  return isRoot ? `<${node.tag}${attrs}>\n${inner.join('\n')}\n</${node.tag}>` : `<${node.tag}${attrs}>${inner.join('')}</${node.tag}>`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

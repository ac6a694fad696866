/**
 * The application topology VTTIF infers, for people: text (one line per edge, a bar for its intensity), DOT
 * (Graphviz; `penwidth` from the intensity) and a self-contained SVG (VMs on a circle, each edge a line whose
 * thickness is its intensity — the paper's Figure 5). Pure: a view in, a string out.
 */
import type { components } from '../generated/openapi.js';

export type AppTopology = components['schemas']['AppTopology'];

const MIN_PEN = 1;
const MAX_PEN = 8;
const BAR_WIDTH = 20;

const penWidth = (intensity: number): number => Math.round((MIN_PEN + (MAX_PEN - MIN_PEN) * intensity) * 10) / 10;

/** The VMs of the topology in MAC order. */
function nodesOf(topology: AppTopology): string[] {
  return [...new Set(topology.edges.flatMap((e) => [e.a, e.b]))].sort();
}

export function formatAppTopology(topology: AppTopology): string {
  const nodes = nodesOf(topology);
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
  for (const node of nodesOf(topology)) lines.push(`  "${node}";`);
  for (const e of topology.edges) {
    lines.push(`  "${e.a}" -- "${e.b}" [penwidth=${penWidth(e.intensity)}, label="${e.intensity.toFixed(2)}"];`);
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

export function appTopologyToSvg(topology: AppTopology): string {
  const nodes = nodesOf(topology);
  const size = 520;
  const centre = size / 2;
  const radius = nodes.length > 1 ? 190 : 0;
  const at = new Map(
    nodes.map((node, i) => {
      const angle = (2 * Math.PI * i) / Math.max(1, nodes.length) - Math.PI / 2;
      return [node, { x: centre + radius * Math.cos(angle), y: centre + radius * Math.sin(angle) }] as const;
    }),
  );
  const f = (n: number): string => n.toFixed(1);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size + 30}" viewBox="0 0 ${size} ${size + 30}" font-family="monospace" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${centre}" y="20" text-anchor="middle" font-size="14">${escapeXml(topology.shape ?? 'application topology')} — ${topology.edges.length} edges (thickness = intensity)</text>`,
  ];
  for (const e of topology.edges) {
    const a = at.get(e.a)!;
    const b = at.get(e.b)!;
    parts.push(`<line x1="${f(a.x)}" y1="${f(a.y + 15)}" x2="${f(b.x)}" y2="${f(b.y + 15)}" stroke="#2060c0" stroke-opacity="0.8" stroke-width="${penWidth(e.intensity)}"><title>${e.a} — ${e.b}: ${e.intensity.toFixed(2)}</title></line>`);
  }
  for (const node of nodes) {
    const p = at.get(node)!;
    parts.push(`<circle cx="${f(p.x)}" cy="${f(p.y + 15)}" r="6" fill="#202020"/>`);
    parts.push(`<text x="${f(p.x)}" y="${f(p.y + 32)}" text-anchor="middle">${escapeXml(node)}</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

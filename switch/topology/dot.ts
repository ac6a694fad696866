/**
 * The overlay as a Graphviz picture (DOT text; `dot -Tsvg` renders it).
 * Hosts are nodes (the proxy a double circle), links undirected solid edges
 * labelled with a non-default transport, and each rule that goes via another
 * host a dashed arrow labelled "src → dst" (rules to local ports are listed
 * in the host's label instead). Output is in canonical order, so it is
 * stable for a given overlay.
 */
import type { Overlay, RuleDecl } from './ast.js';
import { canonicalTopology } from './format.js';

export function toDot(overlay: Overlay, title = 'vswitch overlay'): string {
  const { hosts, links, rules } = canonicalTopology(overlay);
  const names = new Set(hosts.map((h) => h.name));
  const lines = [`digraph ${quote(title)} {`, '  graph [layout=neato, overlap=false, splines=true];', '  node [shape=box, fontname="monospace"];'];
  for (const h of hosts) {
    const local = rules.filter((r) => r.host === h.name && !names.has(r.via)).map((r) => `${ruleLabel(r)} → ${r.via}`);
    const label = [h.name, ...(h.endpoint ? [h.endpoint] : []), ...local].join('\\n');
    lines.push(`  ${quote(h.name)} [label=${quote(label)}${h.isProxy ? ', shape=doublecircle' : ''}];`);
  }
  for (const l of links) lines.push(`  ${quote(l.a)} -> ${quote(l.b)} [dir=none, penwidth=2${l.transport === 'auto' ? '' : `, label=${quote(l.transport)}`}];`);
  for (const r of rules.filter((r) => names.has(r.via))) {
    lines.push(`  ${quote(r.host)} -> ${quote(r.via)} [style=dashed, fontsize=9, label=${quote(ruleLabel(r))}];`);
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

function ruleLabel(r: RuleDecl): string {
  return `${r.src} → ${r.dst}${r.priority === 0 ? '' : ` (${r.priority})`}`;
}

function quote(text: string): string {
  return `"${text.replace(/\\(?!n)/g, '\\\\').replace(/"/g, '\\"')}"`;
}

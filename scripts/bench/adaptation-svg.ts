/**
 * The adaptation benchmark's picture, as plain SVG: left, running time per pattern on the star alone and with
 * adaptation (bars); right, all-to-all running time against the number of fast-path links (the paper's Figure 11).
 */
export interface AdaptationFigures {
  iterations: number;
  patterns: { pattern: string; starS: number; adaptedS: number; speedup: number; timeToInferMs: number | null; timeToAdaptMs: number | null; fastLinks: number }[];
  figure11: { links: number; seconds: number }[];
}

const W = 900;
const H = 380;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function renderAdaptationSvg(f: AdaptationFigures): string {
  const parts: string[] = [];
  const text = (x: number, y: number, s: string, extra = '') => parts.push(`<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${extra}>${esc(s)}</text>`);
  // Left: bars.
  const left = { x: 60, y: 40, w: 360, h: 270 };
  const maxS = Math.max(1e-9, ...f.patterns.flatMap((p) => [p.starS, p.adaptedS]));
  parts.push(`<rect x="${left.x}" y="${left.y}" width="${left.w}" height="${left.h}" fill="none" stroke="#999"/>`);
  text(left.x, 25, `Running time (s), ${f.iterations} iterations, 8 hosts × 1 VM`, 'font-weight="bold"');
  const group = left.w / Math.max(1, f.patterns.length);
  f.patterns.forEach((p, i) => {
    const bar = (value: number, dx: number, color: string) => {
      const h = (value / maxS) * (left.h - 20);
      const x = left.x + i * group + dx;
      parts.push(`<rect x="${x.toFixed(1)}" y="${(left.y + left.h - h).toFixed(1)}" width="${(group / 3).toFixed(1)}" height="${h.toFixed(1)}" fill="${color}"/>`);
      text(x, left.y + left.h - h - 4, value.toFixed(1), 'font-size="11"');
    };
    bar(p.starS, group / 8, '#c0504d');
    bar(p.adaptedS, group / 8 + group / 3 + 4, '#4f81bd');
    text(left.x + i * group + group / 8, left.y + left.h + 16, `${p.pattern} (${p.speedup.toFixed(1)}×)`, 'font-size="12"');
  });
  parts.push(`<rect x="${left.x}" y="${H - 40}" width="12" height="12" fill="#c0504d"/>`);
  text(left.x + 16, H - 30, 'star only', 'font-size="12"');
  parts.push(`<rect x="${left.x + 100}" y="${H - 40}" width="12" height="12" fill="#4f81bd"/>`);
  text(left.x + 116, H - 30, 'with adaptation (inference + fast-path links)', 'font-size="12"');
  // Right: Figure 11.
  const right = { x: 520, y: 40, w: 340, h: 270 };
  parts.push(`<rect x="${right.x}" y="${right.y}" width="${right.w}" height="${right.h}" fill="none" stroke="#999"/>`);
  text(right.x, 25, 'all-to-all: running time (s) vs fast-path links', 'font-weight="bold"');
  const maxLinks = Math.max(1, ...f.figure11.map((p) => p.links));
  const maxY = Math.max(1e-9, ...f.figure11.map((p) => p.seconds));
  const px = (l: number) => right.x + 10 + (l / maxLinks) * (right.w - 20);
  const py = (s: number) => right.y + right.h - 10 - (s / maxY) * (right.h - 30);
  parts.push(`<polyline fill="none" stroke="#4f81bd" stroke-width="2" points="${f.figure11.map((p) => `${px(p.links).toFixed(1)},${py(p.seconds).toFixed(1)}`).join(' ')}"/>`);
  for (const p of f.figure11) {
    parts.push(`<circle cx="${px(p.links).toFixed(1)}" cy="${py(p.seconds).toFixed(1)}" r="3" fill="#4f81bd"/>`);
    text(px(p.links) - 8, py(p.seconds) - 8, p.seconds.toFixed(1), 'font-size="11"');
    text(px(p.links) - 4, right.y + right.h + 16, String(p.links), 'font-size="12"');
  }
  text(right.x + right.w / 2 - 40, right.y + right.h + 32, 'fast-path links', 'font-size="12"');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="13">\n<rect width="${W}" height="${H}" fill="white"/>\n${parts.join('\n')}\n</svg>\n`;
}

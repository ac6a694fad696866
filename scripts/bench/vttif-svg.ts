/**
 * A small line chart as self-contained SVG (no dependency), for scripts/bench/vttif's figures: several series of
 * (x, y) points, optional log-scale x, axes with ticks, a legend.
 */
export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
  readonly dashed?: boolean;
}

export interface ChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly isLogX?: boolean;
  readonly yMax?: number;
}

const COLOURS = ['#1f5fbf', '#c0392b', '#2e8b57', '#8e44ad', '#d35400', '#555555'];
const W = 820;
const H = 420;
const M = { left: 70, right: 300, top: 40, bottom: 55 };

export function lineChart(series: readonly Series[], options: ChartOptions): string {
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const tx = (x: number): number => (options.isLogX ? Math.log10(x) : x);
  const xMin = tx(Math.min(...xs));
  const xMax = tx(Math.max(...xs));
  const yMax = options.yMax ?? niceMax(Math.max(...ys));
  const px = (x: number): number => M.left + ((tx(x) - xMin) / (xMax - xMin || 1)) * (W - M.left - M.right);
  const py = (y: number): number => H - M.bottom - (y / (yMax || 1)) * (H - M.top - M.bottom);
  const f = (n: number): string => n.toFixed(1);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${(W - M.right + M.left) / 2}" y="22" text-anchor="middle" font-size="14">${esc(options.title)}</text>`,
    `<line x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${H - M.bottom}" stroke="black"/>`,
    `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${H - M.bottom}" stroke="black"/>`,
    `<text x="${(W - M.right + M.left) / 2}" y="${H - 15}" text-anchor="middle">${esc(options.xLabel)}</text>`,
    `<text transform="translate(18 ${(H - M.bottom + M.top) / 2}) rotate(-90)" text-anchor="middle">${esc(options.yLabel)}</text>`,
  ];
  const xTicks = options.isLogX ? logTicks(Math.min(...xs), Math.max(...xs)) : linearTicks(Math.min(...xs), Math.max(...xs));
  for (const x of xTicks) {
    out.push(`<line x1="${f(px(x))}" y1="${H - M.bottom}" x2="${f(px(x))}" y2="${H - M.bottom + 5}" stroke="black"/>`);
    out.push(`<text x="${f(px(x))}" y="${H - M.bottom + 18}" text-anchor="middle">${x}</text>`);
  }
  for (const y of linearTicks(0, yMax)) {
    out.push(`<line x1="${M.left - 5}" y1="${f(py(y))}" x2="${W - M.right}" y2="${f(py(y))}" stroke="#e0e0e0"/>`);
    out.push(`<text x="${M.left - 8}" y="${f(py(y) + 4)}" text-anchor="end">${y}</text>`);
  }
  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const d = s.points.map((p, j) => `${j === 0 ? 'M' : 'L'}${f(px(p[0]))},${f(py(p[1]))}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    if (!s.dashed) for (const p of s.points) out.push(`<circle cx="${f(px(p[0]))}" cy="${f(py(p[1]))}" r="3" fill="${colour}"/>`);
    const ly = M.top + 10 + i * 20;
    out.push(`<line x1="${W - M.right + 12}" y1="${ly}" x2="${W - M.right + 36}" y2="${ly}" stroke="${colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    out.push(`<text x="${W - M.right + 40}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const step = 10 ** Math.floor(Math.log10(value));
  return Math.ceil(value / step) * step;
}

function linearTicks(min: number, max: number): number[] {
  const span = max - min || 1;
  const step = 10 ** Math.floor(Math.log10(span / 2)) * (span / 10 ** Math.floor(Math.log10(span)) > 5 ? 2 : 1) / 2;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max + 1e-9; t += step) ticks.push(Number(t.toPrecision(6)));
  return ticks;
}

function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    for (const m of [1, 2, 5]) {
      const t = m * 10 ** e;
      if (t >= min * 0.999 && t <= max * 1.001) ticks.push(Number(t.toPrecision(6)));
    }
  }
  return ticks;
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

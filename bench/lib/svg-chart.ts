/**
 * Line charts as SVG text, one panel per chart stacked in one file, no dependency. A null y breaks its line; a one-point
 * series is a dot; `logY` plots y on a log10 axis (values <= 0 skipped).
 */
export interface Series {
  name: string;
  points: ReadonlyArray<readonly [number, number | null]>;
}

export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  logY?: boolean;
  /** Horizontal reference lines (a deadline, a target). */
  marks?: ReadonlyArray<{ y: number; label: string }>;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
const W = 760;
const H = 340;
const M = { left: 70, right: 190, top: 34, bottom: 46 };

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (v: number): string => (Math.abs(v) >= 1000 ? `${Math.round(v / 100) / 10}k`.replace('.0k', 'k') : String(Math.round(v * 1000) / 1000));

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.round(v * 1e9) / 1e9);
  return out;
}

function panel(p: Panel, top: number): string {
  const ty = (y: number): number => (p.logY ? Math.log10(y) : y);
  const usable = (y: number | null): y is number => y !== null && Number.isFinite(y) && (!p.logY || y > 0);
  const xs = p.series.flatMap((s) => s.points.map(([x]) => x)).filter(Number.isFinite);
  const ys = [...p.series.flatMap((s) => s.points.map(([, y]) => y).filter(usable)), ...(p.marks ?? []).map((m) => m.y).filter(usable)].map(ty);
  let [x0, x1] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  let [y0, y1] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
  if (!p.logY) y0 = Math.min(0, y0);
  if (y1 === y0) y1 = y0 + 1;
  if (p.logY) [y0, y1] = [Math.floor(y0), Math.ceil(y1)];
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const px = (x: number): number => M.left + ((x - x0) / (x1 - x0)) * pw;
  const py = (y: number): number => top + M.top + ph - ((ty(y) - y0) / (y1 - y0)) * ph;
  const out: string[] = [`<g><text x="${M.left}" y="${top + 20}" font-size="14" font-weight="bold">${esc(p.title)}</text>`];
  out.push(`<rect x="${M.left}" y="${top + M.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  // Two decades or fewer get 2x and 5x ticks too.
  const decades = Array.from({ length: y1 - y0 + 1 }, (_, i) => 10 ** (y0 + i));
  const yTicks = !p.logY ? niceTicks(y0, y1) : y1 - y0 > 2 ? decades : decades.flatMap((d) => [d, 2 * d, 5 * d]).filter((v) => v <= 10 ** y1);
  for (const v of yTicks) {
    const y = py(v).toFixed(1);
    out.push(`<line x1="${M.left}" y1="${y}" x2="${M.left + pw}" y2="${y}" stroke="#eee"/><text x="${M.left - 6}" y="${y}" font-size="11" text-anchor="end" dominant-baseline="middle">${fmt(v)}</text>`);
  }
  for (const v of niceTicks(x0, x1, 6)) {
    const x = px(v).toFixed(1);
    out.push(`<line x1="${x}" y1="${top + M.top + ph}" x2="${x}" y2="${top + M.top + ph + 4}" stroke="#999"/><text x="${x}" y="${top + M.top + ph + 16}" font-size="11" text-anchor="middle">${fmt(v)}</text>`);
  }
  out.push(`<text x="${M.left + pw / 2}" y="${top + H - 8}" font-size="12" text-anchor="middle">${esc(p.xLabel)}</text>`);
  out.push(`<text x="16" y="${top + M.top + ph / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 16 ${top + M.top + ph / 2})">${esc(p.yLabel)}</text>`);
  for (const m of (p.marks ?? []).filter((mk) => usable(mk.y))) {
    const y = py(m.y).toFixed(1);
    out.push(`<line x1="${M.left}" y1="${y}" x2="${M.left + pw}" y2="${y}" stroke="#555" stroke-dasharray="6 4"/><text x="${M.left + pw - 4}" y="${Number(y) - 4}" font-size="11" text-anchor="end" fill="#555">${esc(m.label)}</text>`);
  }
  p.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const runs: string[][] = [[]];
    for (const [x, y] of s.points) {
      if (usable(y) && Number.isFinite(x)) runs.at(-1)!.push(`${px(x).toFixed(1)},${py(y).toFixed(1)}`);
      else if (runs.at(-1)!.length) runs.push([]);
    }
    for (const r of runs.filter((run) => run.length > 0)) {
      if (r.length === 1) out.push(`<circle cx="${r[0]!.split(',')[0]}" cy="${r[0]!.split(',')[1]}" r="3" fill="${color}"/>`);
      else out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${r.join(' ')}"/>`);
    }
    const ly = top + M.top + 8 + i * 18;
    out.push(`<line x1="${W - M.right + 12}" y1="${ly}" x2="${W - M.right + 32}" y2="${ly}" stroke="${color}" stroke-width="2"/><text x="${W - M.right + 38}" y="${ly}" font-size="11" dominant-baseline="middle">${esc(s.name)}</text>`);
  });
  out.push('</g>');
  return out.join('\n');
}

/** One SVG document with the panels stacked top to bottom. */
export function renderSvg(panels: readonly Panel[]): string {
  const height = H * Math.max(1, panels.length);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif">`,
    `<rect width="${W}" height="${height}" fill="white"/>`,
    ...panels.map((p, i) => panel(p, i * H)),
    '</svg>',
    '',
  ].join('\n');
}

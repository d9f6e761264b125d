/**
 * Dependency-free SVG line charts in the style of the figures of
 * Snell et al. 2024, "Scaling LLM Test-Time Compute Optimally":
 * x = generation budget on a log2 axis, y = accuracy with % tick labels,
 * one coloured line with circle markers per series, optional shaded 95%
 * interval bands, one shared legend, one panel per condition.
 *
 * Everything here is pure: same input → byte-identical SVG string.
 */

export interface SeriesPoint {
  x: number;
  y: number;
  lo?: number;
  hi?: number;
}
export interface Series {
  label: string;
  points: SeriesPoint[];
  dashed?: boolean;
}
export interface Panel {
  title: string;
  series: Series[];
}
export interface FigureOptions {
  title: string; // figure title on top
  xLabel: string; // e.g. "Generation budget"
  yLabel: string; // e.g. "Accuracy"
  logX?: boolean; // default true (base 2)
  columns?: number; // panels per row; default = number of panels up to 5
  yRange?: [number, number]; // default: from data, padded, clamped to [0,1]
}

// ---------------------------------------------------------------- constants

/** Fixed palette (Tableau 10 + extras); colours are assigned by label order. */
export const PALETTE: readonly string[] = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
  "#393b79",
  "#ad494a",
  "#637939",
  "#7b4173",
  "#8c6d31",
  "#3182bd",
];

const FONT = "Helvetica, Arial, sans-serif";
const PANEL_W = 300;
const PANEL_H = 240;
const PAD = 16; // outer figure padding
const TITLE_H = 30; // figure title band
const LEGEND_ROW_H = 20;
const LEGEND_GAP = 8; // space between legend and panel grid
const PLOT_LEFT = 54; // inside a panel: room for y ticks + y label
const PLOT_RIGHT = 14;
const PLOT_TOP = 28; // room for panel title
const PLOT_BOTTOM = 44; // room for x ticks + x label
const GRID = "#e6e6e6";
const AXIS = "#555555";
const TEXT = "#222222";
const MARKER_R = 3;
const X_INSET = 8; // keep first/last markers off the y axis and frame edge

// ---------------------------------------------------------------- helpers

/** Fixed-precision number for coordinates: at most 2 decimals, no "-0". */
function n(v: number): string {
  const s = v.toFixed(2).replace(/\.?0+$/, "");
  return s === "-0" ? "0" : s;
}

/** Escape text for XML content and attribute values. */
function esc(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

/** Tick label for a fraction: 0.5 → "50%", 0.025 → "2.5%". */
export function formatPercent(v: number): string {
  if (!Number.isFinite(v)) return "";
  const p = Math.round(v * 100 * 1e6) / 1e6;
  const r = Math.round(p);
  const s = Math.abs(p - r) < 1e-6 ? String(r) : p.toFixed(1);
  return (s === "-0" ? "0" : s) + "%";
}

function isNum(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/** Round away binary float noise (0.30000000000000004 → 0.3). */
function clean(v: number): number {
  return Math.round(v * 1e9) / 1e9;
}

/** Smallest "nice" step (1, 2, 2.5, 5 × 10^k) giving at most maxTicks intervals. */
function niceStep(span: number, maxTicks: number): number {
  if (!(span > 0)) return 1;
  const raw = span / maxTicks;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 2.5, 5, 10]) {
    if (m * mag >= raw - 1e-12) return clean(m * mag);
  }
  return clean(10 * mag);
}

function ticksFor(lo: number, hi: number, step: number): number[] {
  const out: number[] = [];
  const i0 = Math.ceil(lo / step - 1e-9);
  const i1 = Math.floor(hi / step + 1e-9);
  for (let i = i0; i <= i1; i++) out.push(clean(i * step));
  return out;
}

function formatNumber(v: number): string {
  const s = String(clean(v));
  return s === "-0" ? "0" : s;
}

/** Rough text width at a given font size (Helvetica-ish average glyph). */
function textWidth(s: string, size: number): number {
  let w = 0;
  for (const ch of s) {
    if ("il.,:;'|!Ijft()[] ".includes(ch)) w += 0.3;
    else if ("mwMW@%".includes(ch)) w += 0.85;
    else if (ch >= "A" && ch <= "Z") w += 0.66;
    else w += 0.55;
  }
  return w * size;
}

/** Points that can be drawn: finite x and y (x > 0 on a log axis), sorted by x. */
function drawable(points: SeriesPoint[], logX: boolean): SeriesPoint[] {
  return points
    .filter((p) => isNum(p.x) && isNum(p.y) && (!logX || p.x > 0))
    .map((p, i) => ({ p, i }))
    .sort((a, b) => a.p.x - b.p.x || a.i - b.i)
    .map(({ p }) => p);
}

// ---------------------------------------------------------------- scales

interface Axis {
  lo: number; // domain in scale units (log2 exponent on a log axis)
  hi: number;
  ticks: { at: number; label: string }[];
  map: (v: number) => number; // data value → scale units
}

function xAxis(panels: Panel[], logX: boolean): Axis {
  let min = Infinity;
  let max = -Infinity;
  for (const panel of panels) {
    for (const s of panel.series) {
      for (const p of drawable(s.points, logX)) {
        min = Math.min(min, p.x);
        max = Math.max(max, p.x);
      }
    }
  }
  if (logX) {
    let lo = Number.isFinite(min) ? Math.floor(clean(Math.log2(min))) : 0;
    let hi = Number.isFinite(max) ? Math.ceil(clean(Math.log2(max))) : 8;
    if (hi <= lo) {
      lo -= 1;
      hi += 1;
    }
    const every = Math.max(1, Math.ceil((hi - lo) / 10));
    const ticks: Axis["ticks"] = [];
    for (let k = lo; k <= hi; k++) {
      if ((k - lo) % every !== 0) continue;
      ticks.push({ at: k, label: k >= 0 ? String(2 ** k) : `1/${2 ** -k}` });
    }
    return { lo, hi, ticks, map: (v) => Math.log2(v) };
  }
  let lo = Number.isFinite(min) ? min : 0;
  let hi = Number.isFinite(max) ? max : 1;
  if (hi <= lo) {
    lo -= 1;
    hi += 1;
  }
  const step = niceStep(hi - lo, 8);
  lo = clean(Math.floor(lo / step + 1e-9) * step);
  hi = clean(Math.ceil(hi / step - 1e-9) * step);
  const ticks = ticksFor(lo, hi, step).map((at) => ({ at, label: formatNumber(at) }));
  return { lo, hi, ticks, map: (v) => v };
}

function yAxis(panel: Panel, range: [number, number] | undefined, logX: boolean): Axis {
  let lo: number;
  let hi: number;
  if (range && isNum(range[0]) && isNum(range[1]) && range[1] > range[0]) {
    [lo, hi] = range;
  } else {
    let min = Infinity;
    let max = -Infinity;
    for (const s of panel.series) {
      for (const p of drawable(s.points, logX)) {
        for (const v of [p.y, p.lo, p.hi]) {
          if (isNum(v)) {
            min = Math.min(min, v);
            max = Math.max(max, v);
          }
        }
      }
    }
    if (!Number.isFinite(min)) {
      lo = 0;
      hi = 1;
    } else {
      const pad = Math.max((max - min) * 0.06, 0.02);
      const floor = min >= 0 ? 0 : -Infinity;
      const ceil = max <= 1 ? 1 : Infinity;
      lo = Math.max(floor, min - pad);
      hi = Math.min(ceil, max + pad);
      const step = niceStep(hi - lo, 5);
      lo = Math.max(floor, clean(Math.floor(lo / step + 1e-9) * step));
      hi = Math.min(ceil, clean(Math.ceil(hi / step - 1e-9) * step));
    }
  }
  const step = niceStep(hi - lo, 5);
  const ticks = ticksFor(lo, hi, step).map((at) => ({ at, label: formatPercent(at) }));
  return { lo, hi, ticks, map: (v) => v };
}

// ---------------------------------------------------------------- rendering

interface Style {
  color: string;
  dashed: boolean;
}

function line(x1: number, y1: number, x2: number, y2: number, attrs: string): string {
  return `<line x1="${n(x1)}" y1="${n(y1)}" x2="${n(x2)}" y2="${n(y2)}"${attrs ? " " + attrs : ""}/>`;
}

function text(x: number, y: number, s: string, attrs: string): string {
  return `<text x="${n(x)}" y="${n(y)}"${attrs ? " " + attrs : ""}>${esc(s)}</text>`;
}

function renderPanel(
  panel: Panel,
  index: number,
  ox: number,
  oy: number,
  xa: Axis,
  options: FigureOptions,
  styles: Map<string, Style>,
  logX: boolean,
): string[] {
  const ya = yAxis(panel, options.yRange, logX);
  const left = ox + PLOT_LEFT;
  const right = ox + PANEL_W - PLOT_RIGHT;
  const top = oy + PLOT_TOP;
  const bottom = oy + PANEL_H - PLOT_BOTTOM;
  const pxu = (u: number) => left + X_INSET + ((u - xa.lo) / (xa.hi - xa.lo)) * (right - left - 2 * X_INSET);
  const px = (v: number) => pxu(xa.map(v));
  const py = (v: number) => bottom - ((v - ya.lo) / (ya.hi - ya.lo)) * (bottom - top);
  const clipId = `plot-clip-${index}`;
  const out: string[] = [];

  out.push(`<g class="panel" data-index="${index}">`);
  out.push(
    `<clipPath id="${clipId}"><rect x="${n(left - MARKER_R - 1)}" y="${n(top - MARKER_R - 1)}" ` +
      `width="${n(right - left + 2 * MARKER_R + 2)}" height="${n(bottom - top + 2 * MARKER_R + 2)}"/></clipPath>`,
  );
  out.push(
    text(
      (left + right) / 2,
      oy + 17,
      panel.title,
      `text-anchor="middle" font-size="13" font-weight="bold" fill="${TEXT}"`,
    ),
  );

  // grid + ticks
  out.push(`<g class="grid" stroke="${GRID}" stroke-width="1">`);
  for (const t of ya.ticks) out.push(line(left, py(t.at), right, py(t.at), ""));
  for (const t of xa.ticks) out.push(line(pxu(t.at), top, pxu(t.at), bottom, ""));
  out.push(`</g>`);
  out.push(`<g class="ticks" font-size="10" fill="${TEXT}">`);
  for (const t of ya.ticks) out.push(text(left - 5, py(t.at) + 3.5, t.label, `text-anchor="end"`));
  for (const t of xa.ticks) out.push(text(pxu(t.at), bottom + 14, t.label, `text-anchor="middle"`));
  out.push(`</g>`);
  out.push(`<g class="axes" stroke="${AXIS}" stroke-width="1">`);
  out.push(line(left, bottom, right, bottom, ""));
  out.push(line(left, top, left, bottom, ""));
  out.push(`</g>`);
  out.push(text((left + right) / 2, bottom + 32, options.xLabel, `text-anchor="middle" font-size="11" fill="${TEXT}"`));
  const yl = (top + bottom) / 2;
  const ylx = ox + 13;
  out.push(
    text(
      ylx,
      yl,
      options.yLabel,
      `text-anchor="middle" font-size="11" fill="${TEXT}" transform="rotate(-90 ${n(ylx)} ${n(yl)})"`,
    ),
  );

  const series = panel.series.map((s) => ({ s, pts: drawable(s.points, logX) }));
  if (series.every(({ pts }) => pts.length === 0)) {
    out.push(
      text((left + right) / 2, (top + bottom) / 2 + 4, "no data", `text-anchor="middle" font-size="11" fill="#999999"`),
    );
  }

  out.push(`<g class="data" clip-path="url(#${clipId})">`);
  // bands first so every line sits on top of every band
  for (const { s, pts } of series) {
    const band = pts.filter((p) => isNum(p.lo) && isNum(p.hi));
    if (band.length < 1) continue;
    const { color } = styles.get(s.label)!;
    if (band.length === 1) {
      const p = band[0]!;
      out.push(
        line(
          px(p.x),
          py(p.lo!),
          px(p.x),
          py(p.hi!),
          `class="band" stroke="${color}" stroke-opacity="0.35" stroke-width="3"`,
        ),
      );
      continue;
    }
    const upper = band.map((p) => `${n(px(p.x))},${n(py(p.hi!))}`);
    const lower = band.map((p) => `${n(px(p.x))},${n(py(p.lo!))}`).reverse();
    out.push(
      `<polygon class="band" points="${[...upper, ...lower].join(" ")}" fill="${color}" fill-opacity="0.15" stroke="none"/>`,
    );
  }
  for (const { s, pts } of series) {
    if (pts.length === 0) continue;
    const { color } = styles.get(s.label)!;
    const dash = s.dashed ? ` stroke-dasharray="5 3"` : "";
    const coords = pts.map((p) => `${n(px(p.x))},${n(py(p.y))}`).join(" ");
    out.push(`<g class="series" data-label="${esc(s.label)}">`);
    out.push(
      `<polyline points="${coords}" fill="none" stroke="${color}" stroke-width="1.8" stroke-linejoin="round" stroke-linecap="round"${dash}/>`,
    );
    for (const p of pts) {
      out.push(
        `<circle cx="${n(px(p.x))}" cy="${n(py(p.y))}" r="${MARKER_R}" fill="${color}" stroke="#ffffff" stroke-width="0.8"/>`,
      );
    }
    out.push(`</g>`);
  }
  out.push(`</g>`);
  out.push(`</g>`);
  return out;
}

interface LegendItem {
  label: string;
  style: Style;
  width: number;
}

function layoutLegend(items: LegendItem[], maxWidth: number): LegendItem[][] {
  const rows: LegendItem[][] = [];
  let row: LegendItem[] = [];
  let w = 0;
  for (const it of items) {
    if (row.length > 0 && w + it.width > maxWidth) {
      rows.push(row);
      row = [];
      w = 0;
    }
    row.push(it);
    w += it.width;
  }
  if (row.length > 0) rows.push(row);
  return rows;
}

/** Render a grid of line-chart panels with one shared legend as an SVG document. */
export function renderFigure(panels: Panel[], options: FigureOptions): string {
  const logX = options.logX ?? true;
  const cols = Math.max(1, Math.floor(options.columns ?? Math.min(Math.max(panels.length, 1), 5)));
  const rowsN = Math.ceil(panels.length / cols);

  // colours by label, in order of first appearance across the figure
  const styles = new Map<string, Style>();
  for (const panel of panels) {
    for (const s of panel.series) {
      if (!styles.has(s.label)) {
        styles.set(s.label, { color: PALETTE[styles.size % PALETTE.length]!, dashed: !!s.dashed });
      }
    }
  }

  const width = 2 * PAD + cols * PANEL_W;
  const legendItems: LegendItem[] = [...styles].map(([label, style]) => ({
    label,
    style,
    width: 30 + textWidth(label, 11) + 18,
  }));
  const legendRows = layoutLegend(legendItems, width - 2 * PAD);
  const legendTop = PAD + TITLE_H;
  const gridTop = legendTop + legendRows.length * LEGEND_ROW_H + (legendRows.length > 0 ? LEGEND_GAP : 0);
  const height = gridTop + rowsN * PANEL_H + PAD;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${n(height)}" ` +
      `viewBox="0 0 ${width} ${n(height)}" font-family="${FONT}">`,
  );
  out.push(`<rect x="0" y="0" width="${width}" height="${n(height)}" fill="#ffffff"/>`);
  out.push(
    text(width / 2, PAD + 16, options.title, `text-anchor="middle" font-size="16" font-weight="bold" fill="${TEXT}"`),
  );

  // legend: centred rows of [line + marker] label
  out.push(`<g class="legend" font-size="11" fill="${TEXT}">`);
  legendRows.forEach((row, r) => {
    const rowW = row.reduce((a, it) => a + it.width, 0);
    let x = (width - rowW) / 2;
    const cy = legendTop + r * LEGEND_ROW_H + LEGEND_ROW_H / 2;
    for (const it of row) {
      const dash = it.style.dashed ? ` stroke-dasharray="5 3"` : "";
      out.push(`<g class="legend-item">`);
      out.push(line(x, cy, x + 24, cy, `stroke="${it.style.color}" stroke-width="1.8"${dash}`));
      out.push(
        `<circle cx="${n(x + 12)}" cy="${n(cy)}" r="${MARKER_R}" fill="${it.style.color}" stroke="#ffffff" stroke-width="0.8"/>`,
      );
      out.push(text(x + 30, cy + 4, it.label, ""));
      out.push(`</g>`);
      x += it.width;
    }
  });
  out.push(`</g>`);

  const xa = xAxis(panels, logX);
  panels.forEach((panel, i) => {
    const ox = PAD + (i % cols) * PANEL_W;
    const oy = gridTop + Math.floor(i / cols) * PANEL_H;
    out.push(...renderPanel(panel, i, ox, oy, xa, options, styles, logX));
  });

  out.push(`</svg>`);
  return out.join("\n") + "\n";
}

/**
 * Our own SVG plots (no charting library): horizontal grouped bars (class names stay readable
 * on a phone, however many classes), diverging bars, a reliability diagram and a line chart.
 * Every plot scales to its container through its viewBox, is an accessible `role="img"` with a
 * title, and uses a colour-blind-safe palette.
 */

export const COLORS = ['#1f5fa8', '#c2410c', '#4d7c0f', '#6b21a8', '#0f766e', '#a16207', '#be123c', '#475569'];

export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

let uid = 0;

function open(width: number, height: number, title: string): string[] {
  const id = `plot-title-${++uid}`;
  return [
    `<svg class="plot" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="${id}" xmlns="http://www.w3.org/2000/svg">`,
    `<title id="${id}">${esc(title)}</title>`,
    `<text x="8" y="18" class="plot-title">${esc(title)}</text>`,
  ];
}

function legend(names: readonly string[], y: number, colors: readonly string[], width: number): { svg: string[]; height: number } {
  const out: string[] = [];
  let x = 8;
  let row = 0;
  for (const [i, name] of names.entries()) {
    const w = 22 + name.length * 6.6 + 14;
    if (x + w > width && x > 8) {
      x = 8;
      row++;
    }
    const yy = y + row * 18;
    out.push(`<rect x="${x}" y="${yy - 9}" width="12" height="12" rx="2" fill="${colors[i % colors.length]}"/>`);
    out.push(`<text x="${x + 17}" y="${yy + 1}" class="plot-legend">${esc(name)}</text>`);
    x += w;
  }
  return { svg: out, height: (row + 1) * 18 };
}

export interface BarSeries {
  name: string;
  values: readonly number[];
  /** Print the value next to each bar (default true). */
  valueLabels?: boolean;
}

export interface BarOptions {
  title: string;
  categories: readonly string[];
  series: readonly BarSeries[];
  /** Values are fractions shown as percentages. */
  percent?: boolean;
  /** Digits of the value labels. */
  digits?: number;
  colors?: readonly string[];
  /** Drawing width in CSS pixels (the page passes its container's width, so text stays at its CSS size). */
  width?: number;
}

function label(v: number, percent: boolean, digits: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  return percent ? `${(v * 100).toFixed(digits)}%` : Number.isInteger(v) ? String(v) : v.toFixed(digits);
}

/** Horizontal grouped bars: one row per category, one bar per series; negative values extend left of 0. */
export function barChart(options: BarOptions): string {
  const { categories, series } = options;
  const colors = options.colors ?? COLORS;
  const percent = options.percent ?? false;
  const digits = options.digits ?? 1;
  const width = Math.round(options.width ?? 640);
  const labelWidth = Math.min(Math.round(width * 0.3), 12 + Math.max(...categories.map((c) => c.length), 4) * 7);
  const valueRoom = 46;
  const bar = 10;
  const gap = 2;
  const rowHeight = series.length * (bar + gap) + 8;
  const leg = legend(
    series.map((s) => s.name),
    40,
    colors,
    width,
  );
  const top = 40 + leg.height + 4;
  const height = top + categories.length * rowHeight + 8;
  const all = series.flatMap((s) => s.values.filter(Number.isFinite));
  const max = Math.max(0, ...all);
  const min = Math.min(0, ...all);
  const span = max - min || 1;
  const x0 = labelWidth;
  const plotWidth = width - labelWidth - valueRoom - (min < 0 ? valueRoom : 0);
  const left = x0 + (min < 0 ? valueRoom : 0);
  const sx = (v: number) => left + ((v - min) / span) * plotWidth;
  const out = open(width, height, options.title);
  out.push(...leg.svg);
  categories.forEach((cat, c) => {
    const y = top + c * rowHeight;
    if (c % 2 === 1) out.push(`<rect x="0" y="${y - 3}" width="${width}" height="${rowHeight}" class="plot-band"/>`);
    out.push(`<text x="${labelWidth - 8}" y="${y + (rowHeight - 8) / 2 + 4}" text-anchor="end" class="plot-label">${esc(cat)}</text>`);
    series.forEach((s, k) => {
      const v = s.values[c] ?? Number.NaN;
      const yy = y + k * (bar + gap);
      if (Number.isFinite(v)) {
        const a = sx(Math.min(0, v));
        const b = sx(Math.max(0, v));
        out.push(
          `<rect x="${a.toFixed(1)}" y="${yy}" width="${Math.max(0.5, b - a).toFixed(1)}" height="${bar}" fill="${colors[k % colors.length]}"/>`,
        );
      }
      if (s.valueLabels === false) return;
      const tx = v < 0 ? sx(v) - 4 : sx(Number.isFinite(v) ? v : 0) + 4;
      out.push(
        `<text x="${tx.toFixed(1)}" y="${yy + bar - 1}" text-anchor="${v < 0 ? 'end' : 'start'}" class="plot-value">${label(v, percent, digits)}</text>`,
      );
    });
  });
  out.push(`<line x1="${sx(0).toFixed(1)}" y1="${top - 4}" x2="${sx(0).toFixed(1)}" y2="${height - 6}" class="plot-axis"/>`);
  out.push('</svg>');
  return out.join('');
}

export interface LineSeries {
  name: string;
  points: readonly (readonly [number, number])[];
  dashed?: boolean;
}

export interface LineOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly LineSeries[];
  xTicks?: readonly number[];
  xLog2?: boolean;
  yMin?: number;
  yMax?: number;
  xMin?: number;
  xMax?: number;
  percent?: boolean;
  /** Draw y = x (reliability diagrams). */
  diagonal?: boolean;
  square?: boolean;
  colors?: readonly string[];
  /** Drawing width in CSS pixels. */
  width?: number;
}

/** Line chart with markers; x optionally on a log2 scale. */
export function lineChart(options: LineOptions): string {
  const colors = options.colors ?? COLORS;
  const width = Math.round(options.square ? Math.min(options.width ?? 420, 460) : (options.width ?? 640));
  const leg = legend(
    options.series.map((s) => s.name),
    40,
    colors,
    width,
  );
  const top = 40 + leg.height + 6;
  const plotH = options.square ? Math.min(300, width - 90) : Math.min(260, Math.round(width * 0.5));
  const height = top + plotH + 46;
  const left = 58;
  const right = 16;
  const fx = (x: number) => (options.xLog2 ? Math.log2(x) : x);
  const xs = options.series.flatMap((s) => s.points.map((p) => fx(p[0]))).filter(Number.isFinite);
  const ys = options.series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  const xMin = options.xMin !== undefined ? fx(options.xMin) : Math.min(...xs, ...(options.xTicks ?? []).map(fx));
  const xMax = options.xMax !== undefined ? fx(options.xMax) : Math.max(...xs, ...(options.xTicks ?? []).map(fx));
  const yMin = options.yMin ?? Math.min(...ys);
  const yMax = options.yMax ?? Math.max(...ys);
  const ySpan = yMax - yMin || 1;
  const xSpan = xMax - xMin || 1;
  const sx = (x: number) => left + ((fx(x) - xMin) / xSpan) * (width - left - right);
  const sy = (y: number) => top + plotH - ((y - yMin) / ySpan) * plotH;
  const out = open(width, height, options.title);
  out.push(...leg.svg);
  const yTicks = Array.from({ length: 6 }, (_, i) => yMin + (i / 5) * ySpan);
  for (const t of yTicks) {
    out.push(`<line x1="${left}" y1="${sy(t).toFixed(1)}" x2="${width - right}" y2="${sy(t).toFixed(1)}" class="plot-grid"/>`);
    out.push(
      `<text x="${left - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end" class="plot-value">${label(t, options.percent ?? false, 0)}</text>`,
    );
  }
  const xTicks = options.xTicks ?? Array.from({ length: 6 }, (_, i) => xMin + (i / 5) * xSpan);
  for (const t of xTicks)
    out.push(
      `<text x="${sx(t).toFixed(1)}" y="${top + plotH + 16}" text-anchor="middle" class="plot-value">${options.percent && !options.xTicks ? label(t, true, 0) : String(Number(t.toPrecision(3)))}</text>`,
    );
  out.push(
    `<text x="${(left + width - right) / 2}" y="${top + plotH + 36}" text-anchor="middle" class="plot-label">${esc(options.xLabel)}</text>`,
  );
  out.push(
    `<text x="14" y="${top + plotH / 2}" text-anchor="middle" class="plot-label" transform="rotate(-90 14 ${top + plotH / 2})">${esc(options.yLabel)}</text>`,
  );
  out.push(`<rect x="${left}" y="${top}" width="${width - left - right}" height="${plotH}" class="plot-frame"/>`);
  if (options.diagonal)
    out.push(`<line x1="${sx(xMin)}" y1="${sy(yMin)}" x2="${sx(options.xMax ?? 1)}" y2="${sy(yMax)}" class="plot-diagonal"/>`);
  options.series.forEach((s, k) => {
    const color = colors[k % colors.length]!;
    const pts = s.points.filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]));
    if (pts.length > 1)
      out.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2.2"${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${pts.map((p) => `${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(' ')}"/>`,
      );
    for (const p of pts) out.push(`<circle cx="${sx(p[0]).toFixed(1)}" cy="${sy(p[1]).toFixed(1)}" r="3.2" fill="${color}"/>`);
  });
  out.push('</svg>');
  return out.join('');
}

const drawn = new Map<HTMLElement, (width: number) => string>();

function widthOf(el: HTMLElement): number {
  return Math.max(300, Math.min(el.clientWidth || 640, 860));
}

/** Renders `render(width)` into `el` at the element's width, and again whenever the window is resized. */
export function draw(el: HTMLElement, render: ((width: number) => string) | undefined): void {
  if (!render) {
    drawn.delete(el);
    el.innerHTML = '';
    return;
  }
  const html = render(widthOf(el)); // may throw: then nothing changes
  drawn.set(el, render);
  el.innerHTML = html;
}

let pending = 0;
if (typeof window !== 'undefined')
  window.addEventListener('resize', () => {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(() => {
      for (const [el, render] of drawn) if (el.isConnected) el.innerHTML = render(widthOf(el));
    });
  });

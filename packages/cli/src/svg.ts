/**
 * A tiny SVG plotting module: line charts and grouped bar charts with axes, ticks, axis labels,
 * a title and a legend. Output is standalone, well-formed SVG 1.1 (no scripts, no external refs).
 */

const PALETTE = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
  '#393b79',
  '#637939',
];

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

/** "Nice" tick values covering [min, max] (about `count` of them). */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (max <= min) max = min + 1;
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  const start = Math.ceil(min / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = start; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function tickLabel(v: number, percent: boolean): string {
  if (percent) return `${Number((v * 100).toPrecision(6))}%`;
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(1);
  return String(Number(v.toPrecision(6)));
}

interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

function header(frame: Frame, title: string): string[] {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${frame.width}" height="${frame.height}" viewBox="0 0 ${frame.width} ${frame.height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${frame.width}" height="${frame.height}" fill="#ffffff"/>`,
    `<text x="${frame.width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  ];
}

function legend(names: readonly string[], x: number, y: number, kind: 'line' | 'bar'): string[] {
  const out = ['<g class="legend">'];
  names.forEach((name, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const yy = y + i * 17;
    if (kind === 'line') out.push(`<line x1="${x}" y1="${yy}" x2="${x + 18}" y2="${yy}" stroke="${color}" stroke-width="2.5"/>`);
    else out.push(`<rect x="${x}" y="${yy - 6}" width="14" height="12" fill="${color}"/>`);
    out.push(`<text x="${x + 24}" y="${yy + 4}">${escapeXml(name)}</text>`);
  });
  out.push('</g>');
  return out;
}

export interface LineSeries {
  name: string;
  points: ReadonlyArray<readonly [number, number]>;
  /** Optional error bars (same length as points). */
  errors?: readonly number[];
  dashed?: boolean;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly LineSeries[];
  /** 'log2' spaces x by log2 (shots 1, 2, 4, 8, 16). */
  xScale?: 'linear' | 'log2';
  xTicks?: readonly number[];
  yMin?: number;
  yMax?: number;
  xMin?: number;
  xMax?: number;
  /** Format y ticks as percentages (values in [0, 1]). */
  yPercent?: boolean;
  xPercent?: boolean;
  /** Draw the y = x diagonal (reliability diagrams). */
  diagonal?: boolean;
  width?: number;
  height?: number;
}

/** Line chart with markers, optional error bars and a legend at the right. */
export function lineChart(options: LineChartOptions): string {
  const legendWidth = 210;
  const frame: Frame = {
    width: options.width ?? 760,
    height: options.height ?? 440,
    left: 70,
    right: legendWidth + 20,
    top: 40,
    bottom: 60,
  };
  const tx = (x: number) => (options.xScale === 'log2' ? Math.log2(x) : x);
  const all = options.series.flatMap((s) => s.points);
  const xs = all.map(([x]) => tx(x)).filter(Number.isFinite);
  const ys = all.map(([, y]) => y).filter(Number.isFinite);
  let xMin = options.xMin !== undefined ? tx(options.xMin) : Math.min(...xs);
  let xMax = options.xMax !== undefined ? tx(options.xMax) : Math.max(...xs);
  if (!Number.isFinite(xMin) || !Number.isFinite(xMax)) [xMin, xMax] = [0, 1];
  if (xMax <= xMin) xMax = xMin + 1;
  let yMin = options.yMin ?? Math.min(...ys);
  let yMax = options.yMax ?? Math.max(...ys);
  if (!Number.isFinite(yMin) || !Number.isFinite(yMax)) [yMin, yMax] = [0, 1];
  if (yMax <= yMin) yMax = yMin + 1;
  if (options.yMin === undefined || options.yMax === undefined) {
    const pad = (yMax - yMin) * 0.05;
    if (options.yMin === undefined) yMin -= pad;
    if (options.yMax === undefined) yMax += pad;
  }
  const plotW = frame.width - frame.left - frame.right;
  const plotH = frame.height - frame.top - frame.bottom;
  const px = (x: number) => frame.left + ((tx(x) - xMin) / (xMax - xMin)) * plotW;
  const py = (y: number) => frame.top + plotH - ((y - yMin) / (yMax - yMin)) * plotH;
  const out = header(frame, options.title);
  out.push('<g class="axes" stroke="#000000" stroke-width="1">');
  out.push(`<line x1="${frame.left}" y1="${frame.top + plotH}" x2="${frame.left + plotW}" y2="${frame.top + plotH}"/>`);
  out.push(`<line x1="${frame.left}" y1="${frame.top}" x2="${frame.left}" y2="${frame.top + plotH}"/>`);
  out.push('</g>');
  const yTicks = niceTicks(yMin, yMax, 6).filter((v) => v >= yMin - 1e-12 && v <= yMax + 1e-12);
  const xTicks = options.xTicks ?? (options.xScale === 'log2' ? [] : niceTicks(xMin, xMax, 6));
  out.push('<g class="ticks">');
  for (const v of yTicks) {
    const y = py(v);
    out.push(`<line x1="${frame.left}" y1="${y.toFixed(1)}" x2="${frame.left + plotW}" y2="${y.toFixed(1)}" stroke="#e0e0e0"/>`);
    out.push(`<line x1="${frame.left - 5}" y1="${y.toFixed(1)}" x2="${frame.left}" y2="${y.toFixed(1)}" stroke="#000000"/>`);
    out.push(
      `<text x="${frame.left - 8}" y="${(y + 4).toFixed(1)}" text-anchor="end">${escapeXml(tickLabel(v, options.yPercent ?? false))}</text>`,
    );
  }
  for (const v of xTicks) {
    const x = px(v);
    if (!Number.isFinite(x)) continue;
    out.push(`<line x1="${x.toFixed(1)}" y1="${frame.top + plotH}" x2="${x.toFixed(1)}" y2="${frame.top + plotH + 5}" stroke="#000000"/>`);
    out.push(
      `<text x="${x.toFixed(1)}" y="${frame.top + plotH + 18}" text-anchor="middle">${escapeXml(tickLabel(v, options.xPercent ?? false))}</text>`,
    );
  }
  out.push('</g>');
  out.push(
    `<text class="x-label" x="${frame.left + plotW / 2}" y="${frame.height - 18}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
  );
  out.push(
    `<text class="y-label" x="18" y="${frame.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 18 ${frame.top + plotH / 2})">${escapeXml(options.yLabel)}</text>`,
  );
  if (options.diagonal) {
    const lo = Math.max(xMin, yMin);
    const hi = Math.min(xMax, yMax);
    out.push(
      `<line class="diagonal" x1="${px(lo).toFixed(1)}" y1="${py(lo).toFixed(1)}" x2="${px(hi).toFixed(1)}" y2="${py(hi).toFixed(1)}" stroke="#888888" stroke-dasharray="4 4"/>`,
    );
  }
  options.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const pts = s.points.filter(([x, y]) => Number.isFinite(tx(x)) && Number.isFinite(y));
    out.push(`<g class="series" data-name="${escapeXml(s.name)}">`);
    if (pts.length > 1) {
      const d = pts.map(([x, y], j) => `${j === 0 ? 'M' : 'L'}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
      out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 3"' : ''}/>`);
    }
    s.points.forEach(([x, y], j) => {
      if (!Number.isFinite(tx(x)) || !Number.isFinite(y)) return;
      const e = s.errors?.[j];
      if (e !== undefined && Number.isFinite(e) && e > 0) {
        out.push(
          `<line x1="${px(x).toFixed(1)}" y1="${py(y - e).toFixed(1)}" x2="${px(x).toFixed(1)}" y2="${py(y + e).toFixed(1)}" stroke="${color}" stroke-width="1"/>`,
        );
      }
      out.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${color}"/>`);
    });
    out.push('</g>');
  });
  out.push(
    ...legend(
      options.series.map((s) => s.name),
      frame.width - legendWidth,
      frame.top + 10,
      'line',
    ),
  );
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

export interface BarSeries {
  name: string;
  values: readonly number[];
}

export interface BarChartOptions {
  title: string;
  yLabel: string;
  xLabel?: string;
  categories: readonly string[];
  series: readonly BarSeries[];
  yPercent?: boolean;
  width?: number;
  height?: number;
}

/** Grouped vertical bar chart; category labels are rotated 45 degrees. */
export function barChart(options: BarChartOptions): string {
  const legendWidth = 190;
  const longest = Math.max(4, ...options.categories.map((c) => c.length));
  const frame: Frame = {
    width: options.width ?? Math.max(640, 90 + legendWidth + options.categories.length * (10 + 9 * options.series.length)),
    height: options.height ?? 420 + Math.min(140, longest * 5),
    left: 70,
    right: legendWidth + 20,
    top: 40,
    bottom: 40 + Math.min(140, longest * 5.5),
  };
  const values = options.series.flatMap((s) => s.values).filter(Number.isFinite);
  const yMax0 = Math.max(0, ...values);
  const ticks = niceTicks(0, yMax0 > 0 ? yMax0 : 1, 6);
  const yMax = Math.max(yMax0, ticks[ticks.length - 1] ?? 1) || 1;
  const plotW = frame.width - frame.left - frame.right;
  const plotH = frame.height - frame.top - frame.bottom;
  const py = (y: number) => frame.top + plotH - (y / yMax) * plotH;
  const groupW = plotW / Math.max(1, options.categories.length);
  const barW = Math.max(1, (groupW * 0.8) / Math.max(1, options.series.length));
  const out = header(frame, options.title);
  out.push('<g class="ticks">');
  for (const v of ticks) {
    const y = py(v);
    out.push(`<line x1="${frame.left}" y1="${y.toFixed(1)}" x2="${frame.left + plotW}" y2="${y.toFixed(1)}" stroke="#e0e0e0"/>`);
    out.push(
      `<text x="${frame.left - 8}" y="${(y + 4).toFixed(1)}" text-anchor="end">${escapeXml(tickLabel(v, options.yPercent ?? false))}</text>`,
    );
  }
  out.push('</g>');
  options.series.forEach((s, si) => {
    const color = PALETTE[si % PALETTE.length]!;
    out.push(`<g class="series" data-name="${escapeXml(s.name)}" fill="${color}">`);
    s.values.forEach((v, ci) => {
      if (!Number.isFinite(v) || ci >= options.categories.length) return;
      const x = frame.left + ci * groupW + groupW * 0.1 + si * barW;
      const y = py(Math.max(0, v));
      out.push(
        `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barW.toFixed(1)}" height="${(frame.top + plotH - y).toFixed(1)}"><title>${escapeXml(`${options.categories[ci]}: ${s.name} = ${fmt(v)}`)}</title></rect>`,
      );
    });
    out.push('</g>');
  });
  out.push('<g class="axes" stroke="#000000" stroke-width="1">');
  out.push(`<line x1="${frame.left}" y1="${frame.top + plotH}" x2="${frame.left + plotW}" y2="${frame.top + plotH}"/>`);
  out.push(`<line x1="${frame.left}" y1="${frame.top}" x2="${frame.left}" y2="${frame.top + plotH}"/>`);
  out.push('</g>');
  out.push('<g class="categories">');
  options.categories.forEach((c, ci) => {
    const x = frame.left + (ci + 0.5) * groupW;
    const y = frame.top + plotH + 12;
    out.push(`<text x="${x.toFixed(1)}" y="${y}" text-anchor="end" transform="rotate(-45 ${x.toFixed(1)} ${y})">${escapeXml(c)}</text>`);
  });
  out.push('</g>');
  if (options.xLabel)
    out.push(
      `<text class="x-label" x="${frame.left + plotW / 2}" y="${frame.height - 8}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
    );
  out.push(
    `<text class="y-label" x="18" y="${frame.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 18 ${frame.top + plotH / 2})">${escapeXml(options.yLabel)}</text>`,
  );
  out.push(
    ...legend(
      options.series.map((s) => s.name),
      frame.width - legendWidth,
      frame.top + 10,
      'bar',
    ),
  );
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** Small dependency-free SVG charts for the self-contained HTML report. */

const PALETTE = ['#2f6fb0', '#d9822b', '#3a9a5b', '#b5485d', '#7d5ba6', '#8c8c3a', '#3aa6a6', '#a0522d'];

/** Escapes text for HTML and SVG. */
export function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const exp = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * exp >= value) return m * exp;
  return 10 * exp;
}

const fmtTick = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(1).replace(/\.0$/, '') : v.toPrecision(2));

/** Estimated width in px of text in the 11px tick font (system-ui): narrow, wide and other letters. */
export function textWidth(text: string, fontPx = 11): number {
  let em = 0;
  for (const c of text) em += /[ilj.,:;'|!()[\]\-\s]/.test(c) ? 0.34 : /[ftr]/.test(c) ? 0.42 : /[mwMW]/.test(c) ? 0.88 : /[A-Z]/.test(c) ? 0.68 : 0.6;
  return em * fontPx;
}

/** `text` cut to fit `maxWidth` with a trailing '…' (unchanged when it fits, unless `force`). */
function ellipsize(text: string, maxWidth: number, force = false, fontPx = 11): string {
  if (!force && textWidth(text, fontPx) <= maxWidth) return text;
  let cut = text;
  while (cut.length > 1 && textWidth(`${cut}…`, fontPx) > maxWidth) cut = cut.slice(0, -1);
  return `${cut.replace(/[\s-]+$/, '')}…`;
}

/**
 * Splits a label into lines no wider than `maxWidth`, breaking after '-' and at spaces; a word
 * too long for a line, or a label needing more than `maxLines` lines, is cut with '…'.
 * @example wrapLabel('microservices-http', 80) // ['microservices-', 'http']
 */
export function wrapLabel(label: string, maxWidth: number, maxLines = 3, fontPx = 11): string[] {
  const words = label
    .trim()
    .split(/\s+/)
    .flatMap((w) => w.split(/(?<=-)/));
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    const joined = line ? `${line}${line.endsWith('-') ? '' : ' '}${word}` : word;
    if (!line || textWidth(joined, fontPx) <= maxWidth) line = joined;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line) lines.push(line);
  const kept = lines.slice(0, maxLines).map((l) => ellipsize(l, maxWidth, false, fontPx));
  if (lines.length > maxLines) kept[maxLines - 1] = ellipsize(kept[maxLines - 1]!, maxWidth, true, fontPx);
  return kept;
}

/** Legend entries in rows that wrap within [x0, maxX]; `rows` is how many rows it took. */
function legend(names: readonly string[], x0: number, y0: number, maxX: number): { svg: string; rows: number } {
  let x = x0;
  let y = y0;
  let rows = 1;
  const svg = names
    .map((name, i) => {
      const shown = ellipsize(name, maxX - x0 - 14);
      const w = 24 + textWidth(shown);
      if (x > x0 && x + w - 10 > maxX) {
        x = x0;
        y += 16;
        rows += 1;
      }
      const item = `<rect x="${x.toFixed(1)}" y="${y - 9}" width="10" height="10" fill="${PALETTE[i % PALETTE.length]}"/><text x="${(x + 14).toFixed(1)}" y="${y}" class="tick legend">${esc(shown)}</text>`;
      x += w;
      return item;
    })
    .join('');
  return { svg, rows };
}

/** How many rows the legend of `names` takes within [x0, maxX]. */
function legendRows(names: readonly string[], x0: number, maxX: number): number {
  return legend(names, x0, 0, maxX).rows;
}

type Box = { x: number; y: number; w: number; h: number };
const overlaps = (a: Box, b: Box) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

export interface BarSeries {
  name: string;
  values: ReadonlyArray<number | null>;
}

export interface BarChartOptions {
  title: string;
  unit: string;
  categories: readonly string[];
  series: readonly BarSeries[];
  /** A dashed horizontal reference line, e.g. the p95 budget. */
  reference?: { value: number; label: string };
  width?: number;
  height?: number;
}

/**
 * Grouped vertical bar chart; null values are drawn as "n/a" rather than as zero.
 * @example barChart({ title: 'p95', unit: 'ms', categories: ['browse'], series: [{ name: 'monolith', values: [12] }] })
 */
export function barChart(o: BarChartOptions): string {
  const width = o.width ?? 640;
  const m = { top: o.reference ? 52 : 36, right: 16, left: 64 };
  const plotW = width - m.left - m.right;
  const plotH = Math.max(80, (o.height ?? 300) - 100);
  const groupW = plotW / Math.max(1, o.categories.length);
  // Category labels wrap within their band (after '-' or at spaces), in a smaller font if a word
  // is too wide for it (cut with '…' only then); the chart grows to fit them and the legend.
  const wrapAt = (px: number) => o.categories.map((c) => wrapLabel(c, groupW - 6, 3, px));
  const labelPx = [11, 10, 9].find((px) => !wrapAt(px).some((l) => l.some((line) => line.endsWith('…')))) ?? 9;
  const labels = wrapAt(labelPx);
  const lineH = labelPx + 2;
  const labelLines = Math.max(1, ...labels.map((l) => l.length));
  const names = o.series.map((s) => s.name);
  const plotBottom = m.top + plotH;
  const legendY = plotBottom + 16 + (labelLines - 1) * lineH + 24;
  const height = legendY + (legendRows(names, m.left, width - m.right) - 1) * 16 + 24;
  const all = o.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const top = niceMax(Math.max(...all, o.reference?.value ?? 0, 0));
  const y = (v: number) => plotBottom - (v / top) * plotH;
  const barW = Math.max(4, (groupW * 0.8) / Math.max(1, o.series.length));
  const parts: string[] = [];
  const obstacles: Box[] = [];
  parts.push(`<text x="${m.left}" y="20" class="chart-title">${esc(o.title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const v = (top * i) / 4;
    parts.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" class="grid"/>`);
    parts.push(`<text x="${m.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" class="tick">${esc(fmtTick(v))}</text>`);
  }
  parts.push(`<text x="14" y="${m.top + plotH / 2}" transform="rotate(-90 14 ${m.top + plotH / 2})" text-anchor="middle" class="tick">${esc(o.unit)}</text>`);
  o.categories.forEach((category, ci) => {
    const gx = m.left + ci * groupW + groupW * 0.1;
    o.series.forEach((s, si) => {
      const v = s.values[ci];
      const x = gx + si * barW;
      if (v === null || v === undefined) {
        parts.push(`<text x="${(x + barW / 2).toFixed(1)}" y="${plotBottom - 4}" text-anchor="middle" class="na">n/a</text>`);
        obstacles.push({ x: x + barW / 2 - 9, y: plotBottom - 14, w: 18, h: 12 });
        return;
      }
      const yy = y(v);
      obstacles.push({ x, y: yy, w: barW - 2, h: plotBottom - yy });
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${yy.toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(plotBottom - yy).toFixed(1)}" fill="${PALETTE[si % PALETTE.length]}"><title>${esc(`${s.name} · ${category}: ${fmtTick(v)} ${o.unit}`)}</title></rect>`,
      );
    });
    const cx = (m.left + ci * groupW + groupW / 2).toFixed(1);
    const cut = labels[ci]!.some((line) => line.endsWith('…'));
    labels[ci]!.forEach((line, li) =>
      parts.push(
        `<text x="${cx}" y="${plotBottom + 16 + li * lineH}" text-anchor="middle" class="tick category"${labelPx === 11 ? '' : ` style="font-size:${labelPx}px"`}>${cut && li === 0 ? `<title>${esc(category)}</title>` : ''}${esc(line)}</text>`,
      ),
    );
  });
  if (o.reference)
    parts.push(referenceLine(o.reference.label, y(o.reference.value), { left: m.left, right: width - m.right, top: m.top, bottom: plotBottom }, obstacles));
  parts.push(legend(names, m.left, legendY, width - m.right).svg);
  return `<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(o.title)}">${parts.join('')}</svg>`;
}

/**
 * The dashed reference line across the plot, and its label on a background where no bar or "n/a"
 * is: above the line at the right end, else below it, else at the left end, else in the band
 * above the plot (kept free for it).
 */
function referenceLine(label: string, ry: number, plot: { left: number; right: number; top: number; bottom: number }, obstacles: readonly Box[]): string {
  const w = textWidth(label) + 8;
  const h = 15;
  const candidates: Box[] = [
    { x: plot.right - w, y: ry - h - 2, w, h },
    { x: plot.right - w, y: ry + 2, w, h },
    { x: plot.left + 2, y: ry - h - 2, w, h },
    { x: plot.left + 2, y: ry + 2, w, h },
  ];
  const free = candidates.find((b) => b.y >= plot.top - h - 2 && b.y + b.h <= plot.bottom && !obstacles.some((o) => overlaps(b, o)));
  // Above the plot, a stretch of dashed line before the label says which line it names.
  const box = free ?? { x: plot.right - w, y: plot.top - h - 3, w, h };
  const key = free
    ? ''
    : `<line x1="${(box.x - 22).toFixed(1)}" x2="${(box.x - 2).toFixed(1)}" y1="${(box.y + h / 2).toFixed(1)}" y2="${(box.y + h / 2).toFixed(1)}" class="reference"/>`;
  return (
    key +
    `<line x1="${plot.left}" x2="${plot.right}" y1="${ry.toFixed(1)}" y2="${ry.toFixed(1)}" class="reference"/>` +
    '<style>.reference-bg{fill:#fbfcfd;fill-opacity:.92}@media (prefers-color-scheme:dark){.reference-bg{fill:#1b2126}}</style>' +
    `<rect x="${box.x.toFixed(1)}" y="${box.y.toFixed(1)}" width="${box.w.toFixed(1)}" height="${box.h}" rx="2" class="reference-bg"/>` +
    `<text x="${(box.x + box.w - 4).toFixed(1)}" y="${(box.y + h - 4).toFixed(1)}" text-anchor="end" class="reference-label">${esc(label)}</text>`
  );
}

export interface StackedRow {
  label: string;
  segments: ReadonlyArray<{ name: string; value: number }>;
}

/**
 * Horizontal stacked bars on a 0..max scale (used for the score breakdown by criterion group).
 * @example stackedBars({ title: 'Score', max: 100, rows: [{ label: 'Monolith', segments: [{ name: 'team', value: 20 }] }] })
 */
export function stackedBars(o: { title: string; max: number; rows: readonly StackedRow[]; width?: number }): string {
  const width = o.width ?? 640;
  const rowH = 30;
  const m = { top: 36, right: 56, left: 150 };
  const names = [...new Set(o.rows.flatMap((r) => r.segments.map((s) => s.name)))];
  const legendY = m.top + o.rows.length * rowH + 40;
  const height = legendY + (legendRows(names, m.left, width - 16) - 1) * 16 + 16;
  const plotW = width - m.left - m.right;
  const parts: string[] = [`<text x="${m.left}" y="20" class="chart-title">${esc(o.title)}</text>`];
  for (let i = 0; i <= 4; i++) {
    const x = m.left + (plotW * i) / 4;
    parts.push(`<line x1="${x}" x2="${x}" y1="${m.top - 4}" y2="${m.top + o.rows.length * rowH}" class="grid"/>`);
    parts.push(`<text x="${x}" y="${m.top + o.rows.length * rowH + 14}" text-anchor="middle" class="tick">${(o.max * i) / 4}</text>`);
  }
  o.rows.forEach((row, ri) => {
    const yy = m.top + ri * rowH;
    let x = m.left;
    parts.push(`<text x="${m.left - 8}" y="${yy + rowH / 2 + 4}" text-anchor="end" class="tick">${esc(ellipsize(row.label, m.left - 12))}</text>`);
    for (const seg of row.segments) {
      const w = (seg.value / o.max) * plotW;
      const color = PALETTE[names.indexOf(seg.name) % PALETTE.length];
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${yy + 4}" width="${Math.max(0, w).toFixed(1)}" height="${rowH - 8}" fill="${color}"><title>${esc(`${row.label} · ${seg.name}: ${seg.value.toFixed(1)}`)}</title></rect>`,
      );
      x += w;
    }
    const total = row.segments.reduce((s, v) => s + v.value, 0);
    parts.push(`<text x="${(x + 6).toFixed(1)}" y="${yy + rowH / 2 + 4}" class="tick">${total.toFixed(1)}</text>`);
  });
  parts.push(legend(names, m.left, legendY, width - 16).svg);
  return `<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(o.title)}">${parts.join('')}</svg>`;
}

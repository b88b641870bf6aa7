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
  const height = o.height ?? 300;
  const m = { top: 36, right: 16, bottom: 64, left: 64 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const all = o.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const top = niceMax(Math.max(...all, o.reference?.value ?? 0, 0));
  const y = (v: number) => m.top + plotH - (v / top) * plotH;
  const groupW = plotW / Math.max(1, o.categories.length);
  const barW = Math.max(4, (groupW * 0.8) / Math.max(1, o.series.length));
  const parts: string[] = [];
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
        parts.push(`<text x="${(x + barW / 2).toFixed(1)}" y="${m.top + plotH - 4}" text-anchor="middle" class="na">n/a</text>`);
        return;
      }
      const yy = y(v);
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${yy.toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(m.top + plotH - yy).toFixed(1)}" fill="${PALETTE[si % PALETTE.length]}"><title>${esc(`${s.name} · ${category}: ${fmtTick(v)} ${o.unit}`)}</title></rect>`,
      );
    });
    parts.push(
      `<text x="${(m.left + ci * groupW + groupW / 2).toFixed(1)}" y="${m.top + plotH + 16}" text-anchor="middle" class="tick">${esc(category)}</text>`,
    );
  });
  if (o.reference) {
    const ry = y(o.reference.value).toFixed(1);
    parts.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${ry}" y2="${ry}" class="reference"/>`);
    parts.push(`<text x="${width - m.right}" y="${(Number(ry) - 4).toFixed(1)}" text-anchor="end" class="reference-label">${esc(o.reference.label)}</text>`);
  }
  parts.push(
    legend(
      o.series.map((s) => s.name),
      m.left,
      height - 24,
    ),
  );
  return `<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(o.title)}">${parts.join('')}</svg>`;
}

function legend(names: readonly string[], x0: number, y0: number): string {
  let x = x0;
  return names
    .map((name, i) => {
      const item = `<rect x="${x}" y="${y0 - 9}" width="10" height="10" fill="${PALETTE[i % PALETTE.length]}"/><text x="${x + 14}" y="${y0}" class="tick">${esc(name)}</text>`;
      x += 24 + name.length * 6.5;
      return item;
    })
    .join('');
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
  const m = { top: 36, right: 56, bottom: 56, left: 150 };
  const height = m.top + o.rows.length * rowH + m.bottom;
  const plotW = width - m.left - m.right;
  const names = [...new Set(o.rows.flatMap((r) => r.segments.map((s) => s.name)))];
  const parts: string[] = [`<text x="${m.left}" y="20" class="chart-title">${esc(o.title)}</text>`];
  for (let i = 0; i <= 4; i++) {
    const x = m.left + (plotW * i) / 4;
    parts.push(`<line x1="${x}" x2="${x}" y1="${m.top - 4}" y2="${m.top + o.rows.length * rowH}" class="grid"/>`);
    parts.push(`<text x="${x}" y="${m.top + o.rows.length * rowH + 14}" text-anchor="middle" class="tick">${(o.max * i) / 4}</text>`);
  }
  o.rows.forEach((row, ri) => {
    const yy = m.top + ri * rowH;
    let x = m.left;
    parts.push(`<text x="${m.left - 8}" y="${yy + rowH / 2 + 4}" text-anchor="end" class="tick">${esc(row.label)}</text>`);
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
  parts.push(legend(names, m.left, height - 16));
  return `<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(o.title)}">${parts.join('')}</svg>`;
}

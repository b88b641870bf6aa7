import { useId } from 'react';

export interface BarGroup {
  label: string;
  /** `marked`: the value is shown with the chart's `mark` (e.g. a figure converted from an older file). */
  bars: { series: string; value: number | null; marked?: boolean }[];
}

export interface BarChartProps {
  title: string;
  groups: BarGroup[];
  /** Series names in legend order (topologies). */
  series: string[];
  format: (value: number) => string;
  /** Shown under the title, e.g. "lower is better". */
  note?: string;
  /**
   * What a marked bar's `*` means, said in the text alternative after its value, e.g. "converted to
   * successful requests/s" (the footnote that explains it is the page's, next to the chart).
   */
  mark?: string;
}

const COLORS = ['#2563eb', '#d97706', '#059669', '#9333ea', '#dc2626'];
const LABEL_W = 150;
const BAR_H = 18;
const GAP = 4;
const GROUP_GAP = 14;
const WIDTH = 560;
const VALUE_W = 90;

/**
 * A horizontal grouped bar chart in plain SVG. The figure has a text alternative listing every
 * value, so the chart is not the only way to read the numbers.
 * @example <BarChart title="p95 latency" series={['monolith']} groups={[{ label: 'p95', bars: [{ series: 'monolith', value: 12 }] }]} format={(v) => `${v} ms`} />
 */
export function BarChart({ title, groups, series, format, note, mark = 'marked' }: BarChartProps) {
  const id = useId();
  const max = Math.max(0, ...groups.flatMap((g) => g.bars.map((b) => b.value ?? 0)));
  const plotW = WIDTH - LABEL_W - VALUE_W;
  const groupHeight = (g: BarGroup) => g.bars.length * (BAR_H + GAP) - GAP;
  const height = groups.reduce((h, g) => h + groupHeight(g) + GROUP_GAP, 0) + 10;
  const description = groups
    .map(
      (g) =>
        `${g.label}: ${g.bars.map((b) => `${b.series} ${b.value === null ? 'not measured' : format(b.value)}${b.marked && b.value !== null ? ` (${mark})` : ''}`).join(', ')}`,
    )
    .join('; ');

  let y = 5;
  return (
    <figure className="chart">
      <figcaption id={`${id}-t`}>
        <strong>{title}</strong>
        {note && <span className="muted"> ({note})</span>}
      </figcaption>
      <ul className="legend" aria-hidden="true">
        {series.map((s, index) => (
          <li key={s}>
            <span className="swatch" style={{ background: COLORS[index % COLORS.length] }} /> {s}
          </li>
        ))}
      </ul>
      <svg
        role="img"
        aria-labelledby={`${id}-t`}
        aria-describedby={`${id}-d`}
        viewBox={`0 0 ${WIDTH} ${height}`}
        width="100%"
        preserveAspectRatio="xMinYMin meet"
      >
        <desc id={`${id}-d`}>{description}</desc>
        {groups.map((g) => {
          const top = y;
          y += groupHeight(g) + GROUP_GAP;
          return (
            <g key={g.label}>
              <text x={LABEL_W - 8} y={top + groupHeight(g) / 2 + 4} textAnchor="end" className="chart-label">
                {g.label}
              </text>
              {g.bars.map((b, index) => {
                const barY = top + index * (BAR_H + GAP);
                const w = b.value === null || max === 0 ? 0 : Math.max(1, (b.value / max) * plotW);
                const color = COLORS[Math.max(0, series.indexOf(b.series)) % COLORS.length];
                return (
                  <g key={b.series}>
                    <rect x={LABEL_W} y={barY} width={w} height={BAR_H} fill={color} rx={2} />
                    <text x={LABEL_W + w + 6} y={barY + BAR_H - 5} className="chart-value">
                      {b.value === null ? 'n/a' : `${format(b.value)}${b.marked ? '*' : ''}`}
                    </text>
                  </g>
                );
              })}
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

import { describe, expect, it } from 'vitest';
import { barChart, stackedBars, textWidth, wrapLabel } from './svg';

const TOPOLOGIES = ['modular-monolith', 'microservices-http', 'microservices-amqp', 'hybrid', 'serverless (local emulator)'];

interface Text {
  x: number;
  y: number;
  anchor: string;
  cls: string;
  px: number;
  text: string;
}

/** The text elements of an SVG, with the horizontal extent each takes at its font size. */
function texts(svg: string): Array<Text & { left: number; right: number }> {
  return [...svg.matchAll(/<text ([^>]*)>(.*?)<\/text>/g)].map(([, attrs, body]) => {
    const attr = (name: string) => new RegExp(`(?:^| )${name}="([^"]*)"`).exec(attrs!)?.[1];
    const cls = attr('class') ?? '';
    const px = Number(/font-size:(\d+)px/.exec(attrs!)?.[1] ?? (cls === 'chart-title' ? 14 : 11));
    const text = body!.replace(/<title>.*?<\/title>/g, '').replace(/&amp;/g, '&');
    const x = Number(attr('x'));
    const w = textWidth(text, px) * (cls === 'chart-title' ? 1.1 : 1);
    const anchor = attr('text-anchor') ?? 'start';
    const left = anchor === 'end' ? x - w : anchor === 'middle' ? x - w / 2 : x;
    return { x, y: Number(attr('y')), anchor, cls, px, text, left, right: left + w };
  });
}

function viewBox(svg: string): { width: number; height: number } {
  const [, w, h] = /viewBox="0 0 ([\d.]+) ([\d.]+)"/.exec(svg)!;
  return { width: Number(w), height: Number(h) };
}

const rects = (svg: string) =>
  [...svg.matchAll(/<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"[^>]*fill="#/g)].map((m) => ({
    x: Number(m[1]),
    y: Number(m[2]),
    w: Number(m[3]),
    h: Number(m[4]),
  }));

const latency = (width: number, values: (ci: number, si: number) => number | null) =>
  barChart({
    title: 'Latency percentiles: checkout',
    unit: 'ms',
    categories: TOPOLOGIES,
    series: ['p50', 'p95', 'p99'].map((name, si) => ({ name, values: TOPOLOGIES.map((_, ci) => values(ci, si)) })),
    reference: { value: 50, label: 'p95 budget 50 ms' },
    width,
  });

describe('report charts keep every label readable', () => {
  it('wraps a category label after "-" or at a space, within the width it is given', () => {
    expect(wrapLabel('microservices-http', 90)).toEqual(['microservices-', 'http']);
    expect(wrapLabel('serverless (local emulator)', 90)).toEqual(['serverless', '(local emulator)']);
    expect(wrapLabel('hybrid', 90)).toEqual(['hybrid']);
    for (const line of wrapLabel('an-extraordinarily-long-topology-name-with-many-parts', 60)) expect(textWidth(line)).toBeLessThanOrEqual(60);
  });

  it.each([500, 640, 1280])('at %i px: no text beyond the viewBox, category lines within their band, none over another', (width) => {
    const svg = latency(width, (ci, si) => 10 + ci * 20 + si * 15);
    const box = viewBox(svg);
    const all = texts(svg);
    for (const t of all) {
      expect(t.left, t.text).toBeGreaterThanOrEqual(0);
      expect(t.right, t.text).toBeLessThanOrEqual(box.width);
      expect(t.y, t.text).toBeLessThanOrEqual(box.height - 4);
    }
    const groupW = (width - 64 - 16) / TOPOLOGIES.length;
    const categories = all.filter((t) => t.cls.includes('category'));
    TOPOLOGIES.forEach((name, ci) => {
      const band = { left: 64 + ci * groupW, right: 64 + (ci + 1) * groupW };
      const lines = categories.filter((t) => t.left >= band.left && t.right <= band.right);
      // Every line of the label sits in its band, and together they spell the whole name.
      expect(
        lines
          .map((t) => t.text)
          .join(' ')
          .replace(/- /g, '-'),
        name,
      ).toBe(name);
    });
    expect(categories).toHaveLength(TOPOLOGIES.reduce((n, name) => n + wrapLabel(name, groupW - 6, 3, categories[0]!.px).length, 0));
  });

  it('wraps the legend into rows within the width, and the chart is tall enough for them', () => {
    const svg = barChart({
      title: 'Throughput by scenario',
      unit: 'requests/s',
      categories: ['browse', 'checkout', 'reads'],
      series: TOPOLOGIES.map((name, i) => ({ name, values: [400 + i, 300, 900] })),
      width: 500,
    });
    const box = viewBox(svg);
    const legend = texts(svg).filter((t) => t.cls.includes('legend'));
    expect(legend.map((t) => t.text)).toEqual(TOPOLOGIES);
    expect(new Set(legend.map((t) => t.y)).size).toBeGreaterThan(1);
    for (const t of legend) {
      expect(t.right, t.text).toBeLessThanOrEqual(box.width - 16);
      expect(t.y, t.text).toBeLessThanOrEqual(box.height - 8);
    }
    const score = stackedBars({
      title: 'Score',
      max: 100,
      width: 400,
      rows: [
        {
          label: 'Modular monolith',
          segments: ['Team and organisation', 'Load and performance', 'Change', 'Operations', 'Cost'].map((name) => ({ name, value: 10 })),
        },
      ],
    });
    for (const t of texts(score)) expect(t.right, t.text).toBeLessThanOrEqual(viewBox(score).width);
  });

  it('draws the reference label where no bar covers it, above the line when there is room', () => {
    const over = (a: { x: number; y: number; w: number; h: number }, b: typeof a) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
    for (const values of [(ci: number, si: number) => 10 + ci * 20 + si * 15, () => 400, (ci: number) => (ci === 4 ? 400 : 5)]) {
      const svg = latency(640, values);
      const label = texts(svg).find((t) => t.cls === 'reference-label')!;
      expect(label.text).toBe('p95 budget 50 ms');
      const labelBox = { x: label.left, y: label.y - 11, w: label.right - label.left, h: 13 };
      for (const bar of rects(svg)) expect(over(labelBox, bar)).toBe(false);
      // Drawn after the bars, on its own background.
      expect(svg.indexOf('class="reference-label"')).toBeGreaterThan(svg.lastIndexOf('<rect x', svg.indexOf('class="reference-bg"') - 1));
    }
  });
});

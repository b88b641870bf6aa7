import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FastHistogram } from './histogram';

/** Exposition lines with labels sorted and lines sorted: equal when the series and values are. */
function normalise(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const open = line.indexOf('{');
      const close = line.lastIndexOf('}');
      const labels = line
        .slice(open + 1, close)
        .split(',')
        .sort()
        .join(',');
      return `${line.slice(0, open)}{${labels}}${line.slice(close + 1)}`;
    })
    .sort();
}

describe('FastHistogram', () => {
  it('renders exactly what a prom-client Histogram renders for the same observations', async () => {
    const buckets = [0.005, 0.01, 0.1, 1];
    const fastRegistry = new Registry();
    const slowRegistry = new Registry();
    for (const registry of [fastRegistry, slowRegistry]) registry.setDefaultLabels({ service: 'svc' });
    const fast = new FastHistogram({ name: 'd_seconds', help: 'h', labelNames: ['route', 'method'] as const, buckets, registers: [fastRegistry] });
    const slow = new Histogram({ name: 'd_seconds', help: 'h', labelNames: ['route', 'method'] as const, buckets, registers: [slowRegistry] });
    const observations: Array<[string, string, number]> = [
      ['/a', 'GET', 0.001],
      ['/a', 'GET', 0.005],
      ['/a', 'GET', 0.05],
      ['/a', 'POST', 2],
      ['/b/:id', 'GET', 0.2],
      ['/a', 'GET', 0.0051],
    ];
    const bound = fast.bind({ route: '/b/:id', method: 'GET' });
    for (const [route, method, value] of observations) {
      if (route === '/b/:id') bound.observe(value);
      else fast.observe({ route, method }, value);
      slow.observe({ route, method }, value);
    }
    const fastText = await fastRegistry.metrics();
    expect(normalise(fastText)).toEqual(normalise(await slowRegistry.metrics()));
    expect(fastText).toContain('# TYPE d_seconds histogram');
    fast.reset();
    expect(await fastRegistry.metrics()).toContain('d_seconds_count{route="/a",method="GET",service="svc"} 0');
  });
});

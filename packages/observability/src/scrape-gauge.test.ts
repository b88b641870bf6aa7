import { describe, expect, it } from 'vitest';
import { createMetrics } from './metrics';
import { registerScrapeGauge, secondsSince } from './scrape-gauge';

function setup(read: () => Promise<{ value: number; labels?: Record<string, string> }[]>, timeoutMs = 200) {
  const warnings: string[] = [];
  const metrics = createMetrics({ service: 'svc', defaultMetrics: false });
  let reads = 0;
  registerScrapeGauge(metrics, {
    name: 'test_oldest_seconds',
    help: 'the age of the oldest thing',
    source: 'the test database',
    logger: { warn: (_: unknown, message: string) => void warnings.push(message) } as never,
    read: () => {
      reads++;
      return read();
    },
    timeoutMs,
  });
  return { metrics, warnings, reads: () => reads };
}

describe('registerScrapeGauge', () => {
  it('reads its series at each scrape, labelled with the service', async () => {
    let value = 1.5;
    const { metrics } = setup(async () => [{ value, labels: { state: 'RELEASING' } }]);
    expect(await metrics.render()).toContain('test_oldest_seconds{state="RELEASING",service="svc"} 1.5');
    value = 0;
    expect(await metrics.render()).toContain('test_oldest_seconds{state="RELEASING",service="svc"} 0');
    metrics.registry.resetMetrics(); // nothing to reset, no throw
  });

  it('leaves the series out of a scrape whose read fails, with a warning, and serves the rest', async () => {
    const { metrics, warnings } = setup(() => Promise.reject(new Error('connection refused')));
    metrics.ordersTotal.inc({ outcome: 'confirmed' });
    const text = await metrics.render();
    expect(text).toContain('archbench_orders_total{outcome="confirmed",service="svc"} 1');
    expect(text).not.toMatch(/^test_oldest_seconds\{/m);
    expect(warnings).toEqual(['test_oldest_seconds: the test database did not answer; left out of this scrape']);
  });

  it('waits at most timeoutMs for a read that hangs, and starts no second read while it is under way', async () => {
    let answer: (values: { value: number }[]) => void = () => {};
    const { metrics, reads } = setup(() => new Promise((resolve) => (answer = resolve)), 200);
    const started = performance.now();
    const [a, b] = await Promise.all([metrics.render(), metrics.render()]);
    expect(performance.now() - started).toBeLessThan(1500);
    for (const text of [a, b]) expect(text).not.toMatch(/^test_oldest_seconds\{/m);
    expect(reads()).toBe(1);
    answer([{ value: 7 }]);
    await new Promise((resolve) => setTimeout(resolve, 0));
    // The read answered: the next scrape reads afresh.
    answer = () => {};
    const next = metrics.render();
    answer([{ value: 3 }]);
    expect(await next).toContain('test_oldest_seconds{service="svc"} 3');
    expect(reads()).toBe(2);
  });
});

describe('archbench_scrape_read_ok', () => {
  it('says, in the same scrape, whether each scrape gauge of the registry was read', async () => {
    const metrics = createMetrics({ service: 'svc', defaultMetrics: false });
    const logger = { warn: () => {} } as never;
    let fails = false;
    registerScrapeGauge(metrics, { name: 'a_seconds', help: 'a', source: 'db a', logger, read: async () => [{ value: 1 }] });
    registerScrapeGauge(metrics, {
      name: 'b_seconds',
      help: 'b',
      source: 'db b',
      logger,
      timeoutMs: 50,
      read: () => (fails ? new Promise(() => {}) : Promise.resolve([{ value: 2 }])),
    });
    const ok = (text: string) =>
      Object.fromEntries([...text.matchAll(/^archbench_scrape_read_ok\{gauge="(\w+)",service="svc"\} (\d)$/gm)].map(([, g, v]) => [g, Number(v)]));
    expect(ok(await metrics.render())).toEqual({ a_seconds: 1, b_seconds: 1 });
    fails = true;
    // The first scrape whose read hangs says so: what an alert on it reads.
    const text = await metrics.render();
    expect(ok(text)).toEqual({ a_seconds: 1, b_seconds: 0 });
    expect(text).toContain('a_seconds{service="svc"} 1');
    expect(text).not.toMatch(/^b_seconds\{/m);
  });

  it('gives up on a read that hangs for ten timeouts (a later scrape reads again), at most two at a time: never more than three reads held', async () => {
    let calls = 0;
    const answers: Array<(values: { value: number }[]) => void> = [];
    const metrics = createMetrics({ service: 'svc', defaultMetrics: false });
    registerScrapeGauge(metrics, {
      name: 'c_seconds',
      help: 'c',
      source: 'db c',
      logger: { warn: () => {} } as never,
      timeoutMs: 40,
      // Every read hangs until the test answers it (a lock on the table; a half-open connection).
      read: () => {
        calls++;
        return new Promise((resolve) => answers.push(resolve));
      },
    });
    expect(await metrics.render()).not.toMatch(/^c_seconds\{/m);
    expect(calls).toBe(1);
    const past = () => new Promise((resolve) => setTimeout(resolve, 10 * 40 + 50));
    // Each time the read under way has hung for ten timeouts, a scrape gives it up and reads again…
    for (const expected of [2, 3]) {
      await past();
      expect(await metrics.render()).not.toMatch(/^c_seconds\{/m);
      expect(calls).toBe(expected);
    }
    // …until two given up are still held: no fourth read, however long.
    await past();
    await metrics.render();
    await metrics.render();
    expect(calls).toBe(3);
    // One of them settles at last: the read under way may be given up now, and a fourth answers.
    answers[0]!([{ value: 9 }]);
    await new Promise((resolve) => setTimeout(resolve, 0));
    const next = metrics.render();
    await new Promise((resolve) => setTimeout(resolve, 0));
    answers[3]!([{ value: 4 }]);
    expect(await next).toContain('c_seconds{service="svc"} 4');
    expect(calls).toBe(4);
  });
});

describe('secondsSince', () => {
  it('is 0 for none and never negative', () => {
    expect(secondsSince(undefined)).toBe(0);
    expect(secondsSince('2026-01-01T00:00:10.000Z', Date.parse('2026-01-01T00:00:00.000Z'))).toBe(0);
    expect(secondsSince('2026-01-01T00:00:00.000Z', Date.parse('2026-01-01T00:01:30.500Z'))).toBe(90.5);
  });
});

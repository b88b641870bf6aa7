import { describe, expect, it } from 'vitest';
import { filterOrders, generateOrders } from './generate';
import { percentile, summarize } from './percentile';

describe('percentile', () => {
  it('interpolates between closest ranks', () => {
    expect(percentile([10, 20, 30, 40], 50)).toBe(25);
    expect(percentile([40, 10, 30, 20], 0)).toBe(10);
    expect(percentile([40, 10, 30, 20], 100)).toBe(40);
    // rank 0.95 * 19 = 18.05 -> between the 19th (19) and 20th (20) values
    expect(
      percentile(
        Array.from({ length: 20 }, (_, i) => i + 1),
        95,
      ),
    ).toBeCloseTo(19.05, 10);
  });

  it('does not depend on input order and ignores non-finite values', () => {
    expect(percentile([300, 16, 24, Number.NaN], 50)).toBe(24);
  });

  it('is NaN without samples and rejects a percentile outside 0..100', () => {
    expect(percentile([], 95)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });

  it('summarises count, p50, p95 and max', () => {
    expect(summarize([16, 24, 300])).toEqual({ count: 3, p50: 24, p95: 272.4, max: 300 });
    const empty = summarize([]);
    expect(empty.count).toBe(0);
    expect(empty.p95).toBeNaN();
  });

  it('p95 sees a slow tail that p50 hides', () => {
    const delays = [...Array.from({ length: 90 }, () => 20), ...Array.from({ length: 10 }, () => 400)];
    const s = summarize(delays);
    expect(s.p50).toBe(20);
    expect(s.p95).toBe(400);
  });
});

describe('lab data', () => {
  it('generates the same 20,000 orders every time', () => {
    const a = generateOrders(20_000);
    const b = generateOrders(20_000);
    expect(a).toHaveLength(20_000);
    expect(a[12_345]).toEqual(b[12_345]);
    expect(new Set(a.map((o) => o.id)).size).toBe(20_000);
  });

  it('filters on every word, case-insensitively', () => {
    const orders = generateOrders(5_000);
    const hits = filterOrders(orders, 'ALICE  berlin');
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.length).toBeLessThan(orders.length);
    for (const o of hits) {
      expect(o.customer.startsWith('alice')).toBe(true);
      expect(o.city).toBe('Berlin');
    }
    expect(filterOrders(orders, '   ')).toHaveLength(5_000);
  });
});

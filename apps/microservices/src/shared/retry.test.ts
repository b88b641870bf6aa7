import { describe, expect, it } from 'vitest';
import { backoffMs, retryPolicy } from './retry';

describe('retryPolicy', () => {
  it('makes exactly `attempts` calls on a retryable failure, then throws the last error', async () => {
    let calls = 0;
    const policy = retryPolicy({ attempts: 3, retryable: () => true, firstDelayMs: 1, maxDelayMs: 2 });
    await expect(
      policy.execute(() => {
        calls++;
        throw new Error(`failure ${calls}`);
      }),
    ).rejects.toThrow('failure 3');
    expect(calls).toBe(3);
  });

  it('does not retry what is not retryable', async () => {
    let calls = 0;
    const policy = retryPolicy({ attempts: 5, retryable: (error) => !(error instanceof TypeError), firstDelayMs: 1 });
    await expect(
      policy.execute(() => {
        calls++;
        throw new TypeError('bad request');
      }),
    ).rejects.toThrow(TypeError);
    expect(calls).toBe(1);
  });

  it('retries a retryable result and returns the last one when attempts run out', async () => {
    const statuses = [503, 503, 502];
    let calls = 0;
    const policy = retryPolicy({
      attempts: 3,
      retryable: () => false,
      retryResult: (r) => (r as { status: number }).status >= 502,
      firstDelayMs: 1,
      maxDelayMs: 2,
    });
    const result = await policy.execute(() => ({ status: statuses[calls++]! }));
    expect(result).toEqual({ status: 502 });
    expect(calls).toBe(3);
  });

  it('stops at success', async () => {
    let calls = 0;
    const policy = retryPolicy({ attempts: Infinity, retryable: () => true, firstDelayMs: 1, maxDelayMs: 2 });
    const result = await policy.execute(() => {
      calls++;
      if (calls < 4) throw new Error('not yet');
      return 'ok';
    });
    expect(result).toBe('ok');
    expect(calls).toBe(4);
  });
});

describe('backoffMs', () => {
  it('doubles from the base, stays within [half, whole] of its ceiling and never passes the cap', () => {
    for (let i = 0; i < 50; i++) {
      const first = backoffMs(1, 100, 2000);
      expect(first).toBeGreaterThanOrEqual(50);
      expect(first).toBeLessThanOrEqual(100);
      const third = backoffMs(3, 100, 2000);
      expect(third).toBeGreaterThanOrEqual(200);
      expect(third).toBeLessThanOrEqual(400);
      expect(backoffMs(30, 100, 2000)).toBeLessThanOrEqual(2000);
    }
  });
});

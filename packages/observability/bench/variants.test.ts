import { describe, expect, it } from 'vitest';
import { mean, median, processCpu, range } from './variants';

describe('bench helpers', () => {
  it('reads CPU time finer than the 10 ms ticks of /proc/<pid>/stat, main thread within all threads', () => {
    const start = processCpu(process.pid);
    let now = start;
    // Spin until the main thread's CPU time moves at all: with ticks the first step would be 10 ms.
    while (now.main === start.main) now = processCpu(process.pid);
    expect(now.main - start.main).toBeGreaterThan(0);
    expect(now.main - start.main).toBeLessThan(0.005);
    expect(now.all).toBeGreaterThanOrEqual(now.main);
  });

  it('prints the statistics of a round', () => {
    expect(mean([1, 2, 6])).toBe(3);
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(range([1.234, 0.9, 1.1])).toBe('0.90–1.23');
  });
});

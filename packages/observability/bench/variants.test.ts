import { describe, expect, it } from 'vitest';
import { mean, meanWithInterval, median, processCpu, range, ratioWithInterval, seededRandom } from './variants';

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

  it('gives a ratio of means with an interval that widens with the spread of the processes', () => {
    const tight = ratioWithInterval([0.9, 0.9, 0.91, 0.89], [1, 1.01, 0.99, 1]);
    expect(tight.ratio).toBeCloseTo(0.9, 3);
    expect(tight.low).toBeLessThanOrEqual(tight.ratio);
    expect(tight.high).toBeGreaterThanOrEqual(tight.ratio);
    expect(tight.high - tight.low).toBeLessThan(0.03);
    // One process of each side 30 % off: the same mean ratio, an interval wide enough to cross 1.
    const loose = ratioWithInterval([0.9, 0.9, 1.17, 0.63], [1, 1.3, 0.7, 1]);
    expect(loose.ratio).toBeCloseTo(0.9, 3);
    expect(loose.high).toBeGreaterThan(1);
    expect(loose.low).toBeLessThan(0.8);
    // Seeded: the same numbers give the same interval.
    expect(ratioWithInterval([0.9, 0.9, 1.17, 0.63], [1, 1.3, 0.7, 1])).toEqual(loose);
  });

  it('draws reproducible numbers in [0, 1) from a seed', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const values = Array.from({ length: 1000 }, () => a());
    expect(values).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    expect(mean(values)).toBeGreaterThan(0.45);
    expect(mean(values)).toBeLessThan(0.55);
  });

  it('gives the mean of whole runs with a Student t interval', () => {
    // Mean 0.86, sample sd 0.06, n 3: half-width 2.92 * 0.06 / sqrt(3).
    const three = meanWithInterval([0.8, 0.86, 0.92]);
    expect(three.mean).toBeCloseTo(0.86, 10);
    expect(three.high - three.mean).toBeCloseTo((2.92 * 0.06) / Math.sqrt(3), 6);
    expect(three.mean - three.low).toBeCloseTo(three.high - three.mean, 10);
    expect(meanWithInterval([0.9, 0.9]).low).toBe(0.9);
    const one = meanWithInterval([0.9]);
    expect(one.mean).toBe(0.9);
    expect(one.low).toBeNaN();
  });
});

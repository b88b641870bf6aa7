import { describe, expect, it } from 'vitest';
import { counterDelta } from '../src/compare/runner';
import { parsePromText } from '../src/metrics/prom-text';

const CALLS = 'archbench_internal_calls_total';
const scrape = (calls?: number) => parsePromText(calls === undefined ? 'process_cpu_seconds_total 1\n' : `${CALLS}{target="payments"} ${calls}\n`);

describe('counterDelta: how much a counter grew over a run, over every process', () => {
  it('sums the growth of each process', () => {
    expect(counterDelta([scrape(100), scrape(10)], [scrape(130), scrape(12)], CALLS)).toBe(32);
  });

  it('is unknown when a process answered only one of the two scrapes (its lifetime count would land in this run)', () => {
    expect(counterDelta([scrape(100), undefined], [scrape(130), scrape(5000)], CALLS)).toBeUndefined();
    expect(counterDelta([scrape(100), scrape(5000)], [scrape(130), undefined], CALLS)).toBeUndefined();
  });

  it('skips a process that never answers, and counts a series that appears during the run from 0', () => {
    expect(counterDelta([scrape(100), undefined, scrape()], [scrape(130), undefined, scrape(7)], CALLS)).toBe(37);
  });

  it('counts a restarted process (its counter went down) from 0, and is undefined when nothing serves the series', () => {
    expect(counterDelta([scrape(100)], [scrape(3)], CALLS)).toBe(3);
    expect(counterDelta([scrape(), scrape()], [scrape(), scrape()], CALLS)).toBeUndefined();
  });
});

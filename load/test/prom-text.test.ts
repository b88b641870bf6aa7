import { describe, expect, it } from 'vitest';
import { parsePromText, PromTextError, sumMetric } from '../src/metrics/prom-text';

const SAMPLE = `# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 1.234

# HELP process_resident_memory_bytes Resident memory size in bytes.
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 81920000 1700000000000
# TYPE archbench_internal_calls_total counter
archbench_internal_calls_total{target="inventory",method="POST"} 120
archbench_internal_calls_total{target="payments",method="POST"} 80
archbench_internal_calls_total{target="we\\"ird, name",note="a\\\\b\\nc"} 1
http_request_duration_seconds_bucket{le="+Inf"} 5
nodejs_gc_duration_seconds_sum{kind="minor"} NaN
`;

describe('parsePromText', () => {
  it('parses names, labels (with escapes), values and ignores comments and timestamps', () => {
    const samples = parsePromText(SAMPLE);
    expect(samples).toHaveLength(7);
    expect(samples[0]).toEqual({ name: 'process_cpu_seconds_total', labels: {}, value: 1.234 });
    expect(samples[1]).toEqual({ name: 'process_resident_memory_bytes', labels: {}, value: 81920000 });
    expect(samples[4]!.labels).toEqual({ target: 'we"ird, name', note: 'a\\b\nc' });
    expect(samples[5]!.value).toBe(5);
    expect(samples[6]!.value).toBeNaN();
  });

  it('reads Inf and NaN in any case, as Prometheus does (prom-client writes an empty histogram stddev as "Nan")', () => {
    const samples = parsePromText('nodejs_eventloop_lag_stddev_seconds{service="monolith"} Nan\na +inf\nb -Inf\nprocess_cpu_seconds_total 2.5\n');
    expect(samples[0]!.value).toBeNaN();
    expect(samples[1]!.value).toBe(Number.POSITIVE_INFINITY);
    expect(samples[2]!.value).toBe(Number.NEGATIVE_INFINITY);
    expect(sumMetric(samples, 'process_cpu_seconds_total')).toBe(2.5);
  });

  it('sums a metric over label sets, optionally filtered', () => {
    const samples = parsePromText(SAMPLE);
    expect(sumMetric(samples, 'archbench_internal_calls_total')).toBe(201);
    expect(sumMetric(samples, 'archbench_internal_calls_total', { target: 'payments' })).toBe(80);
    expect(sumMetric(samples, 'archbench_orders_total')).toBeUndefined();
  });

  it('rejects malformed lines with the line number', () => {
    expect(() => parsePromText('ok 1\nbad_metric{x="1" 2\n')).toThrow(PromTextError);
    expect(() => parsePromText('ok 1\nm{x="1"} abc\n')).toThrow(/line 2: "abc" is not a number/);
    expect(() => parsePromText('{x="1"} 1')).toThrow(/line 1: no metric name/);
  });
});

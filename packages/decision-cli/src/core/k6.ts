import { z } from 'zod';
import { InputError } from './errors';
import type { ScenarioEvidence } from './evidence';

// Two k6 formats exist: `k6 run --summary-export` (flat metric fields; a threshold's boolean is
// true when it FAILED) and the data object handed to handleSummary()/written by
// `--summary-mode`/JSON (values under `values`; thresholds as `{ ok }`). Both are read here.
const num = z.number();
const ExportTrend = z.object({ med: num, 'p(95)': num, 'p(90)': num.optional(), 'p(99)': num.optional(), max: num.optional(), thresholds: z.record(z.string(), z.boolean()).optional() });
const ExportCounter = z.object({ count: num, rate: num });
const ExportRate = z.object({ value: num, thresholds: z.record(z.string(), z.boolean()).optional() });
const SummaryThresholds = z.record(z.string(), z.object({ ok: z.boolean() })).optional();
const SummaryTrend = z.object({ values: z.object({ med: num, 'p(95)': num, 'p(90)': num.optional(), 'p(99)': num.optional(), max: num.optional() }), thresholds: SummaryThresholds });
const SummaryCounter = z.object({ values: z.object({ count: num, rate: num }) });
const SummaryRate = z.object({ values: z.object({ rate: num }), thresholds: SummaryThresholds });

/**
 * Reads a k6 summary (either format) as one scenario of client-side evidence.
 * Throws InputError naming the problem for truncated or foreign files.
 * @example parseK6Summary(readFileSync('summary.json', 'utf8'), 'summary.json', 'k6')
 */
export function parseK6Summary(text: string, source: string, scenario = 'k6'): ScenarioEvidence {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${source}: not valid JSON (${(error as Error).message}); is the k6 summary truncated?`);
  }
  const metrics = (data as { metrics?: unknown } | null)?.metrics;
  if (!metrics || typeof metrics !== 'object') {
    throw new InputError(`${source}: not a k6 summary (no "metrics" object); pass the file from \`k6 run --summary-export\` or handleSummary`);
  }
  const m = metrics as Record<string, unknown>;
  for (const name of ['http_req_duration', 'http_reqs']) {
    if (!(name in m)) throw new InputError(`${source}: k6 summary has no ${name} metric; did the test make HTTP requests?`);
  }
  const isSummaryData = typeof (m.http_req_duration as { values?: unknown }).values === 'object';
  const durationMs = (data as { state?: { testRunDurationMs?: unknown } }).state?.testRunDurationMs;
  const failedThresholds: string[] = [];
  const collect = (metric: string, thresholds: Record<string, boolean> | undefined, failedWhen: boolean) => {
    for (const [expression, flag] of Object.entries(thresholds ?? {})) if (flag === failedWhen) failedThresholds.push(`${metric}: ${expression}`);
  };
  const anyThresholds = (...ts: Array<Record<string, unknown> | undefined>) => ts.some((t) => t && Object.keys(t).length > 0);

  const parse = <T extends z.ZodType>(schema: T, value: unknown, name: string): z.infer<T> => {
    const result = schema.safeParse(value);
    if (!result.success) {
      const issue = result.error.issues[0];
      throw new InputError(`${source}: k6 metric ${name} is incomplete (${issue?.path.join('.') || 'value'}: ${issue?.message}); is the summary truncated?`);
    }
    return result.data;
  };

  let latency: { med: number; 'p(95)': number; 'p(90)'?: number; 'p(99)'?: number; max?: number };
  let reqs: { count: number; rate: number };
  let errorRate = 0;
  let hadThresholds: boolean;
  if (isSummaryData) {
    const d = parse(SummaryTrend, m.http_req_duration, 'http_req_duration');
    const r = parse(SummaryCounter, m.http_reqs, 'http_reqs');
    const f = m.http_req_failed === undefined ? undefined : parse(SummaryRate, m.http_req_failed, 'http_req_failed');
    latency = d.values;
    reqs = r.values;
    errorRate = f?.values.rate ?? 0;
    const ok = (t: Record<string, { ok: boolean }> | undefined) => Object.fromEntries(Object.entries(t ?? {}).map(([k, v]) => [k, v.ok]));
    collect('http_req_duration', ok(d.thresholds), false);
    collect('http_req_failed', ok(f?.thresholds), false);
    hadThresholds = anyThresholds(d.thresholds, f?.thresholds);
  } else {
    const d = parse(ExportTrend, m.http_req_duration, 'http_req_duration');
    const r = parse(ExportCounter, m.http_reqs, 'http_reqs');
    const f = m.http_req_failed === undefined ? undefined : parse(ExportRate, m.http_req_failed, 'http_req_failed');
    latency = d;
    reqs = r;
    errorRate = f?.value ?? 0;
    // --summary-export: `true` means the threshold was crossed, i.e. failed.
    collect('http_req_duration', d.thresholds, true);
    collect('http_req_failed', f?.thresholds, true);
    hadThresholds = anyThresholds(d.thresholds, f?.thresholds);
  }
  const durationSeconds = typeof durationMs === 'number' && durationMs > 0 ? durationMs / 1000 : reqs.rate > 0 ? reqs.count / reqs.rate : 0;
  return {
    scenario,
    source: 'k6',
    throughputRps: reqs.rate,
    durationSeconds,
    requests: reqs.count,
    p50Ms: latency.med,
    p90Ms: latency['p(90)'] ?? null,
    p95Ms: latency['p(95)'],
    p99Ms: latency['p(99)'] ?? null,
    maxMs: latency.max ?? null,
    errorRate,
    thresholdsPassed: hadThresholds ? failedThresholds.length === 0 : null,
    failedThresholds,
  };
}

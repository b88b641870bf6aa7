import type { LatencySummary, ThresholdResult } from './comparison';

/**
 * What archbench reads from a k6 end-of-test summary. k6 writes two JSON shapes:
 * - `--summary-export=FILE` (legacy): metrics hold their stats flat (`{ "avg": 1, "p(95)": 2 }`,
 *   `{ "count": 3, "rate": 1 }`), and each threshold maps to a boolean that is `true` when the
 *   threshold FAILED (a long-standing quirk k6 keeps for compatibility);
 * - the `data` object handed to `handleSummary()`: metrics hold `{ type, contains, values }` and
 *   thresholds map to `{ ok: boolean }`, where `ok: true` means passed.
 */
/**
 * The rate metric archbench's k6 scripts (load/k6) record each request's verdict in: failed when
 * its status is not the expected one or an order answered 201 is not CONFIRMED. k6's own
 * `http_req_failed` sees only the status. load's K6_FAILED_METRIC is the same name (a test keeps them equal).
 */
export const K6_ARCHBENCH_FAILED_METRIC = 'archbench_req_failed';

/**
 * The metric a threshold of an archbench k6 summary is named by: the scripts set a scenario's
 * `http_req_failed` thresholds on K6_ARCHBENCH_FAILED_METRIC (archbench's verdict of each
 * request), so they read back under the name the scenario gave them. Any other metric keeps its name.
 * @example k6ThresholdMetric('archbench_req_failed') // 'http_req_failed'
 */
export function k6ThresholdMetric(metric: string): string {
  return metric === K6_ARCHBENCH_FAILED_METRIC ? 'http_req_failed' : metric;
}

/**
 * What archbench's k6 scripts (load/k6) add to their handleSummary JSON under `archbench`: the
 * scenario the run was, its load model (`closed`: constant VUs, as fast as the target serves
 * them; `open`: an arrival rate) and the profile its sizes came from. A summary from another
 * script, or from a script older than this block, has none.
 */
export interface K6ArchbenchRun {
  scenario: string;
  loadModel: 'open' | 'closed';
  profile: string;
}

export interface K6Summary {
  format: 'summary-export' | 'handle-summary';
  durationSeconds: number;
  requests: number;
  /** Requests per second as k6 reports it (`http_reqs` rate), else requests / duration. */
  requestRate: number;
  /** Share of failed requests, 0..1 (`http_req_failed`). */
  errorRate: number;
  failed: number;
  dropped: number;
  /** Successful POST /orders, from archbench's `archbench_orders_placed` counter (0 when absent). */
  ordersPlaced: number;
  /** From archbench's `archbench_status_<code>` counters; empty for scripts that lack them. */
  statusCounts: Record<string, number>;
  latencyMs: LatencySummary;
  /**
   * Thresholds as the scenario named them: those the scripts set on K6_ARCHBENCH_FAILED_METRIC read
   * as `http_req_failed` (k6ThresholdMetric).
   */
  thresholds: ThresholdResult[];
  /** The run's scenario, load model and profile from archbench's scripts; undefined when the summary has no `archbench` block. */
  archbench?: K6ArchbenchRun | undefined;
}

/** A summary read without insisting on the tail statistics (p90, p99, max), which a script may omit. */
export interface K6SummaryReading extends Omit<K6Summary, 'latencyMs'> {
  latencyMs: Pick<LatencySummary, 'p50' | 'p95'> & Partial<LatencySummary>;
}

export class K6SummaryError extends Error {
  override readonly name = 'K6SummaryError';
}

type Flat = Record<string, unknown>;

function isObject(value: unknown): value is Flat {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses either k6 summary format, with every latency statistic the comparison schema needs;
 * throws K6SummaryError naming what is missing or malformed.
 * @example parseK6Summary(readFileSync('k6-summary.json', 'utf8'), 'k6-summary.json').latencyMs.p95
 */
export function parseK6Summary(text: string, source = 'k6 summary'): K6Summary {
  return read(text, source, true) as K6Summary;
}

/**
 * Like parseK6Summary, but p90, p99 and max may be absent (undefined) — for readers that only
 * need the median and p95 (the decision CLI's evidence).
 * @example readK6Summary(text, 'summary.json').latencyMs.p99 // undefined when not in summaryTrendStats
 */
export function readK6Summary(text: string, source = 'k6 summary'): K6SummaryReading {
  return read(text, source, false);
}

function read(text: string, source: string, requireTails: boolean): K6SummaryReading {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    const hint = text.trim().length === 0 ? 'it is empty' : `it is not complete JSON (truncated or not a k6 summary?): ${(error as Error).message}`;
    throw new K6SummaryError(`cannot read ${source}: ${hint}`);
  }
  if (!isObject(data) || !isObject(data.metrics)) throw new K6SummaryError(`${source} has no "metrics" object; is it a k6 summary?`);
  const metrics = data.metrics;
  const duration = metrics.http_req_duration;
  if (!isObject(duration)) throw new K6SummaryError(`${source} has no http_req_duration metric (did the script send HTTP requests?)`);
  const format = isObject(duration.values) ? 'handle-summary' : 'summary-export';

  const values = (name: string): Flat | undefined => {
    const metric = metrics[name];
    if (!isObject(metric)) return undefined;
    return format === 'handle-summary' ? (isObject(metric.values) ? metric.values : undefined) : metric;
  };
  const optional = (name: string, stat: string): number | undefined => {
    const value = values(name)?.[stat];
    return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
  };
  const number = (name: string, stat: string, required: boolean): number => {
    const value = optional(name, stat);
    if (value !== undefined) return value;
    if (required) {
      throw new K6SummaryError(
        `${source}: ${name} has no numeric "${stat}"${stat.startsWith('p(') ? ` (add it to summaryTrendStats, e.g. --summary-trend-stats="avg,min,med,max,p(90),p(95),p(99)")` : ''}`,
      );
    }
    return 0;
  };

  const requests = number('http_reqs', 'count', true);
  const rate = number('http_reqs', 'rate', false);
  const testRunMs = isObject(data.state) && typeof data.state.testRunDurationMs === 'number' ? data.state.testRunDurationMs : undefined;
  const durationSeconds = testRunMs !== undefined ? testRunMs / 1000 : rate > 0 ? requests / rate : 0;
  if (!(durationSeconds > 0)) throw new K6SummaryError(`${source}: cannot tell the test duration (no state.testRunDurationMs and no http_reqs rate)`);

  // http_req_failed is a rate metric: "passes" counts true values, i.e. failed requests. archbench's
  // scripts count their own verdict in K6_ARCHBENCH_FAILED_METRIC (an order answered 201 but not
  // CONFIRMED failed), which http_req_failed cannot see: it wins where the summary has it.
  const failedValues = values(K6_ARCHBENCH_FAILED_METRIC) ?? values('http_req_failed');
  const failedShare = typeof failedValues?.rate === 'number' ? failedValues.rate : typeof failedValues?.value === 'number' ? failedValues.value : undefined;
  const failed = typeof failedValues?.passes === 'number' ? failedValues.passes : Math.round((failedShare ?? 0) * requests);

  const statusCounts: Record<string, number> = {};
  for (const name of Object.keys(metrics)) {
    const match = /^archbench_status_(\d+|other)$/.exec(name);
    if (match) {
      const count = number(name, 'count', false);
      if (count > 0) statusCounts[match[1]!] = count;
    }
  }

  const thresholds: ThresholdResult[] = [];
  for (const [metric, body] of Object.entries(metrics)) {
    if (!isObject(body) || !isObject(body.thresholds)) continue;
    for (const [expression, outcome] of Object.entries(body.thresholds)) {
      let passed: boolean;
      if (format === 'summary-export') {
        if (typeof outcome !== 'boolean') throw new K6SummaryError(`${source}: threshold ${metric} ${expression} is not a boolean`);
        passed = !outcome; // true in the export means the threshold failed
      } else {
        if (!isObject(outcome) || typeof outcome.ok !== 'boolean') throw new K6SummaryError(`${source}: threshold ${metric} ${expression} has no boolean "ok"`);
        passed = outcome.ok;
      }
      thresholds.push({ metric: k6ThresholdMetric(metric), expression, passed });
    }
  }
  const archbench = archbenchRun(data.archbench, source);

  return {
    format,
    durationSeconds,
    requests,
    requestRate: rate > 0 ? rate : requests / durationSeconds,
    errorRate: failedShare ?? (requests > 0 ? failed / requests : 0),
    failed,
    dropped: number('dropped_iterations', 'count', false),
    ordersPlaced: number('archbench_orders_placed', 'count', false),
    statusCounts,
    latencyMs: {
      p50: number('http_req_duration', 'med', true),
      p95: number('http_req_duration', 'p(95)', true),
      p90: requireTails ? number('http_req_duration', 'p(90)', true) : optional('http_req_duration', 'p(90)'),
      p99: requireTails ? number('http_req_duration', 'p(99)', true) : optional('http_req_duration', 'p(99)'),
      max: requireTails ? number('http_req_duration', 'max', true) : optional('http_req_duration', 'max'),
      mean: number('http_req_duration', 'avg', false),
    },
    thresholds,
    ...(archbench ? { archbench } : {}),
  };
}

function archbenchRun(block: unknown, source: string): K6ArchbenchRun | undefined {
  if (block === undefined) return undefined;
  if (
    !isObject(block) ||
    typeof block.scenario !== 'string' ||
    block.scenario.length === 0 ||
    (block.loadModel !== 'open' && block.loadModel !== 'closed') ||
    typeof block.profile !== 'string'
  )
    throw new K6SummaryError(`${source}: "archbench" is not { scenario, loadModel: "open" | "closed", profile }: ${JSON.stringify(block).slice(0, 200)}`);
  return { scenario: block.scenario, loadModel: block.loadModel, profile: block.profile };
}

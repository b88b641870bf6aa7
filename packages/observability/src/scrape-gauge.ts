import type { Logger } from 'pino';
import type { Metrics } from './metrics';

/** One series of a scrape gauge: its value and labels (the registry adds `service`). */
export interface ScrapeGaugeValue {
  value: number;
  labels?: Record<string, string>;
}

export interface ScrapeGaugeOptions {
  name: string;
  help: string;
  /** Reads the series, e.g. from a database; one read at a time (see registerScrapeGauge). */
  read: () => Promise<ScrapeGaugeValue[]>;
  /** Logs a read that failed or took too long. */
  logger: Pick<Logger, 'warn'>;
  /** What `read` reads, for the warning ("the orders database"). */
  source: string;
  /** Longest a scrape waits for `read`, ms (default 1000): past it the series is left out. */
  timeoutMs?: number;
}

/** The longest a scrape waits for a scrape gauge's read by default: well within Prometheus's scrape timeout. */
export const SCRAPE_GAUGE_TIMEOUT_MS = 1000;
/**
 * A read still under way after this many timeouts is given up on: the next scrape starts another.
 * One that never settles (a query on a half-open connection) would otherwise hide the gauge for
 * good. At most MAX_ABANDONED reads are given up on and still unsettled at a time, so a gauge holds
 * at most three of the database's connections however long the database hangs (a lock on the
 * table, say), and never takes the pool the requests need; a database whose connections all hang
 * for good hides the gauge once that many are held (and `archbench_scrape_read_ok` says 0).
 */
const STALE_AFTER_TIMEOUTS = 10;
const MAX_ABANDONED = 2;

/** `archbench_scrape_read_ok{gauge}`: whether each scrape gauge's last read answered in time. */
export const SCRAPE_READ_OK_METRIC = 'archbench_scrape_read_ok';

/** Per registry: each scrape gauge's last read outcome, and the reads of the scrape under way. */
interface ReadState {
  outcomes: Map<string, 0 | 1>;
  collecting: Set<Promise<unknown>>;
  metric: object;
}
const readStates = new WeakMap<Metrics['registry'], ReadState>();

/**
 * Registers SCRAPE_READ_OK_METRIC in `registry` (once), after every scrape gauge registered so far:
 * the registry starts collecting its metrics in order of registration, so when this one is
 * collected each scrape gauge's read of the same scrape is under way, and it waits for them.
 */
function registerReadOk(registry: Metrics['registry']): ReadState {
  let state = readStates.get(registry);
  if (!state) {
    const outcomes = new Map<string, 0 | 1>();
    const collecting = new Set<Promise<unknown>>();
    const metric = {
      name: SCRAPE_READ_OK_METRIC,
      help:
        'Whether the read of each gauge read at scrape time (label gauge) answered within its timeout in this scrape (1) or failed (0): ' +
        'while it is 0 that gauge is left out, and alerts on it cannot fire.',
      type: 'gauge' as const,
      aggregator: 'min' as const,
      reset() {},
      async get() {
        await Promise.allSettled([...collecting]);
        return {
          name: metric.name,
          help: metric.help,
          type: metric.type,
          aggregator: metric.aggregator,
          values: [...outcomes].map(([gauge, value]) => ({ value, labels: { gauge } })),
        };
      },
    };
    state = { outcomes, collecting, metric };
    readStates.set(registry, state);
  } else {
    registry.removeSingleMetric(SCRAPE_READ_OK_METRIC);
  }
  registry.registerMetric(state.metric as unknown as Parameters<Metrics['registry']['registerMetric']>[0]);
  return state;
}

/**
 * Registers a gauge whose value is read when /metrics is scraped (for state another process may
 * have written, such as the age of the oldest stuck saga in a shared database), so every process
 * reports the same value and a restart loses nothing. The rest of /metrics never waits on it for
 * long: a read that fails, or has not answered within `timeoutMs` (a database that hangs), leaves
 * this gauge's series out of that scrape with a warning, and `archbench_scrape_read_ok{gauge}`
 * says 0 (an alert on the gauge cannot fire then; ScrapeGaugeUnreadable in compose's alerts
 * watches this). Reads do not pile up behind a database that hangs: while one is under way, a
 * scrape waits for that one instead of starting another, unless it has been under way for ten
 * timeouts.
 * @example registerScrapeGauge(metrics, { name: 'archbench_refund_oldest_pending_seconds', help, source: 'the database', logger, read: async () => [{ value: 12.5 }] })
 */
export function registerScrapeGauge(metrics: Pick<Metrics, 'registry'>, options: ScrapeGaugeOptions): void {
  const timeoutMs = options.timeoutMs ?? SCRAPE_GAUGE_TIMEOUT_MS;
  type Read = { promise: Promise<ScrapeGaugeValue[]>; startedAt: number };
  let reading: Read | undefined;
  /** Reads given up on and not settled yet: while MAX_ABANDONED are, no other is given up on. */
  const abandoned = new Set<Read>();
  const start = () => {
    const current = { promise: options.read(), startedAt: performance.now() };
    const done = () => {
      if (reading === current) reading = undefined;
      abandoned.delete(current);
    };
    current.promise.then(done, done);
    return current;
  };
  const collect = async (): Promise<ScrapeGaugeValue[]> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (!reading) reading = start();
    else if (abandoned.size < MAX_ABANDONED && performance.now() - reading.startedAt > STALE_AFTER_TIMEOUTS * timeoutMs) {
      abandoned.add(reading);
      reading = start();
    }
    try {
      const values = await Promise.race([
        reading.promise,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      state.outcomes.set(options.name, 1);
      return values;
    } catch (error) {
      state.outcomes.set(options.name, 0);
      options.logger.warn({ err: error }, `${options.name}: ${options.source} did not answer; left out of this scrape`);
      return [];
    } finally {
      clearTimeout(timer);
    }
  };
  const gauge = {
    name: options.name,
    help: options.help,
    type: 'gauge' as const,
    aggregator: 'max' as const,
    /** `registry.resetMetrics()`: nothing to reset, every scrape reads afresh. */
    reset() {},
    get() {
      const collecting = collect();
      state.collecting.add(collecting);
      void collecting.finally(() => state.collecting.delete(collecting));
      return collecting.then((values) => ({
        name: gauge.name,
        help: gauge.help,
        type: gauge.type,
        aggregator: gauge.aggregator,
        values: values.map((v) => ({ value: v.value, labels: v.labels ?? {} })),
      }));
    },
  };
  // Metrics of their own kind, as FastHistogram is: the registry only calls `get`.
  metrics.registry.registerMetric(gauge as unknown as Parameters<Metrics['registry']['registerMetric']>[0]);
  // Collected after the gauge (see registerReadOk); `collect` runs only once a scrape comes, after this.
  const state = registerReadOk(metrics.registry);
  state.outcomes.set(options.name, 1);
}

/** Seconds from an ISO instant to now (never negative), or 0 when there is none. */
export function secondsSince(iso: string | undefined, now = Date.now()): number {
  return iso === undefined ? 0 : Math.max(0, (now - Date.parse(iso)) / 1000);
}

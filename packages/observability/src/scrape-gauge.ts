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
  /** Reads the series, e.g. from a database; called at most once at a time. */
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
 * Registers a gauge whose value is read when /metrics is scraped (for state another process may
 * have written, such as the age of the oldest stuck saga in a shared database), so every process
 * reports the same value and a restart loses nothing. The rest of /metrics never waits on it for
 * long: a read that fails, or has not answered within `timeoutMs` (a database that hangs), leaves
 * this gauge's series out of that scrape with a warning. Reads do not pile up behind a database
 * that hangs: while one is under way, a scrape waits for that one instead of starting another.
 * @example registerScrapeGauge(metrics, { name: 'archbench_refund_oldest_pending_seconds', help, source: 'the database', logger, read: async () => [{ value: 12.5 }] })
 */
export function registerScrapeGauge(metrics: Pick<Metrics, 'registry'>, options: ScrapeGaugeOptions): void {
  const timeoutMs = options.timeoutMs ?? SCRAPE_GAUGE_TIMEOUT_MS;
  let reading: Promise<ScrapeGaugeValue[]> | undefined;
  const gauge = {
    name: options.name,
    help: options.help,
    type: 'gauge' as const,
    aggregator: 'max' as const,
    /** `registry.resetMetrics()`: nothing to reset, every scrape reads afresh. */
    reset() {},
    async get() {
      let values: ScrapeGaugeValue[] = [];
      let timer: ReturnType<typeof setTimeout> | undefined;
      const current = (reading ??= options.read().finally(() => (reading = undefined)));
      try {
        values = await Promise.race([
          current,
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
      } catch (error) {
        options.logger.warn({ err: error }, `${options.name}: ${options.source} did not answer; left out of this scrape`);
      } finally {
        clearTimeout(timer);
      }
      return {
        name: gauge.name,
        help: gauge.help,
        type: gauge.type,
        aggregator: gauge.aggregator,
        values: values.map((v) => ({ value: v.value, labels: v.labels ?? {} })),
      };
    },
  };
  // A metric of its own kind, as FastHistogram is: the registry only calls `get`.
  metrics.registry.registerMetric(gauge as unknown as Parameters<Metrics['registry']['registerMetric']>[0]);
}

/** Seconds from an ISO instant to now (never negative), or 0 when there is none. */
export function secondsSince(iso: string | undefined, now = Date.now()): number {
  return iso === undefined ? 0 : Math.max(0, (now - Date.parse(iso)) / 1000);
}

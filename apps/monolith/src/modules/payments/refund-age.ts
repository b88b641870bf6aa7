import type { Logger } from '@archbench/observability/logging';
import type { Metrics } from '@archbench/observability/metrics';
import type { Payments } from './service';
import { REFUND_RETRY_MS } from './service';

export const REFUND_AGE_METRIC = 'archbench_refund_oldest_pending_seconds';

const HELP =
  'Age in seconds of the oldest refund still to be made (payments.created_at of a PENDING refund), ' +
  'read from the database at each scrape; 0 when none is pending. ' +
  `A refund the provider fails is tried again every ${REFUND_RETRY_MS / 1000} s, forever: ` +
  'one that keeps growing past a few minutes is stuck (see archbench_payments_total{result="refund_failed"} and the provider).';

/**
 * `archbench_refund_oldest_pending_seconds` on the monolith's (and the hybrid core's) /metrics: a
 * refund the provider fails stays PENDING and is tried again every REFUND_RETRY_MS, forever (giving
 * it up would keep the customer's money), and this is how an operator sees it. Read from the
 * database at scrape time, so every process on one database reports the same value whichever of
 * them sends the refund, and a restart loses nothing. A database that does not answer leaves the
 * series out of that scrape (the rest of /metrics is served; /ready reports the database).
 * @example registerRefundAge(metrics, payments, logger) // archbench_refund_oldest_pending_seconds{service="monolith"} 312.5
 */
export function registerRefundAge(metrics: Metrics, payments: Pick<Payments, 'oldestPendingRefund'>, logger: Logger): void {
  const gauge = {
    name: REFUND_AGE_METRIC,
    help: HELP,
    type: 'gauge' as const,
    aggregator: 'max' as const,
    /** `registry.resetMetrics()`: nothing to reset, every scrape reads the database. */
    reset() {},
    async get() {
      let values: { value: number; labels: Record<string, string> }[] = [];
      try {
        const since = await payments.oldestPendingRefund();
        values = [{ value: since === undefined ? 0 : Math.max(0, (Date.now() - Date.parse(since)) / 1000), labels: {} }];
      } catch (error) {
        logger.warn({ err: error }, `${REFUND_AGE_METRIC}: the database did not answer; left out of this scrape`);
      }
      return { name: gauge.name, help: gauge.help, type: gauge.type, aggregator: gauge.aggregator, values };
    },
  };
  // A metric of its own kind, as FastHistogram is: the registry only calls `get`.
  metrics.registry.registerMetric(gauge as unknown as Parameters<Metrics['registry']['registerMetric']>[0]);
}

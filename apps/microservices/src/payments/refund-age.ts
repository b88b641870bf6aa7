import type { Kysely } from 'kysely';
import type { Logger } from '@archbench/observability/logging';
import type { Metrics } from '@archbench/observability/metrics';
import { oldestPendingRefund } from './repository';
import type { PaymentsTables } from './schema';
import { LATE_REFUND_MAX_RETRY_MS } from './service';

export const REFUND_AGE_METRIC = 'archbench_refund_oldest_pending_seconds';

/** The monolith's help text, with the microservices' retry intervals. */
const HELP =
  'Age in seconds of the oldest refund still to be made (payments.created_at of a PENDING refund), ' +
  'read from the database at each scrape; 0 when none is pending. ' +
  `A refund the provider fails is tried again, forever (a late capture's by payments every ${LATE_REFUND_MAX_RETRY_MS / 1000} s at most, ` +
  "a cancel's or an expiry's by the orders saga every 2 s at most): " +
  'one that keeps growing past a few minutes is stuck (see archbench_payments_total{result="refund_failed"} and the provider).';

/**
 * `archbench_refund_oldest_pending_seconds` on the payments service's /metrics, as the monolith
 * reports it: a refund the provider fails stays PENDING and is tried again, forever (giving it up
 * would keep the customer's money), and this is how an operator sees it. Every PENDING refund
 * counts, whoever tries it again: a late capture's, which payments retries by itself (no saga asks
 * for it), and a cancel's or an expiry's, which the orders saga resends. Its saga shows in
 * archbench_saga_oldest_open_seconds too, but this gauge means money owed to a customer, whoever
 * tries again, as in the monolith (RefundStuck reads it in every topology alike); and a PENDING
 * row says payments took the refund and the provider failed it, where a saga's age alone does not
 * tell that from a command refused as poison (no row). Read from the database at scrape time,
 * so every payments process reports the same value whichever of them sends the refund, and a
 * restart loses nothing. A database that does not answer leaves the series out of that scrape
 * (the rest of /metrics is served; /ready reports the database). `db` is the plain database,
 * without the query spans and histogram: a scrape is not a request.
 * @example registerRefundAge(metrics, rawDb, logger) // archbench_refund_oldest_pending_seconds{service="payments"} 312.5
 */
export function registerRefundAge(metrics: Metrics, db: Kysely<PaymentsTables>, logger: Logger): void {
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
        const since = await oldestPendingRefund(db);
        values = [{ value: since === undefined ? 0 : Math.max(0, (Date.now() - Date.parse(since)) / 1000), labels: {} }];
      } catch (error) {
        logger.warn({ err: error }, `${REFUND_AGE_METRIC}: the payments database did not answer; left out of this scrape`);
      }
      return { name: gauge.name, help: gauge.help, type: gauge.type, aggregator: gauge.aggregator, values };
    },
  };
  // A metric of its own kind, as FastHistogram is: the registry only calls `get`.
  metrics.registry.registerMetric(gauge as unknown as Parameters<Metrics['registry']['registerMetric']>[0]);
}

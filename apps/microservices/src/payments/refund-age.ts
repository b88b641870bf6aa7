import type { Kysely } from 'kysely';
import type { Logger } from '@archbench/observability/logging';
import type { Metrics } from '@archbench/observability/metrics';
import { registerScrapeGauge, secondsSince } from '@archbench/observability/scrape-gauge';
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
 * restart loses nothing; a database that fails or hangs leaves the series out of that scrape
 * after at most a second (registerScrapeGauge; /ready reports the database). `db` is the plain database,
 * without the query spans and histogram: a scrape is not a request.
 * @example registerRefundAge(metrics, rawDb, logger) // archbench_refund_oldest_pending_seconds{service="payments"} 312.5
 */
export function registerRefundAge(metrics: Pick<Metrics, 'registry'>, db: Kysely<PaymentsTables>, logger: Logger): void {
  registerScrapeGauge(metrics, {
    name: REFUND_AGE_METRIC,
    help: HELP,
    source: 'the payments database',
    logger,
    read: async () => [{ value: secondsSince(await oldestPendingRefund(db)) }],
  });
}

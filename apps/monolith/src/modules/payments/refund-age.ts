import type { Kysely } from 'kysely';
import type { Logger } from '@archbench/observability/logging';
import type { Metrics } from '@archbench/observability/metrics';
import { registerScrapeGauge, secondsSince } from '@archbench/observability/scrape-gauge';
import { REFUND_RETRY_MS, oldestPendingRefund } from './service';
import type { PaymentsTables } from './tables';

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
 * database at scrape time (registerScrapeGauge), so every process on one database reports the same
 * value whichever of them sends the refund, and a restart loses nothing; a database that fails or
 * hangs leaves the series out of that scrape after at most a second. `db` is the plain database,
 * without the query spans and histogram: a scrape is not a request.
 * @example registerRefundAge(metrics, rawDb, logger) // archbench_refund_oldest_pending_seconds{service="monolith"} 312.5
 */
export function registerRefundAge(metrics: Pick<Metrics, 'registry'>, db: Kysely<PaymentsTables>, logger: Logger): void {
  registerScrapeGauge(metrics, {
    name: REFUND_AGE_METRIC,
    help: HELP,
    source: 'the database',
    logger,
    read: async () => [{ value: secondsSince(await oldestPendingRefund(db)) }],
  });
}

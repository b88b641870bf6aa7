import type { Logger } from '@archbench/observability/logging';
import type { Metrics } from '@archbench/observability/metrics';
import { registerScrapeGauge, secondsSince } from '@archbench/observability/scrape-gauge';
import type { OrdersRepository } from './repository';
import { ACTIVE_SAGA_STATES } from './saga';

export const SAGA_AGE_METRIC = 'archbench_saga_oldest_open_seconds';

const HELP =
  'Age in seconds of the oldest saga in each state with a step still to run, since it entered that state (sagas.updated_at), ' +
  'read from the orders database at each scrape; 0 when no saga is in it. ' +
  'ABORTING, RELEASING, EXPIRING and CANCELLING are compensations (release stock, void, refund), resent until the service takes them: ' +
  'one that keeps growing past a few minutes is stuck, refused as poison (see the dead-letter queue) or failing (see the orders error log).';

/**
 * `archbench_saga_oldest_open_seconds{state}` on the orders service's /metrics: a compensation
 * that inventory or payments refuses is resent forever (giving it up would keep stock or money),
 * and this is how an operator sees it. Read from the database at scrape time (registerScrapeGauge),
 * so every orders process reports the same value whichever of them drives the saga, and a restart
 * loses nothing; a database that fails or hangs leaves the series out of that scrape after at
 * most a second (the rest of /metrics is served; /ready reports the database). `repo` should be
 * built on the plain database, without query spans and histograms: a scrape is not a request.
 * @example registerSagaAge(metrics, createOrdersRepository(rawDb), logger) // archbench_saga_oldest_open_seconds{state="RELEASING",service="orders"} 312.5
 */
export function registerSagaAge(metrics: Pick<Metrics, 'registry'>, repo: Pick<OrdersRepository, 'oldestActiveSagas'>, logger: Logger): void {
  registerScrapeGauge(metrics, {
    name: SAGA_AGE_METRIC,
    help: HELP,
    source: 'the orders database',
    logger,
    read: async () => {
      const since = await repo.oldestActiveSagas();
      const now = Date.now();
      return ACTIVE_SAGA_STATES.map((state) => ({ value: secondsSince(since[state], now), labels: { state } }));
    },
  });
}

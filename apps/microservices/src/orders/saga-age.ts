import type { Logger } from '@archbench/observability/logging';
import type { Metrics } from '@archbench/observability/metrics';
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
 * and this is how an operator sees it. Read from the database at scrape time, so every orders
 * process reports the same value whichever of them drives the saga, and a restart loses nothing.
 * A database that does not answer leaves the series out of that scrape (the rest of /metrics is
 * served; /ready reports the database).
 * @example registerSagaAge(metrics, repo, logger) // archbench_saga_oldest_open_seconds{state="RELEASING",service="orders"} 312.5
 */
export function registerSagaAge(metrics: Metrics, repo: Pick<OrdersRepository, 'oldestActiveSagas'>, logger: Logger): void {
  const gauge = {
    name: SAGA_AGE_METRIC,
    help: HELP,
    type: 'gauge' as const,
    aggregator: 'max' as const,
    /** `registry.resetMetrics()`: nothing to reset, every scrape reads the database. */
    reset() {},
    async get() {
      let values: { value: number; labels: { state: string } }[] = [];
      try {
        const since = await repo.oldestActiveSagas();
        const now = Date.now();
        values = ACTIVE_SAGA_STATES.map((state) => {
          const entered = since[state];
          return { value: entered === undefined ? 0 : Math.max(0, (now - Date.parse(entered)) / 1000), labels: { state } };
        });
      } catch (error) {
        logger.warn({ err: error }, `${SAGA_AGE_METRIC}: the orders database did not answer; left out of this scrape`);
      }
      return { name: gauge.name, help: gauge.help, type: gauge.type, aggregator: gauge.aggregator, values };
    },
  };
  // A metric of its own kind, as FastHistogram is: the registry only calls `get`.
  metrics.registry.registerMetric(gauge as unknown as Parameters<Metrics['registry']['registerMetric']>[0]);
}

import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { FastHistogram } from './histogram';

export { FastHistogram };
export type { BoundHistogram } from './histogram';
import type { Handler } from 'hono';

export interface MetricsOptions {
  /** Becomes the `service` label of every series. */
  service: string;
  /** Process metrics (CPU, memory, event-loop lag, GC); default true. */
  defaultMetrics?: boolean;
  /** Buckets of the HTTP server and client histograms, seconds. */
  httpBuckets?: number[];
  /** Buckets of `db_query_duration_seconds`. */
  dbBuckets?: number[];
}

const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const DB_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

export type OrderOutcome = 'confirmed' | 'rejected' | 'cancelled';
export type PaymentResult = 'succeeded' | 'declined' | 'failed' | 'refunded' | 'refund_failed';

/** One app's registry and its instruments. */
export interface Metrics {
  readonly service: string;
  readonly registry: Registry;
  readonly httpServerDuration: FastHistogram<'route' | 'method' | 'status_class'>;
  readonly httpClientDuration: FastHistogram<'peer' | 'route' | 'method' | 'status_class'>;
  readonly dbQueryDuration: FastHistogram<'operation' | 'table'>;
  /** Orders reaching a terminal-or-cancelled state, by outcome. */
  readonly ordersTotal: Counter<'outcome'>;
  /** Calls to the payment provider, by result. */
  readonly paymentsTotal: Counter<'result'>;
  readonly sagaCompensationsTotal: Counter<string>;
  /** Age of the oldest unpublished outbox message, seconds. */
  readonly outboxLagSeconds: Gauge<string>;
  /** Every service-to-service call or command message; divided by public requests it gives hops. */
  readonly internalCallsTotal: Counter<'transport'>;
  readonly errorsTotal: Counter<'kind' | 'code'>;
  /** The exposition text of the registry. */
  render(): Promise<string>;
}

/**
 * Creates one Prometheus registry for an app with the HTTP, database, process and domain
 * series archbench compares, every series labelled `service`.
 * @example const metrics = createMetrics({ service: 'orders' }); metrics.ordersTotal.inc({ outcome: 'confirmed' })
 */
export function createMetrics(options: MetricsOptions): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: options.service });
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const httpBuckets = options.httpBuckets ?? HTTP_BUCKETS;
  const metrics: Metrics = {
    service: options.service,
    registry,
    httpServerDuration: new FastHistogram({
      name: 'http_server_request_duration_seconds',
      help: 'Duration of HTTP requests served, by route template',
      labelNames: ['route', 'method', 'status_class'] as const,
      buckets: httpBuckets,
      registers,
    }),
    httpClientDuration: new FastHistogram({
      name: 'http_client_request_duration_seconds',
      help: 'Duration of HTTP requests made to other services, by peer and route template',
      labelNames: ['peer', 'route', 'method', 'status_class'] as const,
      buckets: httpBuckets,
      registers,
    }),
    dbQueryDuration: new FastHistogram({
      name: 'db_query_duration_seconds',
      help: 'Duration of database queries, by operation and table',
      labelNames: ['operation', 'table'] as const,
      buckets: options.dbBuckets ?? DB_BUCKETS,
      registers,
    }),
    ordersTotal: new Counter({ name: 'archbench_orders_total', help: 'Orders by outcome', labelNames: ['outcome'] as const, registers }),
    paymentsTotal: new Counter({ name: 'archbench_payments_total', help: 'Payment provider calls by result', labelNames: ['result'] as const, registers }),
    sagaCompensationsTotal: new Counter({ name: 'archbench_saga_compensations_total', help: 'Saga compensation steps run', registers }),
    outboxLagSeconds: new Gauge({ name: 'archbench_outbox_lag_seconds', help: 'Age of the oldest unpublished outbox message', registers }),
    internalCallsTotal: new Counter({
      name: 'archbench_internal_calls_total',
      help: 'Service-to-service calls and command messages, by transport',
      labelNames: ['transport'] as const,
      registers,
    }),
    errorsTotal: new Counter({
      name: 'archbench_errors_total',
      help: 'Errors answered, by kind and stable code',
      labelNames: ['kind', 'code'] as const,
      registers,
    }),
    render: () => registry.metrics(),
  };
  return metrics;
}

const STATUS_CLASSES = ['1xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

/** `2xx`, `4xx`…; anything outside 100–599 (a failed connection is 0) is `error`. */
export function statusClass(status: number): string {
  return status >= 100 && status < 600 ? STATUS_CLASSES[(status / 100) | 0]! : 'error';
}

/**
 * A Hono handler answering the registry in the Prometheus text format.
 * @example app.get('/metrics', metricsHandler(metrics))
 */
export function metricsHandler(metrics: Pick<Metrics, 'registry'>): Handler {
  return async (c) => c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType });
}

import { InternalHttpClient } from '@archbench/microservices/http-client';
import { internalToken } from '@archbench/microservices/service-app';
import { createLogger } from '@archbench/observability/logging';
import { createMetrics } from '@archbench/observability/metrics';
import { initTracing } from '@archbench/observability/tracing';
import { ConfigError, usesDevSecret } from '@archbench/server-kit/env';
import { serveWithShutdown } from '@archbench/server-kit/serve';
import { createApp } from './app';
import { openCoreDatabase } from './db';
import { loadEnv } from './env';
import { createEventPublisher } from './shipping/publisher';

const SERVICE_VERSION = '0.1.0';

/** The hybrid's core process: catalog, orders and payments in one process, shipping reached through the outbox. */
async function main() {
  const env = loadEnv();
  const logger = createLogger({ service: env.SERVICE_NAME, level: env.LOG_LEVEL, sync: false });
  if (usesDevSecret(env)) {
    logger.warn('AUTH_SECRET is the public development default: anyone can mint tokens. Set AUTH_SECRET before exposing this server.');
  }
  const tracing = initTracing({ serviceName: env.SERVICE_NAME, serviceVersion: SERVICE_VERSION, ...env.tracing });
  const metrics = env.METRICS_ENABLED ? createMetrics({ service: env.SERVICE_NAME }) : undefined;
  const client = new InternalHttpClient({
    peers: { shipping: env.SHIPPING_URL },
    timeoutMs: env.INTERNAL_TIMEOUT_MS,
    attempts: env.INTERNAL_ATTEMPTS,
    internalToken: internalToken(env.AUTH_SECRET),
    tracing,
    metrics,
  });
  const publisher = createEventPublisher({ env, obs: { logger, metrics, tracing }, client });
  const database = await openCoreDatabase(env);
  const { app, catalog, orders, relay } = createApp({ env, db: database.db, logger, tracing, metrics, publisher, client });
  await catalog.seed();
  const port = await serveWithShutdown(app, {
    port: env.PORT,
    host: env.HOST,
    logger,
    drainTimeoutMs: env.SHUTDOWN_DRAIN_MS,
    onShutdown: async () => {
      await orders.drain();
      await relay.stop();
      await publisher.close();
      await client.close();
      await database.close();
      await tracing.shutdown();
    },
  });
  relay.start();
  // Recovery runs after listening, as in the monolith, so a long backlog cannot hold readiness past
  // the supervisor's start timeout: it finishes orders a crash left PENDING and re-sends events
  // whose outbox write it cut off (the relay delivers them as they land in the outbox).
  orders
    .resume()
    .then((resumed) => logger.info({ resumed }, 'orders left by the previous process finished'))
    .catch((error: unknown) => logger.error({ err: error }, 'resuming orders failed; the deadline sweeper settles what is left'));
  // The monolith's deadline sweeper (SAGA_DEADLINE_MS): no order stays PENDING while the core runs.
  orders.startDeadlineSweeper(env.SAGA_SWEEP_MS);
  logger.info(
    { port, database: database.location, transport: publisher.kind, shipping: env.SHIPPING_URL },
    `hybrid core listening on http://${env.HOST}:${port}`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `hybrid core failed to start: ${error instanceof ConfigError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});

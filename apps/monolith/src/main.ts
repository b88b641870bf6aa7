import { createLogger } from '@archbench/observability/logging';
import { initTracing } from '@archbench/observability/tracing';
import { ConfigError, usesDevSecret } from '@archbench/server-kit/env';
import { serveWithShutdown } from '@archbench/server-kit/serve';
import { createApp } from './app';
import { openMonolithDatabase } from './db';
import { loadEnv } from './env';

const SERVICE_VERSION = '0.1.0';

async function main() {
  const env = loadEnv();
  // Asynchronous stdout: under load, lines batch into few writes instead of one syscall each.
  const logger = createLogger({ service: env.SERVICE_NAME, level: env.LOG_LEVEL, sync: false });
  if (usesDevSecret(env)) {
    logger.warn('AUTH_SECRET is the public development default: anyone can mint tokens. Set AUTH_SECRET before exposing this server.');
  }
  // One tracer provider per process; OTLP export when OTEL_EXPORTER_OTLP_ENDPOINT is set.
  const tracing = initTracing({ serviceName: env.SERVICE_NAME, serviceVersion: SERVICE_VERSION, ...env.tracing });
  const database = await openMonolithDatabase(env);
  const { app, catalog, orders } = createApp({ env, db: database.db, logger, tracing });
  await catalog.seed();
  const port = await serveWithShutdown(app, {
    port: env.PORT,
    host: env.HOST,
    logger,
    drainTimeoutMs: env.SHUTDOWN_DRAIN_MS,
    onShutdown: async () => {
      await orders.drain();
      await database.close();
      await tracing.shutdown();
    },
  });
  logger.info({ port, database: database.location }, `monolith listening on http://${env.HOST}:${port}`);
  // Recovery runs after listening, so a long backlog (pending orders × provider latency) cannot
  // hold readiness past the supervisor's start timeout; it only takes orders of earlier processes.
  orders
    .resume()
    .then((resumed) => logger.info({ resumed }, 'orders left by the previous process finished'))
    .catch((error: unknown) => logger.error({ err: error }, 'resuming orders failed; the deadline sweeper settles what is left'));
  orders.startDeadlineSweeper(env.SAGA_SWEEP_MS);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `monolith failed to start: ${error instanceof ConfigError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});

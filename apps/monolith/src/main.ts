import { createLogger } from '@archbench/observability/logging';
import { ConfigError, usesDevSecret } from '@archbench/server-kit/env';
import { serveWithShutdown } from '@archbench/server-kit/serve';
import { createApp } from './app';
import { openMonolithDatabase } from './db';
import { loadEnv } from './env';

async function main() {
  const env = loadEnv();
  const logger = createLogger({ service: env.SERVICE_NAME, level: env.LOG_LEVEL });
  if (usesDevSecret(env)) {
    logger.warn('AUTH_SECRET is the public development default: anyone can mint tokens. Set AUTH_SECRET before exposing this server.');
  }
  const database = await openMonolithDatabase(env);
  const { app, catalog, orders } = createApp({ env, db: database.db, logger });
  await catalog.seed();
  const resumed = await orders.resume();
  const port = await serveWithShutdown(app, {
    port: env.PORT,
    host: env.HOST,
    logger,
    onShutdown: async () => {
      await orders.drain();
      await database.close();
    },
  });
  logger.info({ port, database: database.location, resumed }, `monolith listening on http://${env.HOST}:${port}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`monolith failed to start: ${error instanceof ConfigError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

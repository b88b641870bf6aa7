import type { Hono } from 'hono';
import { createLogger } from '@archbench/observability/logging';
import { createMetrics } from '@archbench/observability/metrics';
import { initTracing } from '@archbench/observability/tracing';
import { ConfigError, usesDevSecret } from '@archbench/server-kit/env';
import { serveWithShutdown } from '@archbench/server-kit/serve';
import { loadEnv, serviceUrls, transportOf } from '../env';
import type { Env, ServiceName } from '../env';
import { InternalHttpClient } from './http-client';
import { internalToken } from './service-app';
import type { Observability } from './service-app';
import { createTransport } from './transport';
import type { Transport } from './transport';

const SERVICE_VERSION = '0.1.0';

export interface ProcessContext {
  env: Env;
  obs: Observability;
  client: InternalHttpClient;
  /** Undefined for the gateway, which talks to services over HTTP only. */
  transport?: Transport;
  internalToken: string;
}

export interface Running {
  app: Hono;
  /** After the server listens: start consumers, resume sagas. */
  start?: () => Promise<unknown>;
  /** On SIGTERM/SIGINT, after the server stopped accepting: stop background work, close databases. */
  stop?: () => Promise<void>;
}

/**
 * The entry of every process: reads the environment, sets up logs, metrics and tracing, builds
 * the app, serves it with graceful shutdown, exits 1 with a clear message when it cannot start.
 * @example runProcess('inventory', async (ctx) => ({ app: createInventoryApp(...).app }))
 */
export function runProcess(name: ServiceName | 'gateway', setup: (ctx: ProcessContext) => Promise<Running>): void {
  const main = async () => {
    const env = loadEnv();
    const logger = createLogger({ service: name, level: env.LOG_LEVEL });
    if (name === 'gateway' && usesDevSecret(env)) {
      logger.warn('AUTH_SECRET is the public development default: anyone can mint tokens. Set AUTH_SECRET before exposing this server.');
    }
    // One tracer provider per process; OTLP export when OTEL_EXPORTER_OTLP_ENDPOINT is set.
    const tracing = initTracing({ serviceName: name, serviceVersion: SERVICE_VERSION, ...env.tracing });
    const metrics = env.METRICS_ENABLED ? createMetrics({ service: name }) : undefined;
    const obs: Observability = { logger, metrics, tracing, accessLog: env.ACCESS_LOG === 'off' ? false : env.ACCESS_LOG };
    const token = internalToken(env.AUTH_SECRET);
    const client = new InternalHttpClient({
      peers: serviceUrls(env),
      timeoutMs: env.INTERNAL_TIMEOUT_MS,
      attempts: env.INTERNAL_ATTEMPTS,
      internalToken: token,
      tracing,
      metrics,
    });
    const transport =
      name === 'gateway'
        ? undefined
        : // A lost broker connection is reconnected inside the transport, not fatal to the process.
          await createTransport({ env, self: name, obs, client });
    const running = await setup({ env, obs, client, transport, internalToken: token });
    const port = await serveWithShutdown(running.app, {
      port: env.PORT,
      host: env.HOST,
      logger,
      drainTimeoutMs: env.SHUTDOWN_DRAIN_MS,
      onShutdown: async () => {
        // No command may start once the work is drained and the database closed: one that did
        // (a refund made at the provider, then not recorded) would be made again by the next start.
        await transport?.stopReceiving();
        await running.stop?.();
        await transport?.close();
        await client.close();
        await tracing.shutdown();
      },
    });
    // Started by the launcher: stop when it goes away, whatever killed it.
    if (process.send) process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
    const started = await running.start?.();
    logger.info({ port, transport: name === 'gateway' ? undefined : transportOf(env), started }, `${name} listening on http://${env.HOST}:${port}`);
  };
  main().catch((error: unknown) => {
    process.stderr.write(
      `${name} failed to start: ${error instanceof ConfigError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
}

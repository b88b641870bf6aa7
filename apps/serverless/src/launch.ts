import { join, resolve } from 'node:path';
import { DEV_AUTH_SECRET } from '@archbench/contracts/tokens';
import { ConfigError } from '@archbench/server-kit/env';
import { loadEnv } from './env';
import { startServerless } from './runtime';

/**
 * `pnpm start:serverless`: bundles the three workers and runs them on workerd (miniflare), the
 * API on PORT, D1 and queue state under DATA_DIR/workerd. SIGTERM/SIGINT stop workerd cleanly.
 */
async function main() {
  const env = loadEnv();
  const write = (line: string) => process.stderr.write(`${JSON.stringify({ level: 30, time: Date.now(), service: 'serverless', msg: line })}\n`);
  if (env.AUTH_SECRET === DEV_AUTH_SECRET)
    write('AUTH_SECRET is the public development default: anyone can mint tokens. Set AUTH_SECRET before exposing this server.');
  const persistDir = join(resolve(env.DATA_DIR), 'workerd');
  const app = await startServerless({
    port: env.PORT,
    host: env.HOST,
    persistDir,
    authSecret: env.AUTH_SECRET,
    paymentLatencyMs: env.PAYMENT_LATENCY_MS,
    paymentSlowMs: env.PAYMENT_SLOW_MS,
    paymentFailureRate: env.PAYMENT_FAILURE_RATE,
    maxInFlight: env.MAX_IN_FLIGHT,
    corsOrigins: env.CORS_ORIGINS,
    logLevel: env.LOG_LEVEL,
    // Beside the state, rewritten at each start: a launcher killed with SIGKILL leaves no temp dir behind.
    bundleDir: env.BUNDLE_DIR ?? join(persistDir, 'bundles'),
    cronEveryMs: env.CRON_INTERVAL_MS,
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await app.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  // Started by a supervisor with an IPC channel: stop with it, even when it was SIGKILLed.
  if (process.connected) process.on('disconnect', () => void stop());
  const { bundleMs, runtimeMs, seedMs } = app.timings;
  write(
    `serverless (workerd) listening on ${app.url} — bundle ${bundleMs} ms, workerd ready ${runtimeMs} ms, migrate+seed ${seedMs} ms; state in ${persistDir}`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `serverless failed to start: ${error instanceof ConfigError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});

import { resolve } from 'node:path';
import { ConfigError } from '@archbench/server-kit/env';
import { SERVICE_NAMES, loadEnv, transportOf } from './env';
import { PROCESS_NAMES, StartupError, startTopology } from './launcher';

/**
 * `pnpm start`: the gateway on PORT (default 3100) and inventory, orders, payments, shipping on
 * PORT+1..PORT+4 (or INVENTORY_PORT ...), each its own process and database. Stops them all on
 * SIGTERM/SIGINT; exits 1 when one of them cannot start.
 */
async function main() {
  const env = loadEnv();
  const transport = transportOf(env);
  const childEnv: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: resolve(env.DATA_DIR), TRANSPORT: transport };
  let stopping = false;
  const topology = await startTopology({
    env: childEnv,
    port: env.PORT,
    host: env.HOST,
    runner: env.RUNNER,
    ports: { inventory: env.INVENTORY_PORT, orders: env.ORDERS_PORT, payments: env.PAYMENTS_PORT, shipping: env.SHIPPING_PORT },
    onExit: (name, code, signal) => {
      if (!stopping) process.stderr.write(`launch: ${name} exited (code ${code}, signal ${signal}); the others keep running\n`);
    },
  });
  const width = Math.max(...PROCESS_NAMES.map((n) => n.length));
  const lines = [
    `archbench microservices (${transport}, ${env.DATABASE_URL ? 'PostgreSQL' : `SQLite in ${childEnv.DATA_DIR}`}) ready`,
    `  ${'gateway'.padEnd(width)}  ${topology.urls.gateway}   <- the public API`,
    ...SERVICE_NAMES.map((name) => `  ${name.padEnd(width)}  ${topology.urls[name]}   (pid ${topology.pid(name)})`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`launch: ${signal}, stopping every process\n`);
    await topology.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  const message = error instanceof ConfigError || error instanceof StartupError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`launch failed: ${message}\n`);
  process.exit(1);
});

import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { serve } from '@hono/node-server';
import { ConfigError, backendsOf, devLoginEnabled, loadEnv } from './server/env';
import { createFrontendServer } from './server/app';

/** Serves the built console (dist/) and proxies /api/<backend>/* to the reference apps. */
function main() {
  const env = loadEnv();
  const distDir = resolve(import.meta.dirname, env.DIST_DIR);
  if (!existsSync(resolve(distDir, 'index.html'))) {
    throw new ConfigError(`no built app at ${distDir}; run \`pnpm --filter @archbench/frontend build\` first`);
  }
  const app = createFrontendServer({ env, distDir });
  const server = serve({ fetch: app.fetch, port: env.PORT, hostname: env.HOST }, (info) => {
    const log = (message: string) => env.LOG_LEVEL !== 'silent' && process.stdout.write(`${message}\n`);
    log(`frontend listening on http://${env.HOST}:${info.port}`);
    const backends = backendsOf(env);
    if (backends.length === 0) log('  no backend (BACKENDS, MONOLITH_URL and MICROSERVICES_URL are off)');
    for (const b of backends) log(`  ${b.id.padEnd(13)} -> ${b.url}`);
    if (devLoginEnabled(env)) log('  demo sign-in is ON (POST /dev/token mints customer tokens)');
  });
  const stop = () => server.close(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // Started by a supervisor (pnpm start) with an IPC channel: stop when it goes away, even after a SIGKILL.
  if (process.send) process.once('disconnect', stop);
}

try {
  main();
} catch (error) {
  process.stderr.write(`frontend server failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(error instanceof ConfigError ? 2 : 1);
}

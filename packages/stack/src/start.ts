import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import type { Part, RunningPart } from './stack';
import { REPO_ROOT, StackError, startPart, stopParts } from './stack';

/**
 * `pnpm start`: builds the frontend, then runs the monolith (MONOLITH_PORT, default 3000), the
 * microservices (MICROSERVICES_PORT, default 3100; its services take the next four ports) and the
 * frontend (FRONTEND_PORT, default 5173) side by side, seeded, and prints their URLs. Ctrl-C or
 * SIGTERM stops every process. DATA_DIR (default ./data) holds each app's databases.
 */
// The launcher is the entry that configures its children, so it reads the environment here.
const env = process.env;
const host = '127.0.0.1';
const ports = {
  monolith: Number(env.MONOLITH_PORT ?? 3000),
  microservices: Number(env.MICROSERVICES_PORT ?? 3100),
  frontend: Number(env.FRONTEND_PORT ?? 5173),
};
const dataDir = resolve(REPO_ROOT, env.DATA_DIR ?? 'data');
const url = (port: number) => `http://${host}:${port}`;
const tsx = ['--import', 'tsx'];

function parts(): Part[] {
  const base = { ...env, HOST: host, LOG_LEVEL: env.LOG_LEVEL ?? 'warn' };
  return [
    {
      name: 'monolith',
      cwd: 'apps/monolith',
      args: [...tsx, 'src/launch.ts'],
      env: { ...base, PORT: String(ports.monolith), DATA_DIR: resolve(dataDir, 'monolith') },
      readyUrl: `${url(ports.monolith)}/ready`,
      url: url(ports.monolith),
    },
    {
      name: 'microservices',
      cwd: 'apps/microservices',
      args: [...tsx, 'src/launch.ts'],
      env: { ...base, PORT: String(ports.microservices), DATA_DIR: resolve(dataDir, 'microservices') },
      readyUrl: `${url(ports.microservices)}/ready`,
      url: url(ports.microservices),
    },
    {
      name: 'frontend',
      cwd: 'apps/frontend',
      args: [...tsx, 'server.ts'],
      env: { ...base, PORT: String(ports.frontend), MONOLITH_URL: url(ports.monolith), MICROSERVICES_URL: url(ports.microservices) },
      readyUrl: `${url(ports.frontend)}/config.json`,
      url: url(ports.frontend),
    },
  ];
}

async function main() {
  for (const [name, port] of Object.entries(ports)) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new StackError(`${name.toUpperCase()}_PORT must be a port number, got ${port}`);
  }
  process.stderr.write('building the frontend…\n');
  const build = spawnSync('pnpm', ['--filter', '@archbench/frontend', 'build'], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  if (build.status !== 0) throw new StackError('the frontend build failed (see above)');

  const running: RunningPart[] = [];
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write('stopping every process…\n');
    await stopParts(running);
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  try {
    // The frontend proxies to both apps, so it starts last.
    for (const part of parts()) {
      process.stderr.write(`starting ${part.name}…\n`);
      const started = await startPart(part);
      running.push(started);
      started.child.once('exit', (code) => {
        if (!stopping) {
          process.stderr.write(`${part.name} stopped unexpectedly (code ${code}); stopping the rest\n`);
          void stop(1);
        }
      });
    }
  } catch (error) {
    await stopParts(running);
    throw error;
  }
  const lines = [
    '',
    'archbench is running:',
    `  frontend       ${url(ports.frontend)}      order console, concurrency lab, report viewer`,
    `  monolith       ${url(ports.monolith)}      public API (GET /openapi.json)`,
    `  microservices  ${url(ports.microservices)}      public API via the gateway; services on ${ports.microservices + 1}-${ports.microservices + 4}`,
    '',
    'tokens: pnpm token --sub alice        stop: Ctrl-C',
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

main().catch((error: unknown) => {
  process.stderr.write(`start failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

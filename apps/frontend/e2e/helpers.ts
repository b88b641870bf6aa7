import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import type { Browser } from 'playwright-core';
import { ProcessSupervisor, TSX_LOADER, freePort, startTopology } from '@archbench/topologies';

export const FRONTEND_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = resolve(FRONTEND_DIR, '../..');
/** The microservices gateway's entry: the browser flow over the microservices needs that app. */
export const MICROSERVICES_LAUNCH = join(REPO_ROOT, 'apps/microservices/src/gateway/main.ts');
export const SCREENSHOT_DIR = join(FRONTEND_DIR, 'test-results/screenshots');

/** Flags for Debian's Chromium in a container: no sandbox, no GPU, nothing phoning home. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Chromium from the system (never downloaded); CHROMIUM_PATH overrides /usr/bin/chromium. */
export function launchChromium(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(`no Chromium at ${executablePath}: install Debian's (apt-get install -y chromium) or set CHROMIUM_PATH; browsers are never downloaded`);
  }
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
}

/**
 * Starts what a test file runs against (`startStack`, `startFrontendOnly`) and Chromium before
 * the file's tests and stops both after them. Tests read `.server` and `.browser` (set by then).
 * @example const e2e = serverAndBrowser(startFrontendOnly); // … e2e.browser.newPage(), e2e.server.url
 */
export function serverAndBrowser<T extends { stop: () => Promise<void> }>(start: () => Promise<T>): { server: T; browser: Browser } {
  const started = {} as { server: T; browser: Browser };
  beforeAll(async () => {
    started.server = await start();
    started.browser = await launchChromium();
  });
  afterAll(async () => {
    // Either may be missing when a start failed.
    await (started.browser as Browser | undefined)?.close();
    await (started.server as T | undefined)?.stop();
  });
  return started;
}

export interface Started {
  url: string;
  output: () => string;
  stop: () => Promise<void>;
  /** The pid of one of a topology's processes (e.g. the microservices' `inventory`), to pause it with SIGSTOP in a test. */
  pid?: (process: string) => number | undefined;
}

/** The console's server, supervised like every server (it is not a topology: it fronts them). */
async function startFrontend(env: Record<string, string>): Promise<Started> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const frontend = new ProcessSupervisor(
    {
      name: 'frontend',
      command: process.execPath,
      args: ['--import', TSX_LOADER, join(FRONTEND_DIR, 'server.ts')],
      cwd: FRONTEND_DIR,
      env: { ...process.env, LOG_LEVEL: 'warn', ...env, PORT: String(port) },
      readyUrl: `${url}/config.json`,
    },
    { output: 'capture', restart: false },
  );
  await frontend.start(60_000);
  return { url, output: () => frontend.tail(200).join('\n'), stop: () => frontend.stop(5000) };
}

/** A topology through @archbench/topologies (the same definition `pnpm start` uses), on free ports. */
async function startBackend(name: 'monolith' | 'microservices-http', env: Record<string, string>): Promise<Started> {
  const topology = await startTopology(name, { port: 0, env: { ...process.env, ...env }, restart: false });
  return {
    url: topology.baseUrl,
    output: () => topology.logTail(200),
    stop: () => topology.stop(5000),
    pid: (process) => topology.processes.find((p) => p.name === process)?.pid,
  };
}

/** Only the console's server (the lab and the report viewer need no backend). */
export async function startFrontendOnly(): Promise<Started> {
  return startFrontend({ BACKENDS: '', MONOLITH_URL: 'off', MICROSERVICES_URL: 'off' });
}

export interface Stack {
  frontendUrl: string;
  monolith: Started;
  microservices: Started | null;
  stop: () => Promise<void>;
}

/**
 * Starts the real monolith (and the microservices when their app exists) through
 * @archbench/topologies on free ports with temporary data directories, and the built console's
 * server in front.
 */
export async function startStack(options: { microservices: boolean }): Promise<Stack> {
  const secret = `e2e-secret-${Math.random().toString(36).slice(2)}-${Date.now()}`;
  const common = { AUTH_SECRET: secret, LOG_LEVEL: 'warn', NODE_ENV: 'test', PAYMENT_SLOW_MS: '1500' };
  const started: Started[] = [];
  try {
    const monolith = await startBackend('monolith', common);
    started.push(monolith);
    const microservices = options.microservices ? await startBackend('microservices-http', common) : null;
    if (microservices) started.push(microservices);
    const backends = [`monolith=${monolith.url}`, ...(microservices ? [`microservices=${microservices.url}`] : [])];
    const frontend = await startFrontend({ BACKENDS: backends.join(','), AUTH_SECRET: secret, DEV_LOGIN: '1' });
    started.push(frontend);
    return {
      frontendUrl: frontend.url,
      monolith,
      microservices,
      stop: async () => {
        await Promise.all(started.map((s) => s.stop()));
      },
    };
  } catch (error) {
    await Promise.all(started.map((s) => s.stop()));
    throw error;
  }
}

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';

export const FRONTEND_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = resolve(FRONTEND_DIR, '../..');
export const MICROSERVICES_LAUNCH = join(REPO_ROOT, 'apps/microservices/src/launch.ts');
export const SCREENSHOT_DIR = join(FRONTEND_DIR, 'test-results/screenshots');
const TSX = join(FRONTEND_DIR, 'node_modules/.bin/tsx');

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

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.once('error', () => resolvePort(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolvePort(true)));
  });
}

/** A port the OS says is free now. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

/** `count` consecutive free ports (the microservices gateway uses PORT..PORT+4). */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const checks = await Promise.all(Array.from({ length: count }, (_, i) => portIsFree(base + i)));
    if (checks.every(Boolean)) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

export interface Started {
  url: string;
  process: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

/** Starts a TypeScript entry with tsx and waits until `${url}${readyPath}` answers 200. */
export async function startTsx(entry: string, env: Record<string, string>, url: string, readyPath = '/health', timeoutMs = 60_000): Promise<Started> {
  const child = spawn(TSX, [entry], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let log = '';
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.exitCode !== null || child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, 5000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${entry} exited with ${child.exitCode} before it was ready:\n${log}`);
    try {
      const response = await fetch(`${url}${readyPath}`);
      if (response.ok) return { url, process: child, output: () => log, stop };
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`${entry} was not ready at ${url}${readyPath} within ${timeoutMs} ms:\n${log}`);
}

/** Only the console's server (the lab and the report viewer need no backend). */
export async function startFrontendOnly(): Promise<Started> {
  const port = await freePort();
  return startTsx(join(FRONTEND_DIR, 'server.ts'), { PORT: String(port), MONOLITH_URL: 'off', MICROSERVICES_URL: 'off', LOG_LEVEL: 'warn' }, `http://127.0.0.1:${port}`, '/config.json');
}

export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface Stack {
  frontendUrl: string;
  monolith: Started;
  microservices: Started | null;
  stop: () => Promise<void>;
}

/**
 * Starts the real monolith (and the microservices when apps/microservices/src/launch.ts exists)
 * on free ports with temporary data directories, and the built console's server in front.
 */
export async function startStack(options: { microservices: boolean }): Promise<Stack> {
  const secret = `e2e-secret-${Math.random().toString(36).slice(2)}-${Date.now()}`;
  const common = { AUTH_SECRET: secret, LOG_LEVEL: 'warn', NODE_ENV: 'test', PAYMENT_SLOW_MS: '1500' };
  const dirs: { remove: () => void }[] = [];
  const started: Started[] = [];
  try {
    const monoPort = await freePort();
    const monoDir = tempDir('archbench-fe-mono-');
    dirs.push(monoDir);
    const monolith = await startTsx(join(REPO_ROOT, 'apps/monolith/src/main.ts'), { ...common, PORT: String(monoPort), DATA_DIR: monoDir.path }, `http://127.0.0.1:${monoPort}`);
    started.push(monolith);

    let microservices: Started | null = null;
    if (options.microservices) {
      const base = await freePortRange(5);
      const msDir = tempDir('archbench-fe-ms-');
      dirs.push(msDir);
      microservices = await startTsx(MICROSERVICES_LAUNCH, { ...common, PORT: String(base), DATA_DIR: msDir.path }, `http://127.0.0.1:${base}`, '/ready', 120_000);
      started.push(microservices);
    }

    const fePort = await freePort();
    const frontend = await startTsx(
      join(FRONTEND_DIR, 'server.ts'),
      {
        PORT: String(fePort),
        MONOLITH_URL: monolith.url,
        MICROSERVICES_URL: microservices?.url ?? 'off',
        AUTH_SECRET: secret,
        DEV_LOGIN: '1',
        LOG_LEVEL: 'warn',
      },
      `http://127.0.0.1:${fePort}`,
      '/config.json',
    );
    started.push(frontend);
    return {
      frontendUrl: frontend.url,
      monolith,
      microservices,
      stop: async () => {
        await Promise.all(started.map((s) => s.stop()));
        for (const d of dirs) d.remove();
      },
    };
  } catch (error) {
    await Promise.all(started.map((s) => s.stop()));
    for (const d of dirs) d.remove();
    throw error;
  }
}

import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { buildStandalone } from './bundle';
import { loadCompose, serviceEnvironment } from './compose';
import type { ComposeFile } from './compose';
import { freePort } from '@archbench/topologies';
import { runStandalone } from './standalone';
import type { RunningServer } from './standalone';

export interface LocalStackOptions {
  /** Scratch folder for image filesystems and SQLite data. */
  workDir: string;
  compose?: ComposeFile;
  logLevel?: string;
  /** Variables set after compose's (e.g. the broker of this machine, a fresh AMQP_PREFIX, a DATABASE_URL). */
  overrides?: Record<string, string>;
}

/**
 * Starts compose services on this machine, each from its image filesystem with the environment
 * compose gives it: service hostnames become free local ports, SQLite files replace PostgreSQL
 * and no collector is configured. Names start in the order given (dependencies first).
 * @example const servers = await startLocalStack(['inventory', 'orders', 'payments', 'shipping', 'gateway'], { workDir })
 */
export async function startLocalStack(names: readonly string[], options: LocalStackOptions): Promise<Map<string, RunningServer>> {
  const compose = options.compose ?? loadCompose();
  const ports = new Map<string, number>();
  for (const name of names) ports.set(name, await freePort());
  const running = new Map<string, RunningServer>();
  try {
    for (const name of names) {
      const env = serviceEnvironment(compose, name);
      delete env.DATABASE_URL;
      delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
      for (const [key, value] of Object.entries(env)) {
        env[key] = value.replace(/^http:\/\/([\w-]+):\d+/, (match, host: string) => (ports.has(host) ? `http://127.0.0.1:${ports.get(host)}` : match));
      }
      // The image a compose service runs names its deployable (gateway-amqp runs archbench/gateway).
      const image = /^[\w.-]+\/([\w-]+):/.exec(compose.services[name]?.image ?? '')?.[1];
      if (!image) throw new Error(`compose service ${name} runs no archbench image`);
      const standalone = await buildStandalone(image, { outDir: join(options.workDir, name) });
      const dataDir = mkdtempSync(join(options.workDir, `data-${name}-`));
      running.set(
        name,
        await runStandalone(standalone, {
          ...env,
          PORT: String(ports.get(name)),
          DATA_DIR: dataDir,
          LOG_LEVEL: options.logLevel ?? 'warn',
          ...options.overrides,
        }),
      );
    }
  } catch (error) {
    await Promise.all([...running.values()].map((s) => s.stop().catch(() => null)));
    throw error;
  }
  return running;
}

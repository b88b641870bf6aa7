import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { D1Database } from '@cloudflare/workers-types';
import { Log, LogLevel, Miniflare } from 'miniflare';
import type { WorkerOptions } from 'miniflare';
import { APP_ROOT, bundleWorkers } from './bundle';
import { COMPATIBILITY_DATE, COMPATIBILITY_FLAGS, CONSUMER_SETTINGS, D1_DATABASE, WORKERS } from './topology';
import type { WorkerName } from './topology';
import { createCatalog } from './workers/api/catalog/service';

export interface ServerlessOptions {
  /** Public port; 0 picks a free one. */
  port: number;
  host?: string;
  /** Root of miniflare's persistence (D1 files, queue state); omitted: in a temp dir dropped at stop. */
  persistDir?: string;
  authSecret: string;
  /** Simulated provider settings, passed to the payment step as vars. */
  paymentLatencyMs?: number;
  paymentSlowMs?: number;
  paymentFailureRate?: number;
  maxInFlight?: number;
  /** Origins the API worker allows by CORS (the CORS_ORIGINS var); empty: none. */
  corsOrigins?: readonly string[];
  logLevel?: string;
  bundleDir?: string;
  /** Consumer retry delay override in seconds (tests use 0 to reach the dead-letter queue fast). */
  retryDelaySeconds?: number;
  /** How often to fire the workers' Cron Triggers (miniflare does not), ms; 0: only once at start. Default 30 s. */
  cronEveryMs?: number;
  /** Run these bundles instead of bundling (e.g. what `wrangler deploy --dry-run --outdir` built). */
  bundles?: Record<WorkerName, string>;
}

export interface RunningServerless {
  url: string;
  port: number;
  miniflare: Miniflare;
  /** Milliseconds: bundling, workerd start to ready, schema + seed. */
  timings: { bundleMs: number; runtimeMs: number; seedMs: number };
  stop(): Promise<void>;
}

/** The migrations folder wrangler's `d1 migrations apply` reads (wrangler.jsonc `migrations_dir`). */
export const MIGRATIONS_DIR = join(APP_ROOT, 'migrations');

/** SQL statements of one migration file (comments dropped, split at statement ends). */
function migrationStatements(sql: string): string[] {
  return sql
    .split('\n')
    .filter((line) => !line.trim().startsWith('--'))
    .join('\n')
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Applies migrations/*.sql not yet applied, each file in one batch (one transaction on D1, as
 * `wrangler d1 migrations apply` runs it), keeping wrangler's own `d1_migrations` table, so a
 * database migrated here and one migrated by wrangler agree. Returns the files it applied.
 * `dir`: another folder of migrations (tests: a database left at an earlier one).
 * @example await applyMigrations(db) // ['0001_initial.sql', '0002_tables_keyed_by_id.sql'] on a new database
 */
export async function applyMigrations(db: D1Database, dir: string = MIGRATIONS_DIR): Promise<string[]> {
  await db
    .prepare(
      'CREATE TABLE IF NOT EXISTS d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)',
    )
    .run();
  const done = new Set((await db.prepare('SELECT name FROM d1_migrations').all<{ name: string }>()).results.map((r) => r.name));
  const applied: string[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()) {
    if (done.has(file)) continue;
    const statements = migrationStatements(readFileSync(join(dir, file), 'utf8')).map((s) => db.prepare(s));
    await db.batch([...statements, db.prepare('INSERT INTO d1_migrations (name) VALUES (?1)').bind(file)]);
    applied.push(file);
  }
  return applied;
}

/** miniflare options for the workers of topology.ts: the same bindings and consumers the wrangler configs declare. */
function workerOptions(bundles: Record<string, string>, options: ServerlessOptions): WorkerOptions[] {
  const vars: Record<string, string> = {
    AUTH_SECRET: options.authSecret,
    PAYMENT_LATENCY_MS: String(options.paymentLatencyMs ?? 0),
    PAYMENT_SLOW_MS: String(options.paymentSlowMs ?? 1500),
    PAYMENT_FAILURE_RATE: String(options.paymentFailureRate ?? 0),
    MAX_IN_FLIGHT: String(options.maxInFlight ?? 512),
    CORS_ORIGINS: (options.corsOrigins ?? []).join(','),
    LOG_LEVEL: options.logLevel ?? 'info',
  };
  return WORKERS.map((worker) => ({
    name: worker.name,
    modules: true,
    scriptPath: bundles[worker.name]!,
    // Module names are relative to this; the bundles live outside the working directory.
    modulesRoot: dirname(bundles[worker.name]!),
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: [...COMPATIBILITY_FLAGS],
    bindings: vars,
    d1Databases: { [D1_DATABASE.binding]: D1_DATABASE.name },
    queueProducers: Object.fromEntries(Object.entries(worker.producers).map(([binding, queueName]) => [binding, { queueName }])),
    queueConsumers: Object.fromEntries(
      worker.consumers.map((consumer) => [
        consumer.queue,
        {
          maxBatchSize: CONSUMER_SETTINGS.maxBatchSize,
          maxBatchTimeout: CONSUMER_SETTINGS.maxBatchTimeout,
          maxRetries: CONSUMER_SETTINGS.maxRetries,
          retryDelay: options.retryDelaySeconds ?? CONSUMER_SETTINGS.retryDelay,
          ...(consumer.deadLetterQueue ? { deadLetterQueue: consumer.deadLetterQueue } : {}),
        },
      ]),
    ),
    serviceBindings: { ...worker.services },
  }));
}

/**
 * Bundles the workers, starts them on workerd through miniflare (the API worker on `port`),
 * applies the D1 migrations and seeds the catalog straight into D1 (not through the API worker,
 * so its isolate is still cold for the first real request).
 * @example const app = await startServerless({ port: 3300, authSecret }); …; await app.stop()
 */
export async function startServerless(options: ServerlessOptions): Promise<RunningServerless> {
  const t0 = performance.now();
  // Wall clock of this start: charges claimed before it belong to a previous, dead runtime.
  const startedAt = Date.now();
  // Bundles in a private temp dir unless told where; removed again at stop.
  const ownDir = options.bundles || options.bundleDir ? undefined : mkdtempSync(join(tmpdir(), 'archbench-serverless-'));
  const cleanup = () => ownDir && rmSync(ownDir, { recursive: true, force: true });
  const bundles = options.bundles ?? (await bundleWorkers(WORKERS, (options.bundleDir ?? ownDir)!));
  const t1 = performance.now();
  const miniflare = new Miniflare({
    host: options.host ?? '127.0.0.1',
    port: options.port,
    ...(options.persistDir ? { defaultPersistRoot: options.persistDir } : {}),
    log: new Log(options.logLevel === 'debug' ? LogLevel.DEBUG : LogLevel.WARN),
    // No request.cf lookup at Cloudflare: this runs offline.
    cf: false,
    workers: workerOptions(bundles, options),
  });
  let url: URL;
  try {
    url = await miniflare.ready;
  } catch (error) {
    await miniflare.dispose().catch(() => {});
    cleanup();
    throw error;
  }
  const t2 = performance.now();
  try {
    const db = (await miniflare.getD1Database(D1_DATABASE.binding, 'api')) as unknown as D1Database;
    await applyMigrations(db);
    await createCatalog(db).seed();
  } catch (error) {
    await miniflare.dispose().catch(() => {});
    cleanup();
    throw error;
  }
  const t3 = performance.now();
  // Cron Triggers: once now (`@startup` sweeps whatever a previous run left behind), then on a timer.
  const cronWorkers = WORKERS.filter((w) => w.crons.length > 0);
  const fire = async (cron: string) => {
    for (const worker of cronWorkers) {
      try {
        await (await miniflare.getWorker(worker.name)).scheduled(cron === '@startup' ? { cron, scheduledTime: new Date(startedAt) } : { cron });
      } catch {
        // The worker logs its own failures; the next tick tries again.
      }
    }
  };
  await fire('@startup');
  const cronEveryMs = options.cronEveryMs ?? 30_000;
  const timer = cronEveryMs > 0 ? setInterval(() => void fire(cronWorkers[0]?.crons[0] ?? '* * * * *'), cronEveryMs) : undefined;
  timer?.unref();
  return {
    url: url.origin,
    port: Number(url.port),
    miniflare,
    timings: { bundleMs: Math.round(t1 - t0), runtimeMs: Math.round(t2 - t1), seedMs: Math.round(t3 - t2) },
    async stop() {
      clearInterval(timer);
      await miniflare.dispose();
      cleanup();
    },
  };
}

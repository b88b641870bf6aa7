import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Order } from '@archbench/contracts/schemas';
import { APP_ROOT } from '../src/bundle';
import { startServerless } from '../src/runtime';
import { COMPATIBILITY_DATE, COMPATIBILITY_FLAGS, CONSUMER_SETTINGS, D1_DATABASE, WORKERS } from '../src/topology';
import type { WorkerName } from '../src/topology';
import { AUTH_SECRET, client, eventually } from './helpers';

/**
 * What a user deploys: each wrangler config builds offline with `wrangler deploy --dry-run`
 * (no account), declares the same bindings and consumers the local launcher runs, and the very
 * bundles wrangler produced serve an order on workerd.
 */
const CONFIGS: Record<WorkerName, string> = { api: 'wrangler.jsonc', payments: 'wrangler.payments.jsonc', shipping: 'wrangler.shipping.jsonc' };
const wranglerBin = join(createRequire(join(APP_ROOT, 'package.json')).resolve('wrangler/package.json'), '..', 'bin', 'wrangler.js');

interface WranglerConfig {
  name: string;
  main: string;
  compatibility_date: string;
  compatibility_flags: string[];
  d1_databases: Array<{ binding: string; database_name: string; migrations_dir: string }>;
  queues: {
    producers?: Array<{ binding: string; queue: string }>;
    consumers?: Array<{
      queue: string;
      max_batch_size: number;
      max_batch_timeout: number;
      max_retries: number;
      retry_delay: number;
      dead_letter_queue?: string;
    }>;
  };
  services?: Array<{ binding: string; service: string }>;
  triggers?: { crons?: string[] };
}

/** JSONC as the configs use it: whole-line // comments and trailing commas never appear. */
function readConfig(file: string): WranglerConfig {
  const text = readFileSync(join(APP_ROOT, file), 'utf8')
    .split('\n')
    .filter((line) => !line.trim().startsWith('//'))
    .join('\n');
  return JSON.parse(text) as WranglerConfig;
}

function dryRun(config: string, outdir: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [wranglerBin, 'deploy', '--dry-run', '--outdir', outdir, '--config', config], {
      cwd: APP_ROOT,
      // No account, no telemetry: this must work offline.
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_API_TOKEN: '', CLOUDFLARE_ACCOUNT_ID: '', CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('wrangler configs', () => {
  const outRoot = mkdtempSync(join(tmpdir(), 'archbench-wrangler-'));
  afterAll(() => rmSync(outRoot, { recursive: true, force: true }));

  it.each(WORKERS.map((w) => [w.name, w] as const))('%s: wrangler.jsonc matches the worker topology.ts defines', (_name, worker) => {
    const config = readConfig(CONFIGS[worker.name]);
    expect(config.name).toBe(worker.scriptName);
    expect(config.main).toBe(worker.entry);
    expect(config.compatibility_date).toBe(COMPATIBILITY_DATE);
    expect(config.compatibility_flags).toEqual([...COMPATIBILITY_FLAGS]);
    expect(config.d1_databases.map((d) => [d.binding, d.database_name, d.migrations_dir])).toEqual([[D1_DATABASE.binding, D1_DATABASE.name, 'migrations']]);
    expect(Object.fromEntries((config.queues.producers ?? []).map((p) => [p.binding, p.queue]))).toEqual(worker.producers);
    expect((config.queues.consumers ?? []).map((c) => ({ queue: c.queue, deadLetterQueue: c.dead_letter_queue }))).toEqual(
      worker.consumers.map((c) => ({ queue: c.queue, deadLetterQueue: c.deadLetterQueue })),
    );
    for (const consumer of config.queues.consumers ?? []) {
      expect({
        maxBatchSize: consumer.max_batch_size,
        maxBatchTimeout: consumer.max_batch_timeout,
        maxRetries: consumer.max_retries,
        retryDelay: consumer.retry_delay,
      }).toEqual(CONSUMER_SETTINGS);
    }
    expect(config.triggers?.crons ?? []).toEqual(worker.crons);
    const scriptOf = (name: WorkerName) => WORKERS.find((w) => w.name === name)!.scriptName;
    expect(Object.fromEntries((config.services ?? []).map((s) => [s.binding, s.service]))).toEqual(
      Object.fromEntries(Object.entries(worker.services).map(([b, w]) => [b, scriptOf(w)])),
    );
  });

  const built: Partial<Record<WorkerName, string>> = {};
  it.each(WORKERS.map((w) => w.name))(
    '%s: `wrangler deploy --dry-run` builds offline',
    async (name) => {
      const outdir = join(outRoot, name);
      const { code, output } = await dryRun(CONFIGS[name], outdir);
      expect(code, output).toBe(0);
      expect(output).toContain('--dry-run: exiting now');
      expect(existsSync(join(outdir, 'index.js'))).toBe(true);
      built[name] = join(outdir, 'index.js');
    },
    120_000,
  );

  it("runs wrangler's own bundles on workerd: an order is placed, paid and shipped", async () => {
    expect(Object.keys(built).sort()).toEqual(['api', 'payments', 'shipping']);
    const app = await startServerless({ port: 0, authSecret: AUTH_SECRET, logLevel: 'silent', bundles: built as Record<WorkerName, string> });
    try {
      const api = client(app.url);
      const customer = api.customer('wrangler');
      const placed = await api.place(customer.token, [{ sku: 'SKU-0123', quantity: 1 }], { wait: 10 });
      expect(placed.status).toBe(201);
      const order = placed.body as Order;
      expect(order.status).toBe('CONFIRMED');
      await eventually(async () => {
        const shipment = await api.request('GET', `/orders/${order.id}/shipment`, { token: customer.token });
        expect(shipment.body).toMatchObject({ orderId: order.id, status: 'PREPARING' });
      });
    } finally {
      await app.stop();
    }
  }, 120_000);
});

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { WorkerDefinition, WorkerName } from './topology';

/** apps/serverless, where the worker entries in topology.ts are relative to. */
export const APP_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Module aliases the worker bundles need, shared with the wrangler configs' `alias`: the Node
 * observability stack (prom-client, pino, OpenTelemetry's Node context manager) cannot run on
 * workerd, and server-kit's HTTP helpers only reach it for their problem handlers.
 */
export const WORKER_ALIASES: Record<string, string> = {
  '@archbench/observability/hono': './src/shims/observability-hono.ts',
};

/**
 * Bundles each worker into one ES module for workerd, as wrangler would: workspace packages
 * (TypeScript source) and npm packages inlined, `node:*` left to the runtime's nodejs_compat.
 * @example const files = await bundleWorkers(WORKERS) // { api: '/tmp/…/api.mjs', … }
 */
export async function bundleWorkers(workers: readonly WorkerDefinition[], outdir = mkdtempSync(join(tmpdir(), 'archbench-serverless-'))): Promise<Record<WorkerName, string>> {
  await build({
    entryPoints: Object.fromEntries(workers.map((w) => [w.name, join(APP_ROOT, w.entry)])),
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser', 'import'],
    mainFields: ['module', 'main'],
    external: ['node:*', 'cloudflare:*'],
    alias: Object.fromEntries(Object.entries(WORKER_ALIASES).map(([from, to]) => [from, join(APP_ROOT, to)])),
    logLevel: 'error',
    // Readable stack traces in workerd's logs.
    minify: false,
    sourcemap: false,
  });
  return Object.fromEntries(workers.map((w) => [w.name, join(outdir, `${w.name}.mjs`)])) as Record<WorkerName, string>;
}

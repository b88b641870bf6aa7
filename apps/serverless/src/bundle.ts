import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, stop } from 'esbuild';
import type { WorkerDefinition, WorkerName } from './topology';

function isAppRoot(dir: string): boolean {
  try {
    return (
      existsSync(join(dir, 'migrations')) && (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === '@archbench/serverless'
    );
  } catch {
    return false;
  }
}

function findAppRoot(): string {
  // From this file when run as source; from the working directory (the supervisor starts every
  // process in its app folder) when the launcher itself was bundled into a temp directory.
  for (let dir of [dirname(fileURLToPath(import.meta.url)), process.cwd()]) {
    for (;;) {
      if (isAppRoot(dir)) return dir;
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  throw new Error('cannot find apps/serverless (run from the app folder or the repository)');
}

/** apps/serverless, where the worker entries in topology.ts and the migrations are relative to. */
export const APP_ROOT = findAppRoot();

/**
 * Bundles each worker into one ES module for workerd, as wrangler would: workspace packages
 * (TypeScript source) and npm packages inlined, `node:*` left to the runtime's nodejs_compat.
 * @example const files = await bundleWorkers(WORKERS, '/tmp/bundles') // { api: '/tmp/…/api.mjs', … }
 */
export async function bundleWorkers(workers: readonly WorkerDefinition[], outdir: string): Promise<Record<WorkerName, string>> {
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
    logLevel: 'error',
    // Readable stack traces in workerd's logs.
    minify: false,
    sourcemap: false,
  });
  // esbuild keeps a service process alive for further builds; there are none, and a stray child
  // would count in the memory and CPU measured for this topology.
  await stop();
  return Object.fromEntries(workers.map((w) => [w.name, join(outdir, `${w.name}.mjs`)])) as Record<WorkerName, string>;
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Plugin } from 'esbuild';

/**
 * Node flags every archbench server process runs with, the same for every topology so comparisons
 * are fair (the server image's CMD uses them too):
 * - a small young generation keeps resident memory low at a negligible throughput cost;
 * - a heap limit that fits the containers the Kubernetes manifests give a server (320-384 MiB), so
 *   V8 collects before the kernel's OOM killer steps in. V8 also scales how far it lets the old
 *   generation grow between full collections by this limit: with Node's default (set from the
 *   machine's memory, 4 GiB here) up to four times the live heap, with 256 MiB up to about 1.3
 *   times. With SERVER_ENV too, the monolith's peak RSS under continuous load went 183-191 MB
 *   -> 132-138 MB (apps/monolith/bench/README.md, "Fourth pass").
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=4', '--max-old-space-size=256'];

/**
 * Environment every archbench server process starts with unless the caller sets the variable
 * itself (the server image sets the same). glibc gives each thread that allocates (V8's compiler
 * and GC workers, libuv's pool) an arena of its own and keeps what those threads free: 18 MB of
 * retained, unused memory in the monolith under load. Two arenas keep that to a few MB, as is
 * common advice for glibc services in containers. No effect on musl or other allocators.
 */
export const SERVER_ENV: Readonly<Record<string, string>> = Object.freeze({ MALLOC_ARENA_MAX: '2' });

/**
 * Keeps third-party packages out of the bundle but pins each to the file esbuild resolved, so a
 * dependency of a workspace package (pnpm puts it beside that package, not beside the app) still
 * loads, and every bundle shares one copy of each module.
 */
const externalPackages: Plugin = {
  name: 'external-packages',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.path.startsWith('@archbench/') || args.pluginData === 'resolving') return undefined;
      if (args.path.startsWith('node:')) return { path: args.path, external: true };
      const resolved = await pluginBuild.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'resolving' });
      if (resolved.errors.length > 0) return { errors: resolved.errors };
      return { path: resolved.path, external: true };
    });
  },
};

/**
 * Bundles server entries (their code and the workspace packages, which ship TypeScript source)
 * into one ES module each, so every server runs on plain Node: no tsx loader thread (about 40 MB
 * of resident memory per process) and a faster start. The files live in a private temp directory
 * removed when this process exits, so parallel runs never read each other's half-written bundles.
 * @example const files = await bundleEntries({ monolith: '/repo/apps/monolith/src/main.ts' }) // { monolith: '/tmp/…/monolith.mjs' }
 */
export async function bundleEntries<N extends string>(entries: Record<N, string>): Promise<Record<N, string>> {
  const outdir = mkdtempSync(join(tmpdir(), 'archbench-bundle-'));
  process.once('exit', () => rmSync(outdir, { recursive: true, force: true }));
  await build({
    entryPoints: entries,
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    // Resolve third-party packages exactly as Node would (no bundler-only `module` entries).
    mainFields: ['main'],
    conditions: [],
    // Not minified: stack traces stay readable. (Also: the OTLP export thread's program is sent to
    // its worker as source text, which a minifier's or an older target's helpers would break;
    // export-thread.test.ts runs it from this bundle.)
    logLevel: 'error',
    plugins: [externalPackages],
  });
  return Object.fromEntries(Object.keys(entries).map((name) => [name, join(outdir, `${name}.mjs`)])) as Record<N, string>;
}

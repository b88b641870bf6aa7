import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Plugin } from 'esbuild';

const appRoot = fileURLToPath(new URL('..', import.meta.url));

/**
 * Keeps third-party packages out of the bundle but pins each to the file esbuild resolved, so a
 * dependency of a workspace package (pnpm puts it beside that package, not here) still loads,
 * and every bundle shares one copy of each module.
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
 * Bundles the entry of each process (its code and the workspace packages, which ship TypeScript
 * source) into one ES module per process, so each runs on plain Node: no loader thread per
 * process (about 40 MB of resident memory each) and a faster start. Third-party imports are
 * absolute paths, so the files work from a private temp directory (removed when this process
 * exits): parallel runs never read each other's half-written bundles.
 * @example const files = await bundleProcesses(['gateway', 'orders']) // { gateway: '/tmp/…/gateway.mjs', … }
 */
export async function bundleProcesses<N extends string>(names: readonly N[]): Promise<Record<N, string>> {
  const outdir = mkdtempSync(join(tmpdir(), 'archbench-ms-bundle-'));
  process.once('exit', () => rmSync(outdir, { recursive: true, force: true }));
  await build({
    entryPoints: Object.fromEntries(names.map((name) => [name, `${appRoot}src/${name}/main.ts`])),
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Resolve third-party packages exactly as Node would (no bundler-only `module` entries).
    mainFields: ['main'],
    conditions: [],
    // Not minified: stack traces point at readable code with the source path in comments.
    sourcemap: false,
    logLevel: 'error',
    plugins: [externalPackages],
  });
  return Object.fromEntries(names.map((name) => [name, join(outdir, `${name}.mjs`)])) as Record<N, string>;
}

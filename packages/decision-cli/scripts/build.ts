// Bundles the CLI and the library entry into dist/ for publishing. The private workspace
// package @archbench/contracts is inlined; published dependencies stay external.
import { rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import pkg from '../package.json' with { type: 'json' };

const root = new URL('..', import.meta.url).pathname;
rmSync(`${root}dist`, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { bin: 'src/bin.ts', index: 'src/index.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  sourcemap: true,
  external: Object.keys(pkg.dependencies),
  logLevel: 'warning',
});
// Declarations for the library entry; the types are self-contained (no private packages).
execFileSync('tsc', ['-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
writeFileSync(`${root}dist/index.d.ts`, "export * from './types/index';\n");

import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildStandalone } from './bundle';
import { DEPLOYABLES } from './deployables';
import { loadDeployEnv } from './env';

/**
 * `pnpm --filter @archbench/deploy bundle -- --out DIR [name ...]`: the build stage of every
 * Dockerfile runs this to produce `<DIR>/<name>/rootfs/`, which the runtime stage copies to `/`.
 * Without names it builds every deployable whose entry exists.
 */
async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: process.argv.slice(2).filter((a) => a !== '--'), options: { out: { type: 'string' } }, allowPositionals: true });
  } catch (error) {
    process.stderr.write(`bundle: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  const out = resolve(loadDeployEnv().INIT_CWD ?? process.cwd(), parsed.values.out ?? 'deploy/dist');
  const known = new Set(DEPLOYABLES.map((d) => d.name));
  const unknown = parsed.positionals.filter((n) => !known.has(n));
  if (unknown.length > 0) {
    process.stderr.write(`bundle: unknown deployable ${unknown.join(', ')}; known: ${[...known].join(', ')}\n`);
    return 2;
  }
  const names = parsed.positionals.length > 0 ? parsed.positionals : [...known];
  for (const name of names) {
    const result = await buildStandalone(name, { outDir: out });
    process.stdout.write(`${name}: ${result.rootfs} (${result.files.length} files)\n`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bundle failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);

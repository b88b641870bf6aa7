import { fileURLToPath } from 'node:url';
import { runBundled } from '@archbench/server-kit/bundle';

/**
 * `pnpm start:monolith`: runs src/main.ts bundled on plain Node (no tsx loader thread), with the
 * same Node flags as every microservice, so memory and CPU figures compare like with like.
 * Environment and signals pass through to the server.
 */
runBundled('monolith', fileURLToPath(new URL('./main.ts', import.meta.url))).catch((error: unknown) => {
  process.stderr.write(`monolith launch failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

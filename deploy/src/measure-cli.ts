import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCompose, serviceEnvironment } from './compose';
import { REPO_ROOT } from './deployables';
import { loadDeployEnv } from './env';
import { startLocalStack } from './local-stack';
import { machine, measureGroup } from './measure';
import type { GroupFigures } from './measure';

/**
 * `pnpm --filter @archbench/deploy measure`: RSS and CPU of every deployable under a short load,
 * one topology at a time, from the image filesystems with the compose environment. Writes
 * deploy/kubernetes/measured-resources.json (the Kubernetes requests and limits are checked
 * against it) and prints a markdown table.
 */
const GROUPS: { group: string; names: string[]; entry: string; readOnlyPaths?: string[] }[] = [
  { group: 'monolith', names: ['monolith'], entry: 'monolith' },
  { group: 'microservices-http', names: ['inventory', 'orders', 'payments', 'shipping', 'gateway'], entry: 'gateway' },
  { group: 'hybrid', names: ['hybrid-shipping', 'hybrid-core'], entry: 'hybrid-core' },
  // The console: its built files and /config.json (its /api proxy costs what the backend costs).
  { group: 'frontend', names: ['frontend'], entry: 'frontend', readOnlyPaths: ['/', '/config.json'] },
];

async function main() {
  const seconds = loadDeployEnv().MEASURE_SECONDS;
  const compose = loadCompose();
  const authSecret = serviceEnvironment(compose, 'monolith').AUTH_SECRET!;
  const results: GroupFigures[] = [];
  for (const { group, names, entry, readOnlyPaths } of GROUPS) {
    const workDir = mkdtempSync(join(tmpdir(), `archbench-measure-${group}-`));
    const servers = await startLocalStack(names, { workDir, compose });
    try {
      results.push(await measureGroup(group, servers, entry, { seconds, concurrency: 8, authSecret, readOnlyPaths }));
    } finally {
      await Promise.all([...servers.values()].map((s) => s.stop().catch(() => null)));
      rmSync(workDir, { recursive: true, force: true });
    }
  }
  const file = join(REPO_ROOT, 'deploy/kubernetes/measured-resources.json');
  if (existsSync(join(REPO_ROOT, 'deploy/kubernetes'))) {
    writeFileSync(
      file,
      `${JSON.stringify({ measuredAt: new Date().toISOString(), machine: machine(), load: { seconds, concurrency: 8, mix: '80% GET /products/{sku}, 20% POST /orders (tok_ok, Prefer: wait=5)' }, groups: results }, null, 2)}\n`,
    );
  }
  const lines = [
    '| topology | process | idle RSS MiB | peak RSS MiB | CPU cores under load | group req/s | errors |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const g of results) {
    for (const p of g.processes)
      lines.push(`| ${g.group} | ${p.name} | ${p.idleRssMiB} | ${p.peakRssMiB} | ${p.loadCpuCores} | ${Math.round(g.requests / g.seconds)} | ${g.errors} |`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`measure failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

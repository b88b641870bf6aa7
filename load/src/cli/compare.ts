#!/usr/bin/env -S node --import tsx
// `pnpm compare`: the paired load comparison. Pure parts live in src/compare; this file does the
// I/O (arguments, files, terminal) and maps failures to exit codes: 1 regression, 2 bad
// arguments, 3 the run failed.
import { appendFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ComparisonFormatError, parseComparison } from '@archbench/contracts/comparison';
import type { Comparison } from '@archbench/contracts/comparison';
import { parseCompareArgs, USAGE, UsageError } from '../compare/args';
import { compareWithBaseline, renderRegressions } from '../compare/baseline';
import { writeFileAtomic } from '@archbench/contracts/files';
import { findK6, K6Engine } from '../compare/k6-engine';
import { CompareRunError, runComparison } from '../compare/runner';
import type { LoadEngine } from '../compare/runner';
import { renderSummary } from '../compare/summary-md';
import { killAllTopologiesNow, topologyNames, TopologyStartError } from '../compare/topologies';
import { DEFAULT_PRICES, PriceError, withOverrides } from '../cost/prices';
import { EmbeddedEngine } from '../engine/embedded-engine';
import { PROFILES } from '../scenarios/definitions.ts';
import { loadCompareEnv } from './env';
import { terminalReporter } from './terminal-reporter';

async function main(argv: string[]): Promise<number> {
  const options = parseCompareArgs(argv, topologyNames());
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const env = loadCompareEnv();
  const base = env.INIT_CWD ?? process.cwd();
  const outDir = resolve(base, options.outDir);
  if (existsSync(outDir) && !statSync(outDir).isDirectory()) throw new UsageError(`--out ${outDir} exists and is not a folder`);

  let baseline: Comparison | undefined;
  if (options.baseline) {
    const path = resolve(base, options.baseline);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read --baseline ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    try {
      baseline = parseComparison(JSON.parse(text));
    } catch (error) {
      throw new UsageError(`--baseline ${path} is not a comparison file: ${(error as Error).message}`);
    }
  }

  let prices;
  try {
    prices = withOverrides(DEFAULT_PRICES, options.prices);
  } catch (error) {
    if (error instanceof PriceError) throw new UsageError(error.message);
    throw error;
  }
  let tokens: { customers: string[]; admin: string | undefined } | undefined;
  if (options.tokenFile) {
    const path = resolve(base, options.tokenFile);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read --token-file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    const lines = text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length > 0 && !l.startsWith('#'));
    const admin = lines
      .find((l) => l.startsWith('admin:'))
      ?.slice('admin:'.length)
      .trim();
    const customers = lines.filter((l) => !l.startsWith('admin:'));
    if (customers.length === 0) throw new UsageError(`--token-file ${path} has no customer token (one bearer token per line)`);
    tokens = { customers, admin };
  }

  const k6Path = findK6(env.PATH);
  if (options.engine === 'k6' && !k6Path) {
    throw new UsageError('--engine k6: k6 is not on PATH (install k6 >= 1.0, see load/README.md, or use --engine embedded)');
  }
  const engineName = options.engine === 'auto' ? (k6Path ? 'k6' : 'embedded') : options.engine;
  const reporter = terminalReporter();
  const profile = PROFILES[options.profile];
  reporter.info(`profile ${profile.name} (${profile.description}), engine ${engineName}`);
  const engine: LoadEngine = engineName === 'k6' ? new K6Engine(k6Path!, profile.name) : await EmbeddedEngine.start();
  const experiments = options.experiments ?? profile.experiments;
  // Fault experiments need per-request events, which only the embedded engine records.
  const faultEngine: LoadEngine | undefined = engineName === 'k6' && experiments.includes('faults') ? await EmbeddedEngine.start() : undefined;

  let comparison: Comparison;
  const wallStart = Date.now();
  try {
    comparison = await runComparison({
      profile,
      engineName,
      engine,
      faultEngine,
      topologies: options.topologies,
      targets: options.targets,
      experiments,
      env: { authSecret: options.authSecret ?? env.AUTH_SECRET, amqpUrl: env.AMQP_URL },
      reporter,
      prices,
      loadProfiles: options.loadProfiles,
      tokens,
    });
  } finally {
    await engine.close();
    await faultEngine?.close();
  }
  // Validate before writing: a file that readers would refuse is never written.
  comparison = parseComparison(JSON.parse(JSON.stringify(comparison)));
  let summary = renderSummary(comparison);
  let exitCode = 0;
  if (baseline) {
    const check = compareWithBaseline(comparison, baseline, options.tolerance);
    summary += `\n${renderRegressions(check, options.tolerance)}`;
    if (check.regressions.length > 0) exitCode = 1;
  }
  writeFileAtomic(join(outDir, 'comparison.json'), `${JSON.stringify(comparison, null, 2)}\n`);
  writeFileAtomic(join(outDir, 'summary.md'), summary);
  if (env.GITHUB_STEP_SUMMARY) appendFileSync(env.GITHUB_STEP_SUMMARY, summary);
  process.stdout.write(`\n${summary}\n`);
  reporter.info(`wrote ${join(outDir, 'comparison.json')} and summary.md in ${((Date.now() - wallStart) / 1000).toFixed(0)} s`);
  return exitCode;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAllTopologiesNow();
    process.stderr.write(`\ninterrupted (${signal}); servers stopped, nothing written\n`);
    process.exit(130);
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    killAllTopologiesNow();
    if (error instanceof UsageError) {
      process.stderr.write(`archbench compare: ${error.message}\nrun with --help for usage\n`);
      process.exit(2);
    }
    const known = error instanceof CompareRunError || error instanceof TopologyStartError || error instanceof ComparisonFormatError;
    process.stderr.write(
      `archbench compare failed: ${known ? (error as Error).message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(3);
  },
);

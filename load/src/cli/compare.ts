#!/usr/bin/env -S node --import tsx
// `pnpm compare`: the paired load comparison. Pure parts live in src/compare; this file does the
// I/O (arguments, environment, files, terminal) and maps failures to exit codes: 1 regression,
// 2 bad arguments or environment variables, 3 the run failed.
import { lookup } from 'node:dns/promises';
import { appendFileSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { ComparisonFormatError, parseComparison } from '@archbench/contracts/comparison';
import type { Comparison } from '@archbench/contracts/comparison';
import { DEV_AUTH_SECRET } from '@archbench/contracts/tokens';
import { parseCompareArgs, USAGE, UsageError } from '../compare/args';
import { compareWithBaseline, renderRegressions } from '../compare/baseline';
import { findK6, K6Engine } from '../compare/k6-engine';
import { CompareRunError, dropVhostsNow, runComparison } from '../compare/runner';
import type { LoadEngine } from '../compare/runner';
import { everyRequestFailed, renderSummary } from '../compare/summary-md';
import { killAllTopologiesNow, removeDataDirsNow, topologyNames, TopologyStartError, topologyUnavailable } from '../compare/topologies';
import { DEFAULT_PRICES, PriceError, withOverrides } from '../cost/prices';
import { EmbeddedEngine } from '../engine/embedded-engine';
import { liftFaultsNow } from '../faults/injectors';
import { PROFILES } from '../scenarios/definitions.ts';
import { EnvError, loadCompareEnv, readAuthSecret } from './env';
import { watchLauncher } from './parent';
import { prepareOutDir, removeFolders, writeFilesTogether } from './out-dir';
import { terminalReporter } from './terminal-reporter';

/** Folders prepareOutDir created for --out: removed again (when still empty) if the run ends without results. */
let createdOutFolders: string[] = [];
/** A --target run starts no server: an interrupt has nothing to stop. */
let targetRun = false;

async function main(argv: string[]): Promise<number> {
  const options = parseCompareArgs(argv, topologyNames());
  targetRun = options.targets.length > 0;
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const env = loadCompareEnv();
  // AUTH_SECRET mints the tokens (unless --token-file gives them) and is the secret of the servers
  // compare starts (none with --target); --auth-secret replaces it.
  const authSecret = options.authSecret ?? (options.tokenFile !== undefined && options.targets.length > 0 ? DEV_AUTH_SECRET : readAuthSecret());
  const base = env.INIT_CWD ?? process.cwd();
  const outDir = resolve(base, options.outDir);

  let baseline: Comparison | undefined;
  let baselinePath: string | undefined;
  if (options.baseline) {
    const path = (baselinePath = resolve(base, options.baseline));
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
  // A topology the user named that cannot run here is bad input (without --topologies, such ones are skipped with a line saying why).
  if (options.topologies && options.targets.length === 0) {
    const cannot = options.topologies.flatMap((name) => {
      const reason = topologyUnavailable(name, { authSecret, amqpUrl: env.AMQP_URL });
      return reason ? [`${name} cannot run here (${reason})`] : [];
    });
    if (cannot.length) throw new UsageError(`--topologies: ${cannot.join('; ')}`);
  }
  // Cold start times a start, and compare starts no --target: asking for both is a contradiction.
  if (options.targets.length > 0 && options.experiments?.includes('coldstart'))
    throw new UsageError('--experiments coldstart: cold start cannot be measured for a --target (compare starts nothing); leave coldstart out');
  // A --target whose host name does not resolve is a typo, not a failed run: exit 2 before anything starts.
  for (const target of options.targets) {
    const problem = await unresolvableHost(target.url);
    if (problem) throw new UsageError(`--target ${target.name}=${target.url}: ${problem}`);
  }
  // Last of the checks, as it creates the folder: nothing has started yet.
  createdOutFolders = prepareOutDir(outDir);
  const reporter = terminalReporter();
  // Said before the run as well as in the baseline check: a baseline older than schema version 3 is
  // read with this run's meanings only as far as the file allows.
  for (const warning of baseline?.convertedFrom?.warnings ?? []) reporter.info(`warning: --baseline ${baselinePath}: ${warning}`);
  const profile = PROFILES[options.profile];
  reporter.info(`profile ${profile.name} (${profile.description}), engine ${engineName}`);
  const engine: LoadEngine = engineName === 'k6' ? new K6Engine(k6Path!, profile.name) : await EmbeddedEngine.start();
  const experiments = options.experiments ?? profile.experiments;
  const hooks = options.targets.filter((t) => t.faultCmd !== undefined).map((t) => t.name);
  if (hooks.length > 0 && !experiments.includes('faults'))
    reporter.info(
      `warning: --fault-cmd of ${hooks.join(', ')} will not run: no fault experiments (${options.experiments ? `--experiments ${options.experiments.join(',') || 'none'}` : `the ${profile.name} profile has none`}; add --experiments faults)`,
    );
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
      env: { authSecret, amqpUrl: env.AMQP_URL },
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
  // summary.md first, comparison.json last: never a new comparison.json beside a stale summary.md.
  writeFilesTogether(outDir, [
    ['summary.md', summary],
    ['comparison.json', `${JSON.stringify(comparison, null, 2)}\n`],
  ]);
  createdOutFolders = [];
  if (env.GITHUB_STEP_SUMMARY) appendFileSync(env.GITHUB_STEP_SUMMARY, summary);
  process.stdout.write(`\n${summary}\n`);
  reporter.info(`wrote ${join(outDir, 'comparison.json')} and summary.md in ${((Date.now() - wallStart) / 1000).toFixed(0)} s`);
  // Written (summary.md names the failures), but a run in which a scenario got no answer right measured nothing there.
  const measuredNothing = everyRequestFailed(comparison);
  if (measuredNothing.length > 0) throw new CompareRunError(`${measuredNothing.join('; ')}; the files are written, the run is not a measurement`);
  return exitCode;
}

/**
 * Why a URL's host name cannot be resolved (`ENOTFOUND`: no such name), or undefined when it
 * resolves, is an IP address, or the lookup failed for another reason (`EAI_AGAIN`: the resolver
 * did not answer, which is no proof the name is wrong; the probe of the target then says why).
 * @example await unresolvableHost('http://no-such-host.invalid') // 'host no-such-host.invalid does not resolve (ENOTFOUND)'
 */
async function unresolvableHost(url: string): Promise<string | undefined> {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0) return undefined;
  try {
    await lookup(host);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOTFOUND' ? `host ${host} does not resolve (ENOTFOUND)` : undefined;
  }
}

/** Stops everything this run started, now (a signal handler cannot wait for the run's own cleanup), and exits. */
function interrupted(why: string): never {
  killAllTopologiesNow();
  removeDataDirsNow();
  const vhosts = dropVhostsNow();
  removeFolders(createdOutFolders);
  const removed = vhosts > 0 ? `their data and ${vhosts} RabbitMQ vhost${vhosts === 1 ? '' : 's'} removed` : 'their data removed';
  process.stderr.write(`\ninterrupted (${why}); ${targetRun ? 'nothing was started (--target)' : `servers stopped, ${removed}`}, nothing written\n`);
  // A fault a --fault-cmd hook put into a --target stays until its lift runs: run it now (bounded),
  // or say loudly that the target is still faulted and how to lift it.
  liftFaultsNow((line) => process.stderr.write(line));
  process.exit(130);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => interrupted(signal));
// `kill <pnpm pid>`: pnpm exits without passing the signal on, and compare would run on alone.
watchLauncher(() => interrupted('the process that started compare exited'));

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    killAllTopologiesNow();
    removeFolders(createdOutFolders);
    if (error instanceof UsageError) {
      process.stderr.write(`archbench compare: ${error.message}\nrun with --help for usage\n`);
      process.exit(2);
    }
    if (error instanceof EnvError) {
      process.stderr.write(`archbench compare: ${error.message}\n`);
      process.exit(2);
    }
    const known = error instanceof CompareRunError || error instanceof TopologyStartError || error instanceof ComparisonFormatError;
    process.stderr.write(
      `archbench compare failed: ${known ? (error as Error).message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(3);
  },
);

#!/usr/bin/env -S node --import tsx
// Checks a comparison.json against the schema (for CI): exit 0 valid, 1 invalid, 2 bad usage.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseComparison } from '@archbench/contracts/comparison';
import { EnvError, loadCheckResultsEnv } from './env';

const USAGE = 'usage: pnpm --filter @archbench/load check-results FILE';

function main(args: string[]): number {
  const argv = args[0] === '--' ? args.slice(1) : args;
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(
      `${USAGE}\n\nChecks FILE (a comparison.json of pnpm compare) against the schema.\nexit codes: 0 valid, 1 invalid, 2 bad arguments or FILE unreadable\n`,
    );
    return 0;
  }
  const option = argv.find((a) => a.startsWith('-'));
  if (option !== undefined || argv.length !== 1) {
    const why = option !== undefined ? `unknown option ${option}` : argv.length === 0 ? 'FILE is missing' : `one FILE only, got ${argv.length}`;
    process.stderr.write(`check-results: ${why} (${USAGE})\n`);
    return 2;
  }
  // It reads one file: of the environment only INIT_CWD matters (a relative FILE resolves there).
  let env;
  try {
    env = loadCheckResultsEnv();
  } catch (error) {
    if (!(error instanceof EnvError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 2;
  }
  const path = resolve(env.INIT_CWD ?? process.cwd(), argv[0]!);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    process.stderr.write(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}\n`);
    return 2;
  }
  try {
    const comparison = parseComparison(JSON.parse(text));
    const converted = comparison.convertedFrom;
    process.stdout.write(
      `${path}: valid comparison (schema ${converted ? `${converted.schemaVersion}, read as ${comparison.schemaVersion}` : comparison.schemaVersion}, profile ${comparison.profile}, engine ${comparison.engine}, ` +
        `${comparison.topologies.map((t) => t.name).join(', ')}; ${comparison.scenarios.length} scenario results)\n`,
    );
    for (const warning of converted?.warnings ?? []) process.stderr.write(`warning: ${warning}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`${path}: ${(error as Error).message}\n`);
    return 1;
  }
}

process.exit(main(process.argv.slice(2)));

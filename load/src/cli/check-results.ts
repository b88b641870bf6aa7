#!/usr/bin/env -S node --import tsx
// Checks a comparison.json against the schema (for CI): exit 0 valid, 1 invalid, 2 bad usage.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseComparison } from '@archbench/contracts/comparison';
import { EnvError, loadCompareEnv } from './env';

function main(argv: string[]): number {
  if (argv.length !== 1 || argv[0] === '--help' || argv[0] === '-h') {
    process.stderr.write('usage: pnpm --filter @archbench/load check-results FILE\n');
    return 2;
  }
  // It reads one file: of the environment only INIT_CWD matters (a relative FILE resolves there).
  let env;
  try {
    env = loadCompareEnv();
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
    process.stdout.write(
      `${path}: valid comparison (schema ${comparison.schemaVersion}, profile ${comparison.profile}, engine ${comparison.engine}, ` +
        `${comparison.topologies.map((t) => t.name).join(', ')}; ${comparison.scenarios.length} scenario results)\n`,
    );
    return 0;
  } catch (error) {
    process.stderr.write(`${path}: ${(error as Error).message}\n`);
    return 1;
  }
}

process.exit(main(process.argv.slice(2)));

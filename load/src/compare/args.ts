import { parseArgs } from 'node:util';
import { TopologyName } from '@archbench/contracts/comparison';
import { PROFILE_NAMES } from '../scenarios/definitions.ts';
import type { ProfileName } from '../scenarios/types.ts';

/** A bad command line; the CLI prints the message and exits with code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export type EngineChoice = 'k6' | 'embedded' | 'auto';

export interface CompareOptions {
  profile: ProfileName;
  engine: EngineChoice;
  /** Topologies asked for explicitly; undefined means "all that can run here". */
  topologies: TopologyName[] | undefined;
  outDir: string;
  baseline: string | undefined;
  /** Percent. */
  tolerance: number;
  help: boolean;
}

export const USAGE = `usage: pnpm compare [options]

  --profile smoke|quick|standard   workload size (default quick)
  --engine k6|embedded             load engine (default: k6 when on PATH, else embedded)
  --topologies a,b,...             monolith, microservices-http, microservices-amqp
                                   (default: all that can run here; amqp needs AMQP_URL)
  --out DIR                        where comparison.json and summary.md go (default results)
  --baseline FILE                  a previous comparison.json to check for regressions
  --tolerance P                    allowed regression in percent (default 10; needs --baseline)
  -h, --help                       this text

exit codes: 0 done, 1 regression against the baseline, 2 bad arguments, 3 run failed`;

/**
 * Parses `pnpm compare` arguments; throws UsageError with a one-line reason.
 * @example parseCompareArgs(['--profile', 'quick', '--engine', 'embedded'])
 */
export function parseCompareArgs(argv: string[]): CompareOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        profile: { type: 'string' },
        engine: { type: 'string' },
        topologies: { type: 'string' },
        out: { type: 'string' },
        baseline: { type: 'string' },
        tolerance: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]!);
  }
  const v = parsed.values;
  const profile = v.profile ?? 'quick';
  if (!PROFILE_NAMES.includes(profile as ProfileName)) throw new UsageError(`--profile must be one of ${PROFILE_NAMES.join(', ')}, got ${JSON.stringify(profile)}`);
  const engine = v.engine ?? 'auto';
  if (engine !== 'k6' && engine !== 'embedded' && engine !== 'auto') throw new UsageError(`--engine must be k6 or embedded, got ${JSON.stringify(engine)}`);
  let topologies: TopologyName[] | undefined;
  if (v.topologies !== undefined) {
    const names = v.topologies.split(',').map((s) => s.trim()).filter(Boolean);
    if (names.length === 0) throw new UsageError('--topologies needs at least one name');
    for (const name of names) {
      if (!TopologyName.safeParse(name).success) throw new UsageError(`unknown topology ${JSON.stringify(name)}; use ${TopologyName.options.join(', ')}`);
    }
    if (new Set(names).size !== names.length) throw new UsageError('--topologies lists a topology twice');
    topologies = names as TopologyName[];
  }
  if (v.out !== undefined && v.out.trim() === '') throw new UsageError('--out must not be empty');
  let tolerance = 10;
  if (v.tolerance !== undefined) {
    if (v.baseline === undefined) throw new UsageError('--tolerance only makes sense with --baseline FILE');
    tolerance = Number(v.tolerance.replace(/%$/, ''));
    if (!Number.isFinite(tolerance) || tolerance < 0 || tolerance > 1000) throw new UsageError(`--tolerance must be a percentage between 0 and 1000, got ${JSON.stringify(v.tolerance)}`);
  }
  return { profile: profile as ProfileName, engine, topologies, outDir: v.out ?? 'results', baseline: v.baseline, tolerance, help: v.help ?? false };
}

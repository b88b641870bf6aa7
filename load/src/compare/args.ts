import { parseArgs } from 'node:util';
import type { LoadProfile } from '@archbench/contracts/comparison';
import { TopologyId } from '@archbench/contracts/comparison';
import { DEFAULT_PRICES, PriceError, parseLoadProfile, strictDecimal, withOverrides } from '../cost/prices';
import { PROFILE_NAMES, PROFILES } from '../scenarios/definitions.ts';
import type { ExperimentName, ProfileName } from '../scenarios/types.ts';

/** A bad command line; the CLI prints the message and exits with code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export type EngineChoice = 'k6' | 'embedded' | 'auto';

/** `--target NAME=URL` with its `--metrics-url` and `--fault-cmd`. */
export interface TargetOption {
  name: string;
  url: string;
  metricsUrls: string[];
  faultCmd?: string;
  /** `--billing NAME=provisioned|per-request`: how the target is paid for (prices its monthly cost). */
  billing?: 'provisioned' | 'per-request';
}

export interface CompareOptions {
  profile: ProfileName;
  engine: EngineChoice;
  /** Topologies asked for explicitly; undefined means "all that can run here". */
  topologies: string[] | undefined;
  /** Experiments besides the load rounds; undefined = the profile's. */
  experiments: ExperimentName[] | undefined;
  targets: TargetOption[];
  /** AUTH_SECRET of the servers (mints tokens); overrides the environment. */
  authSecret: string | undefined;
  /** File of bearer tokens (one per line; `admin:TOKEN` for the admin token). */
  tokenFile: string | undefined;
  /** `ID=VALUE` price overrides. */
  prices: string[];
  loadProfiles: LoadProfile[] | undefined;
  outDir: string;
  baseline: string | undefined;
  /** Percent. */
  tolerance: number;
  help: boolean;
}

export const USAGE = `usage: pnpm compare [options]

  --profile smoke|quick|standard   workload size (default quick)
  --engine k6|embedded|auto        load engine (default auto: k6 when on PATH, else embedded)
  --topologies a,b,...             monolith, microservices-http, microservices-amqp, hybrid,
                                   serverless (default: all that can run here; amqp needs AMQP_URL)
  --experiments a,b|none           besides the load rounds: faults, coldstart
                                   (default: ${PROFILE_NAMES.map((name) => `${name} ${PROFILES[name].experiments.join(',') || 'none'}`).join(', ')})
  --target NAME=URL                measure a deployment that already runs (repeatable); starts nothing;
                                   URL may end in a path prefix (https://host/prod), no query
  --metrics-url NAME=URL           Prometheus text of one of NAME's processes (repeatable); without
                                   it NAME's CPU and memory are "not measured"
  --fault-cmd NAME=CMD             hook that injects faults into a target (see load/README.md)
  --billing NAME=provisioned|per-request
                                   how target NAME is paid for (default: as the topology of that
                                   name, so serverless per request; any other name provisioned)
  --auth-secret SECRET             the servers' AUTH_SECRET, to mint tokens (default: $AUTH_SECRET)
  --token-file FILE                bearer tokens instead, one per line (admin:TOKEN for the admin one)
  --load-profile NAME=busy:R,peak:R,hours:H[,quiet:R][,orders:S]
                                   price at this traffic (repeatable; default steady 200 req/s and
                                   mostly idle with 2,000 req/s bursts)
  --price ID=VALUE                 override one price of the cost model (repeatable; ids in load/README.md)
  --out DIR                        where comparison.json and summary.md go (default results)
  --baseline FILE                  a previous comparison.json to check for regressions
  --tolerance P                    allowed regression in percent (default 10; needs --baseline)
  -h, --help                       this text

exit codes: 0 done, 1 regression against the baseline, 2 bad arguments, 3 run failed`;

/** Flags that take one value each time and may be repeated; any other flag with a value is given once. */
const REPEATABLE = new Set(['target', 'metrics-url', 'fault-cmd', 'billing', 'load-profile', 'price']);

/**
 * parseArgs' reason in one line. A value starting with a dash (`--tolerance -1`) is taken for a
 * flag; node explains that over three lines, of which the last (how to write it) matters most.
 */
function parseArgsMessage(error: Error, argv: readonly string[]): string {
  const ambiguous = /^Option '(--[\w-]+)' argument is ambiguous/.exec(error.message);
  if (!ambiguous) return error.message.split('\n')[0]!;
  const flag = ambiguous[1]!;
  const value = argv[argv.indexOf(flag) + 1];
  // Never echo a secret to the terminal.
  const shown = value === undefined || flag === '--auth-secret' ? '-…' : value;
  return `${flag} ${shown}: a value starting with a dash reads as a flag; write ${flag}=${shown}`;
}

/** `a, b,,c` -> ['a', 'b', 'c']. */
function commaList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Parses `pnpm compare` arguments; throws UsageError with a one-line reason.
 * @example parseCompareArgs(['--profile', 'quick', '--engine', 'embedded'])
 */
export function parseCompareArgs(
  argv: string[],
  known: readonly string[] = ['monolith', 'microservices-http', 'microservices-amqp', 'hybrid', 'serverless'],
): CompareOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      tokens: true,
      allowPositionals: false,
      options: {
        profile: { type: 'string' },
        engine: { type: 'string' },
        topologies: { type: 'string' },
        out: { type: 'string' },
        baseline: { type: 'string' },
        tolerance: { type: 'string' },
        experiments: { type: 'string' },
        target: { type: 'string', multiple: true },
        'metrics-url': { type: 'string', multiple: true },
        'fault-cmd': { type: 'string', multiple: true },
        billing: { type: 'string', multiple: true },
        'auth-secret': { type: 'string' },
        'token-file': { type: 'string' },
        'load-profile': { type: 'string', multiple: true },
        price: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError(parseArgsMessage(error as Error, argv));
  }
  const v = parsed.values;
  // parseArgs keeps the last of a repeated single-value flag; a second value is a mistake to report, not to drop.
  const seen = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option' || token.value === undefined || REPEATABLE.has(token.name)) continue;
    if (seen.has(token.name)) throw new UsageError(`--${token.name} is given twice`);
    seen.add(token.name);
  }
  const profile = v.profile ?? 'quick';
  if (!PROFILE_NAMES.includes(profile as ProfileName))
    throw new UsageError(`--profile must be one of ${PROFILE_NAMES.join(', ')}, got ${JSON.stringify(profile)}`);
  const engine = v.engine ?? 'auto';
  if (engine !== 'k6' && engine !== 'embedded' && engine !== 'auto')
    throw new UsageError(`--engine must be k6, embedded or auto, got ${JSON.stringify(engine)}`);
  let topologies: string[] | undefined;
  if (v.topologies !== undefined) {
    const names = commaList(v.topologies);
    if (names.length === 0) throw new UsageError('--topologies needs at least one name');
    for (const name of names) {
      if (!known.includes(name)) throw new UsageError(`unknown topology ${JSON.stringify(name)}; use ${known.join(', ')}`);
    }
    if (new Set(names).size !== names.length) throw new UsageError('--topologies lists a topology twice');
    topologies = names;
  }
  let experiments: ExperimentName[] | undefined;
  if (v.experiments !== undefined) {
    const list = commaList(v.experiments);
    if (list.length === 1 && list[0] === 'none') experiments = [];
    else {
      for (const e of list)
        if (e !== 'faults' && e !== 'coldstart') throw new UsageError(`--experiments: unknown experiment ${JSON.stringify(e)}; use faults, coldstart or none`);
      if (list.length === 0) throw new UsageError('--experiments needs faults, coldstart or none');
      experiments = [...new Set(list)] as ExperimentName[];
    }
  }
  const pairs = (flag: string, values: string[] | undefined) =>
    (values ?? []).map((raw) => {
      const eq = raw.indexOf('=');
      const name = raw.slice(0, eq);
      const value = raw.slice(eq + 1);
      if (eq <= 0 || value === '') throw new UsageError(`${flag} ${raw}: use NAME=VALUE`);
      if (!TopologyId.safeParse(name).success) throw new UsageError(`${flag} ${raw}: NAME must be kebab-case (lowercase letters, digits, dashes)`);
      return { name, value };
    });
  const url = (flag: string, raw: string) => {
    try {
      const parsed = new URL(raw);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http');
      // As the URL parser reads it (no surrounding spaces, lowercase scheme and host), without a trailing slash.
      return parsed.href.replace(/\/+$/, '');
    } catch {
      throw new UsageError(`${flag}: ${JSON.stringify(raw)} is not an http(s) URL`);
    }
  };
  const targets: TargetOption[] = [];
  for (const { name, value } of pairs('--target', v.target)) {
    if (targets.some((t) => t.name === name)) throw new UsageError(`--target ${name} is given twice`);
    const base = url(`--target ${name}`, value);
    // Request paths are appended to the URL (a path prefix is kept): a query or fragment would end up inside them.
    if (/[?#]/.test(value))
      throw new UsageError(`--target ${name}: ${JSON.stringify(value)} has a query or fragment; give the base URL (scheme, host, optional path prefix)`);
    // The load sends its own Authorization header (bearer tokens), and the engine connects to the origin alone.
    const { username, password } = new URL(base);
    if (username || password)
      throw new UsageError(
        `--target ${name}: the URL carries credentials (user:password@); the load authenticates with bearer tokens, so give the URL without them`,
      );
    targets.push({ name, url: base, metricsUrls: [] });
  }
  /** The `--target` a per-target flag (`--metrics-url NAME=…` …) names, or a UsageError. */
  const targetFor = (flag: string, name: string) => {
    const target = targets.find((t) => t.name === name);
    if (!target) throw new UsageError(`${flag} ${name}=…: there is no --target ${name}`);
    return target;
  };
  for (const { name, value } of pairs('--metrics-url', v['metrics-url'])) {
    const target = targetFor('--metrics-url', name);
    const metricsUrl = url(`--metrics-url ${name}`, value);
    // fetch refuses a URL with credentials, so every scrape of it would fail (and read as "not measured").
    const { username, password } = new URL(metricsUrl);
    if (username || password)
      throw new UsageError(`--metrics-url ${name}: the URL carries credentials (user:password@), which fetch refuses; give the URL without them`);
    // Each URL is one process: the same one twice would count its CPU, memory and processes twice.
    if (target.metricsUrls.some((known) => new URL(known).href === new URL(metricsUrl).href))
      throw new UsageError(`--metrics-url ${name}: ${JSON.stringify(value)} is given twice (each URL is one process, counted once)`);
    target.metricsUrls.push(metricsUrl);
  }
  for (const { name, value } of pairs('--fault-cmd', v['fault-cmd'])) {
    const target = targetFor('--fault-cmd', name);
    if (target.faultCmd !== undefined) throw new UsageError(`--fault-cmd ${name} is given twice`);
    target.faultCmd = value;
  }
  for (const { name, value } of pairs('--billing', v.billing)) {
    const target = targetFor('--billing', name);
    if (value !== 'provisioned' && value !== 'per-request')
      throw new UsageError(`--billing ${name}: use provisioned or per-request, got ${JSON.stringify(value)}`);
    if (target.billing !== undefined) throw new UsageError(`--billing ${name} is given twice`);
    target.billing = value;
  }
  if (targets.length > 0 && v.topologies !== undefined)
    throw new UsageError('--target and --topologies do not mix: targets are measured, topologies are started');
  if (v['auth-secret'] !== undefined && v['auth-secret'].length < 16) throw new UsageError('--auth-secret must be at least 16 characters');
  if (v['auth-secret'] !== undefined && v['token-file'] !== undefined) throw new UsageError('use --auth-secret or --token-file, not both');
  let loadProfiles: LoadProfile[] | undefined;
  try {
    // The cost model's own parsers: ids, decimal values >= 0, no id twice; checked before anything starts.
    withOverrides(DEFAULT_PRICES, v.price ?? []);
    if (v['load-profile'] !== undefined) loadProfiles = v['load-profile'].map((raw) => parseLoadProfile(raw));
  } catch (error) {
    if (error instanceof PriceError) throw new UsageError(error.message);
    throw error;
  }
  const profileNames = (loadProfiles ?? []).map((p) => p.name);
  const twice = profileNames.find((name, i) => profileNames.indexOf(name) !== i);
  if (twice !== undefined) throw new UsageError(`--load-profile ${twice} is given twice`);
  if (v.out !== undefined && v.out.trim() === '') throw new UsageError('--out must not be empty');
  let tolerance = 10;
  if (v.tolerance !== undefined) {
    if (v.baseline === undefined) throw new UsageError('--tolerance only makes sense with --baseline FILE');
    const percent = strictDecimal(v.tolerance.trim().replace(/%$/, ''));
    if (percent === undefined || percent < 0 || percent > 1000)
      throw new UsageError(`--tolerance must be a percentage between 0 and 1000, got ${JSON.stringify(v.tolerance)}`);
    tolerance = percent;
  }
  return {
    profile: profile as ProfileName,
    engine,
    topologies,
    experiments,
    targets,
    authSecret: v['auth-secret'],
    tokenFile: v['token-file'],
    prices: v.price ?? [],
    loadProfiles,
    outDir: v.out ?? 'results',
    baseline: v.baseline,
    tolerance,
    help: v.help ?? false,
  };
}

import { parseArgs } from 'node:util';

/** The flags a bench takes: every one a string or a boolean, with a default shown in the usage line. */
export type BenchOptions = Record<string, { type: 'string'; default?: string } | { type: 'boolean'; default?: boolean }>;

type Values<O extends BenchOptions> = {
  [K in keyof O]: O[K] extends { type: 'boolean' } ? boolean | undefined : O[K] extends { default: string } ? string : string | undefined;
};

export class BenchArgsError extends Error {
  override readonly name = 'BenchArgsError';
}

/** `[--rounds 3] [--variants off,default]`: the usage line of a bench's flags, with their defaults. */
export function benchUsage(options: BenchOptions): string {
  return Object.entries(options)
    .map(([name, o]) => (o.type === 'boolean' ? `[--${name}]` : `[--${name} ${o.default ?? '<value>'}]`))
    .join(' ');
}

/**
 * Parses a bench's flags. `pnpm --filter X bench --rounds 5` and `pnpm --filter X bench -- --rounds 5`
 * mean the same (pnpm hands the `--` on to the script); anything else not declared is an error that
 * names the flag and shows the usage line.
 * @example parseBenchArgs({ rounds: { type: 'string', default: '3' } }, ['--', '--rounds', '5']) // { rounds: '5' }
 */
export function parseBenchArgs<O extends BenchOptions>(options: O, argv: readonly string[]): Values<O> {
  const args = argv[0] === '--' ? argv.slice(1) : [...argv];
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values as unknown as Values<O>;
  } catch (error) {
    throw new BenchArgsError(`${error instanceof Error ? error.message : String(error)}\nusage: pnpm bench ${benchUsage(options)}`);
  }
}

/**
 * `parseBenchArgs` on this process's arguments; a bad flag prints the message and the usage line
 * and exits with code 2 (no stack trace).
 * @example const args = benchArgs({ duration: { type: 'string', default: '5' } })
 */
export function benchArgs<O extends BenchOptions>(options: O): Values<O> {
  try {
    return parseBenchArgs(options, process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
}

/** What a numeric flag may hold: `positive` (> 0), `non-negative` (≥ 0) or `count` (a whole number ≥ 1). */
export type BenchNumberKind = 'positive' | 'non-negative' | 'count';

const NUMBER_RULES: Record<BenchNumberKind, { ok: (n: number) => boolean; says: string }> = {
  positive: { ok: (n) => n > 0, says: 'a number > 0' },
  'non-negative': { ok: (n) => n >= 0, says: 'a number ≥ 0' },
  count: { ok: (n) => Number.isInteger(n) && n >= 1, says: 'a whole number ≥ 1' },
};

/**
 * The number a bench flag holds, checked against its kind; throws BenchArgsError naming the flag.
 * @example parseBenchNumber('rounds', '3', 'count') // 3
 */
export function parseBenchNumber(flag: string, raw: string, kind: BenchNumberKind): number {
  const value = raw.trim() === '' ? Number.NaN : Number(raw);
  const rule = NUMBER_RULES[kind];
  if (!Number.isFinite(value) || !rule.ok(value)) throw new BenchArgsError(`--${flag} must be ${rule.says}, got ${JSON.stringify(raw)}`);
  return value;
}

/**
 * `parseBenchNumber` for a script: a bad value prints the message and exits with code 2.
 * @example const rounds = benchNumber('rounds', args.rounds, 'count')
 */
export function benchNumber(flag: string, raw: string, kind: BenchNumberKind): number {
  try {
    return parseBenchNumber(flag, raw, kind);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
}

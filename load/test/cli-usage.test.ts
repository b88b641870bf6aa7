import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LOAD_DIR, runCli } from './cli-kit';
import type { LoadScript } from './cli-kit';

// Bad environment variables and a bad --out are usage errors: exit 2, one line naming the
// problem, no stack trace, and nothing started or written. Every run here stops at a check
// before the load engine or a topology starts (a failing check would otherwise start a smoke
// run of the monolith: the timeout and --topologies keep that short).

const FIXTURE = join(LOAD_DIR, 'test/fixtures/comparison-v2-quick-faults.json');
const work = mkdtempSync(join(tmpdir(), 'archbench-cli-usage-'));
afterAll(() => {
  chmodSync(work, 0o700);
  for (const entry of readdirSync(work)) chmodSync(join(work, entry), 0o700);
  rmSync(work, { recursive: true, force: true });
});

const cli = (script: LoadScript, args: string[], extraEnv: Record<string, string> = {}) => runCli(script, args, extraEnv, 60_000);

/** Arguments of a run that would start the monolith if no check stopped it first. */
const smoke = (out: string) => ['--profile', 'smoke', '--engine', 'embedded', '--topologies', 'monolith', '--out', out];

/** A usage error as the CLI prints it: the reason, no stack trace, nothing started. */
function expectUsageError(run: ReturnType<typeof cli>, reason: RegExp) {
  expect(run.code, run.stderr).toBe(2);
  expect(run.stderr).toMatch(reason);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(run.stderr).not.toMatch(/compare failed|profile smoke|started monolith/);
  expect(run.stdout).toBe('');
}

describe('pnpm compare: a topology named with --topologies that cannot run here', () => {
  it('is a usage error before anything starts (without --topologies it would be skipped with a line)', () => {
    const out = join(work, 'amqp-without-broker');
    const run = cli('compare', ['--profile', 'smoke', '--engine', 'embedded', '--topologies', 'monolith,microservices-amqp', '--out', out], {
      AUTH_SECRET: 'a-secret-of-enough-length',
    });
    expectUsageError(run, /^archbench compare: --topologies: microservices-amqp cannot run here \(AMQP_URL is not set/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('pnpm compare: bad environment variables', () => {
  it('refuses an AUTH_SECRET shorter than 16 characters with one line naming it, exit 2', () => {
    const out = join(work, 'short-secret');
    const run = cli('compare', smoke(out), { AUTH_SECRET: 'tooshort42' });
    expectUsageError(run, /^archbench compare: invalid environment: AUTH_SECRET must be at least 16 characters \(it has 10\)/);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).not.toContain('tooshort42');
    expect(existsSync(out)).toBe(false);
    // An empty one is too short as well (the servers refuse it too).
    expectUsageError(cli('compare', smoke(out), { AUTH_SECRET: '' }), /AUTH_SECRET must be at least 16 characters \(it has 0\)/);
  });

  it('does not read AUTH_SECRET with --auth-secret, nor with --token-file against targets; does with --token-file when it starts servers', () => {
    // A later check (the missing --baseline) stops each run: reaching it proves AUTH_SECRET was not in the way.
    const missing = join(work, 'no-baseline.json');
    const tokens = join(work, 'tokens.txt');
    writeFileSync(tokens, 'customer-token\nadmin:admin-token\n');
    const withSecret = cli('compare', [...smoke(join(work, 'a')), '--auth-secret', 'the-servers-secret-0123', '--baseline', missing], { AUTH_SECRET: 'short' });
    expectUsageError(withSecret, /cannot read --baseline .*ENOENT/);
    const targetTokens = cli('compare', ['--target', 'shop=http://127.0.0.1:1', '--token-file', tokens, '--out', join(work, 'b'), '--baseline', missing], {
      AUTH_SECRET: 'short',
    });
    expectUsageError(targetTokens, /cannot read --baseline .*ENOENT/);
    // Started servers run with AUTH_SECRET, so a token file does not make it irrelevant there.
    const startedTokens = cli('compare', [...smoke(join(work, 'c')), '--token-file', tokens, '--baseline', missing], { AUTH_SECRET: 'short' });
    expectUsageError(startedTokens, /AUTH_SECRET must be at least 16 characters/);
    for (const out of ['a', 'b', 'c']) expect(existsSync(join(work, out))).toBe(false);
  });

  it('refuses a malformed AMQP_URL with one line naming it, exit 2 (was a stack trace from the vhost setup, exit 3)', () => {
    for (const bad of ['notaurl', 'http://127.0.0.1:5672', 'amqp://user:s3cret@']) {
      const out = join(work, 'bad-amqp');
      const run = cli('compare', ['--profile', 'smoke', '--engine', 'embedded', '--topologies', 'microservices-amqp', '--out', out], { AMQP_URL: bad });
      expectUsageError(run, /^archbench compare: invalid environment: AMQP_URL: must be an amqp:\/\/ or amqps:\/\/ URL/);
      expect(run.stderr.trim().split('\n'), bad).toHaveLength(1);
      expect(run.stderr).not.toContain(bad);
      expect(existsSync(out)).toBe(false);
    }
  });

  it('takes an empty AMQP_URL (and GITHUB_STEP_SUMMARY, INIT_CWD) for unset', () => {
    const run = cli('compare', [...smoke(join(work, 'd')), '--baseline', join(work, 'no-baseline.json')], {
      AMQP_URL: '',
      GITHUB_STEP_SUMMARY: '',
      INIT_CWD: '',
    });
    expectUsageError(run, /cannot read --baseline .*ENOENT/);
    expect(run.stderr).not.toContain('AMQP_URL');
  });
});

describe('pnpm check-results reads no secret', () => {
  it('checks a file whatever AUTH_SECRET and AMQP_URL say', () => {
    for (const amqp of ['', 'notaurl']) {
      const run = cli('check-results', [FIXTURE], { AUTH_SECRET: 'short', AMQP_URL: amqp });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/valid comparison/);
      // Nothing about the environment: only the fixture's own warnings (a version 2 file read as 3).
      expect(run.stderr).toMatch(/^(warning: this version 2 file [^\n]*\n)*$/);
    }
  });
});

describe('pnpm check-results: help and usage', () => {
  it('--help and -h print the usage on stdout, exit 0', () => {
    for (const flag of ['--help', '-h']) {
      const run = cli('check-results', [flag]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/^usage: pnpm --filter @archbench\/load check-results FILE\n/);
      expect(run.stderr).toBe('');
    }
  });

  it.each([
    [[], 'FILE is missing'],
    [['a.json', 'b.json'], 'one FILE only, got 2'],
    [['--strict', FIXTURE], 'unknown option --strict'],
  ])('refuses %j with one line, exit 2', (args, why) => {
    const run = cli('check-results', args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`check-results: ${why} (usage: pnpm --filter @archbench/load check-results FILE)\n`);
  });
});

describe('pnpm compare: --out is checked before anything starts', () => {
  it('refuses an --out below a file: exit 2 naming the path, nothing started', () => {
    const file = join(work, 'a-file');
    writeFileSync(file, 'not a folder\n');
    const out = join(file, 'x');
    expectUsageError(cli('compare', smoke(out)), new RegExp(`--out ${out}: cannot create the folder \\(ENOTDIR\\)`));
    expectUsageError(cli('compare', smoke(file)), new RegExp(`--out ${file} exists and is not a folder`));
  });

  it('refuses a folder it cannot write to: exit 2 naming the path, nothing started or left behind', () => {
    let out: string;
    if (process.getuid?.() === 0) {
      // root writes through permission bits; sysfs refuses new files to everyone.
      if (!existsSync('/sys/kernel')) return;
      out = '/sys';
    } else {
      out = join(work, 'read-only');
      mkdirSync(out);
      chmodSync(out, 0o555);
    }
    const run = cli('compare', smoke(out));
    expectUsageError(run, new RegExp(`--out ${out}: cannot write a file there \\((EACCES|EPERM|EROFS)\\)`));
    expect(readdirSync(out).filter((name) => name.startsWith('.archbench-probe'))).toEqual([]);
  });
});

describe('pnpm compare: bad flags are one line and exit 2, before anything starts', () => {
  const target = ['--target', 'shop=http://127.0.0.1:1'];
  it.each([
    [
      'the same --metrics-url twice',
      [...target, '--metrics-url', 'shop=http://127.0.0.1:1/metrics', '--metrics-url', 'shop=http://127.0.0.1:1/metrics'],
      '--metrics-url shop: "http://127.0.0.1:1/metrics" is given twice (each URL is one process, counted once)',
    ],
    [
      'a --metrics-url with credentials',
      [...target, '--metrics-url', 'shop=http://bob:pw@127.0.0.1:1/metrics'],
      '--metrics-url shop: the URL carries credentials (user:password@), which fetch refuses; give the URL without them',
    ],
    ['an empty --tolerance', ['--baseline', 'old.json', '--tolerance', ''], '--tolerance must be a percentage between 0 and 1000, got ""'],
    ['--tolerance 0x10', ['--baseline', 'old.json', '--tolerance', '0x10'], '--tolerance must be a percentage between 0 and 1000, got "0x10"'],
    ['an empty --price', ['--price', 'vcpu-hour='], '--price vcpu-hour: the value must be a decimal number >= 0, got ""'],
    [
      'a --load-profile number with two colons',
      ['--load-profile', 'x=busy:10:5,hours:2'],
      '--load-profile x=busy:10:5,hours:2: "busy:10:5" is not KEY:NUMBER (a decimal number >= 0)',
    ],
    [
      'a value starting with a dash',
      ['--baseline', 'old.json', '--tolerance', '-1'],
      '--tolerance -1: a value starting with a dash reads as a flag; write --tolerance=-1',
    ],
    ['--profile twice', ['--profile', 'smoke', '--profile', 'quick'], '--profile is given twice'],
    ['--load-profile twice for one name', ['--load-profile', 'x=busy:1,hours:2', '--load-profile', 'x=busy:3,hours:4'], '--load-profile x is given twice'],
  ])('%s', (_what, args, message) => {
    const out = join(work, 'bad-flags');
    const run = cli('compare', [...args, '--out', out]);
    expectUsageError(run, /./);
    expect(run.stderr).toBe(`archbench compare: ${message}\nrun with --help for usage\n`);
    expect(existsSync(out)).toBe(false);
  });
});

describe('pnpm compare --target starts nothing and leaves nothing', () => {
  it('creates no archbench-logs-* folder (only started topologies write logs) and names the target by its normalised URL', () => {
    const tmp = mkdtempSync(join(work, 'tmp-'));
    const out = join(work, 'target-out');
    // Nothing answers on port 1: the run stops at the target probe, exit 3.
    const run = cli('compare', ['--target', 'shop=http://127.0.0.1:1', '--engine', 'embedded', '--profile', 'smoke', '--out', out], {
      TMPDIR: tmp,
      AUTH_SECRET: 'cli-usage-secret-0123456789',
    });
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toMatch(/--target shop=http:\/\/127\.0\.0\.1:1 does not answer/);
    // The URL as the parser reads it, not as typed.
    const typed = cli('compare', ['--target', 'shop= HTTP://127.0.0.1:1/', '--engine', 'embedded', '--profile', 'smoke', '--out', out], {
      TMPDIR: tmp,
      AUTH_SECRET: 'cli-usage-secret-0123456789',
    });
    expect(typed.code, typed.stderr).toBe(3);
    expect(typed.stderr).toMatch(/--target shop=http:\/\/127\.0\.0\.1:1 does not answer/);
    expect(readdirSync(tmp).filter((entry) => entry.startsWith('archbench-logs-'))).toEqual([]);
    expect(existsSync(out)).toBe(false);
  });
});

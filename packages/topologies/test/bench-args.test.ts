import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BenchArgsError, benchUsage, parseBenchArgs, parseBenchNumber } from '../src/bench-args';
import { TSX_LOADER } from '../src/start-topology';

const options = { rounds: { type: 'string', default: '3' }, variants: { type: 'string' }, verbose: { type: 'boolean' } } as const;

describe('parseBenchArgs', () => {
  it('reads the flags with their defaults, with or without the `--` pnpm passes on', () => {
    expect(parseBenchArgs(options, [])).toEqual({ rounds: '3' });
    expect(parseBenchArgs(options, ['--rounds', '5', '--verbose'])).toEqual({ rounds: '5', verbose: true });
    expect(parseBenchArgs(options, ['--', '--rounds', '5', '--variants', 'off,full'])).toEqual({ rounds: '5', variants: 'off,full' });
  });

  it('names an unknown flag or a stray argument and shows the usage line', () => {
    expect(() => parseBenchArgs(options, ['--round', '5'])).toThrow(BenchArgsError);
    expect(() => parseBenchArgs(options, ['--round', '5'])).toThrow(/--round[\s\S]*usage: pnpm bench \[--rounds 3\] \[--variants <value>\] \[--verbose\]/);
    expect(() => parseBenchArgs(options, ['5'])).toThrow(/'5'/);
    expect(() => parseBenchArgs(options, ['--rounds'])).toThrow(/--rounds/);
  });

  it('shows every flag with its default', () => {
    expect(benchUsage(options)).toBe('[--rounds 3] [--variants <value>] [--verbose]');
  });
});

describe('parseBenchNumber', () => {
  it('reads a number of each kind', () => {
    expect(parseBenchNumber('duration', '2.5', 'positive')).toBe(2.5);
    expect(parseBenchNumber('warmup', '0', 'non-negative')).toBe(0);
    expect(parseBenchNumber('rounds', '8', 'count')).toBe(8);
  });

  it('names the flag and what it must be when the value does not fit', () => {
    expect(() => parseBenchNumber('duration', '0', 'positive')).toThrow('--duration must be a number > 0, got "0"');
    expect(() => parseBenchNumber('warmup', '-1', 'non-negative')).toThrow('--warmup must be a number ≥ 0, got "-1"');
    expect(() => parseBenchNumber('rounds', '2.5', 'count')).toThrow('--rounds must be a whole number ≥ 1, got "2.5"');
    expect(() => parseBenchNumber('rounds', 'five', 'count')).toThrow(BenchArgsError);
    expect(() => parseBenchNumber('rounds', '', 'count')).toThrow(BenchArgsError);
    expect(() => parseBenchNumber('duration', 'Infinity', 'positive')).toThrow(BenchArgsError);
  });
});

describe('benchArgs in a script', () => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', TSX_LOADER, join(import.meta.dirname, 'fixtures/bench-args-cli.ts'), ...args], { encoding: 'utf8' });

  it('takes the `--` pnpm passes on, and exits 2 with the message and usage line (no stack trace) on an unknown flag', () => {
    const ok = run('--', '--rounds', '7');
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ rounds: '7' });
    const bad = run('--round', '7');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("Unknown option '--round'");
    expect(bad.stderr).toContain('usage: pnpm bench [--rounds 3]');
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });
});

import { describe, expect, it } from 'vitest';
import { BenchArgsError, benchUsage, parseBenchArgs } from '../src/bench-args';

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

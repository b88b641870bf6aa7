import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_SHUTDOWN_DRAIN_MS, baseEnvSchema, parseEnv } from './env';

describe('SHUTDOWN_DRAIN_MS', () => {
  it('is 10 s unless set, and takes whole milliseconds from 0 to 600000', () => {
    expect(DEFAULT_SHUTDOWN_DRAIN_MS).toBe(10_000);
    expect(parseEnv(baseEnvSchema, {}).SHUTDOWN_DRAIN_MS).toBe(10_000);
    for (const [value, ms] of [
      ['35000', 35_000],
      ['0', 0],
      ['600000', 600_000],
    ] as const)
      expect(parseEnv(baseEnvSchema, { SHUTDOWN_DRAIN_MS: value }).SHUTDOWN_DRAIN_MS, value).toBe(ms);
  });

  // '' and '0x10' are numbers to Number() (0 and 16): a drain cut to nothing by a typo is refused instead.
  it.each(['-1', 'abc', '', ' ', '1.5', '1e4', '0x10', '600001', '35s'])('refuses %j at start, naming the variable and what it takes', (value) => {
    expect(() => parseEnv(baseEnvSchema, { SHUTDOWN_DRAIN_MS: value })).toThrow(ConfigError);
    expect(() => parseEnv(baseEnvSchema, { SHUTDOWN_DRAIN_MS: value })).toThrow(
      'invalid environment:\n  SHUTDOWN_DRAIN_MS: must be a whole number of milliseconds from 0 to 600000',
    );
  });
});

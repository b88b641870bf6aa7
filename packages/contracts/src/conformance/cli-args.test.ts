import { describe, expect, it } from 'vitest';
import { DEV_AUTH_SECRET } from '../tokens';
import { parseCliArgs } from './cli-args';

describe('parseCliArgs', () => {
  it('reads --base-url, --auth-secret and --only in both spellings', () => {
    expect(parseCliArgs(['--base-url', 'http://127.0.0.1:3000/', '--auth-secret=s3cret', '--only', 'health, orders'], {})).toEqual({
      kind: 'run',
      options: { baseUrl: 'http://127.0.0.1:3000', authSecret: 's3cret', only: ['health', 'orders'] },
    });
  });

  it('falls back to AUTH_SECRET, then to the development secret', () => {
    const fromEnv = parseCliArgs(['--base-url', 'http://localhost:1'], { AUTH_SECRET: 'from-env' });
    expect(fromEnv).toMatchObject({ kind: 'run', options: { authSecret: 'from-env' } });
    expect(parseCliArgs(['--base-url', 'http://localhost:1'], {})).toMatchObject({ kind: 'run', options: { authSecret: DEV_AUTH_SECRET } });
    expect(parseCliArgs(['--base-url', 'http://localhost:1', '--auth-secret', 'flag'], { AUTH_SECRET: 'env' })).toMatchObject({
      options: { authSecret: 'flag' },
    });
  });

  it.each([
    [[], '--base-url is required'],
    [['--base-url'], '--base-url needs a value'],
    [['--base-url', '--only', 'x'], '--base-url needs a value'],
    [['--base-url', 'localhost:3000'], '--base-url must be http:// or https://, got localhost:'],
    [['--base-url', 'not a url'], '--base-url "not a url" is not a URL'],
    [['--base-url', 'ftp://host'], '--base-url must be http:// or https://, got ftp:'],
    [['--base-url', 'http://h/?x=1'], '--base-url must not have a query or fragment'],
    [['--base-url', 'http://h', '--verbose'], 'unknown argument "--verbose"'],
    [['--base-url', 'http://h', '--base-url', 'http://i'], '--base-url given twice'],
    [['--base-url', 'http://h', '--only', ' , '], '--only needs at least one check name'],
    [['--base-url', 'http://h', '--auth-secret='], 'the auth secret is empty'],
  ])('rejects %j: %s', (argv, message) => {
    expect(parseCliArgs(argv, {})).toEqual({ kind: 'error', message });
  });

  it('answers --help and --list without a base URL', () => {
    expect(parseCliArgs(['--help'], {})).toEqual({ kind: 'help' });
    expect(parseCliArgs(['--list'], {})).toEqual({ kind: 'list' });
  });
});

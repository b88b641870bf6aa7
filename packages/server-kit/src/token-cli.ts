import { parseArgs } from 'node:util';
import { mintToken } from '@archbench/contracts/tokens';
import { ConfigError } from './env';

const USAGE = 'usage: pnpm dev-token [--sub ID] [--role customer|admin] [--ttl SECONDS]\n';

export interface TokenCliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

/**
 * `pnpm dev-token`: mints a development token with the server's AUTH_SECRET. Returns the exit code:
 * 0, or 2 for bad arguments or a bad environment (with a message, nothing printed on stdout).
 *   pnpm dev-token --sub alice            customer token, 1 hour
 *   pnpm dev-token --sub ops --role admin --ttl 86400
 * @example process.exitCode = runTokenCli(process.argv.slice(2), () => loadEnv().AUTH_SECRET)
 */
export function runTokenCli(
  args: string[],
  loadSecret: () => string,
  io: TokenCliIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) },
): number {
  let values: { sub: string; role: string; ttl: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        sub: { type: 'string', default: 'demo-customer' },
        role: { type: 'string', default: 'customer' },
        ttl: { type: 'string', default: '3600' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    io.err(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  if (values.role !== 'customer' && values.role !== 'admin') {
    io.err(`--role must be customer or admin, got ${values.role}\n`);
    return 2;
  }
  const ttl = Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl <= 0) {
    io.err(`--ttl must be a positive whole number of seconds, got ${values.ttl}\n`);
    return 2;
  }
  let secret: string;
  try {
    secret = loadSecret();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.err(`${error.message}\n`);
    return 2;
  }
  io.out(`${mintToken(secret, { sub: values.sub, role: values.role, expiresInSeconds: ttl })}\n`);
  return 0;
}

import { parseArgs } from 'node:util';
import { mintToken } from '@archbench/contracts/tokens';
import { ConfigError } from '@archbench/server-kit/env';
import { loadEnv } from '../env';

/**
 * Mints a development token with the gateway's AUTH_SECRET:
 *   pnpm token --sub alice            customer token, 1 hour
 *   pnpm token --sub ops --role admin --ttl 86400
 */
const { values } = parseArgs({
  options: {
    sub: { type: 'string', default: 'demo-customer' },
    role: { type: 'string', default: 'customer' },
    ttl: { type: 'string', default: '3600' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write('usage: pnpm token [--sub ID] [--role customer|admin] [--ttl SECONDS]\n');
  process.exit(0);
}
if (values.role !== 'customer' && values.role !== 'admin') {
  process.stderr.write(`--role must be customer or admin, got ${values.role}\n`);
  process.exit(2);
}
const ttl = Number(values.ttl);
if (!Number.isInteger(ttl) || ttl <= 0) {
  process.stderr.write(`--ttl must be a positive whole number of seconds, got ${values.ttl}\n`);
  process.exit(2);
}
try {
  process.stdout.write(`${mintToken(loadEnv().AUTH_SECRET, { sub: values.sub, role: values.role, expiresInSeconds: ttl })}\n`);
} catch (error) {
  process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
  process.exit(2);
}

import { runTokenCli } from '@archbench/server-kit/token-cli';
import { loadEnv } from '../env';

/** `pnpm --filter <this app> token [--sub ID] [--role customer|admin] [--ttl SECONDS]`: a dev token signed with this app's AUTH_SECRET. */
process.exitCode = runTokenCli(process.argv.slice(2), () => loadEnv().AUTH_SECRET);

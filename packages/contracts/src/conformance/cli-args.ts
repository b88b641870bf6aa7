import { DEV_AUTH_SECRET } from '../tokens';
import type { ConformanceOptions } from './index';

export const USAGE = `Usage: conformance --base-url URL [--auth-secret SECRET] [--only name,...] [--list]

Runs the archbench API conformance suite against a running server.
  --base-url URL       the server, e.g. http://127.0.0.1:3000 (required)
  --auth-secret S      the server's AUTH_SECRET (default: $AUTH_SECRET, else the development secret)
  --only a,b           run only these checks (exact names or group prefixes such as orders, bad-input)
  --list               print the check names and exit
Exit codes: 0 all checks passed, 1 a check failed, 2 bad arguments or unreachable server.`;

export type CliArgs = { kind: 'run'; options: Omit<ConformanceOptions, 'log'> } | { kind: 'help' } | { kind: 'list' } | { kind: 'error'; message: string };

/**
 * Parses the CLI's arguments (pure: the environment is passed in).
 * @example parseCliArgs(['--base-url', 'http://127.0.0.1:3000'], {}) // { kind: 'run', options: {...} }
 */
export function parseCliArgs(argv: readonly string[], env: Record<string, string | undefined>): CliArgs {
  const values: Record<string, string> = {};
  let list = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return { kind: 'help' };
    if (arg === '--list') {
      list = true;
      continue;
    }
    const match = /^--(base-url|auth-secret|only)(?:=(.*))?$/s.exec(arg);
    if (!match) return { kind: 'error', message: `unknown argument ${JSON.stringify(arg)}` };
    const name = match[1]!;
    let value = match[2];
    if (value === undefined) {
      value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) return { kind: 'error', message: `--${name} needs a value` };
      i++;
    }
    if (name in values) return { kind: 'error', message: `--${name} given twice` };
    values[name] = value;
  }
  if (list) return { kind: 'list' };

  const baseUrl = values['base-url'];
  if (baseUrl === undefined) return { kind: 'error', message: '--base-url is required' };
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return { kind: 'error', message: `--base-url ${JSON.stringify(baseUrl)} is not a URL` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { kind: 'error', message: `--base-url must be http:// or https://, got ${url.protocol}` };
  }
  if (url.search || url.hash) return { kind: 'error', message: '--base-url must not have a query or fragment' };

  const authSecret = values['auth-secret'] ?? env.AUTH_SECRET ?? DEV_AUTH_SECRET;
  if (authSecret.length === 0) return { kind: 'error', message: 'the auth secret is empty' };

  const only = values.only
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (values.only !== undefined && only?.length === 0) return { kind: 'error', message: '--only needs at least one check name' };
  return { kind: 'run', options: { baseUrl: url.toString().replace(/\/+$/, ''), authSecret, ...(only ? { only } : {}) } };
}

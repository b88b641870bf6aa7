import { z } from 'zod';
import { DEV_AUTH_SECRET } from '@archbench/contracts/tokens';

/**
 * A variable of the environment is wrong: a usage error like a bad argument (the CLIs print the
 * one-line message, no stack, and exit 2). The message names the variable, never its value.
 */
export class EnvError extends Error {
  override readonly name = 'EnvError';
}

/** An empty variable (`AMQP_URL= pnpm compare`) means the same as an unset one. */
const optionalText = z.preprocess((value) => (value === '' ? undefined : value), z.string().optional());

/**
 * Whether a text is a URL a RabbitMQ client takes: amqp:// or amqps:// with a host.
 * @example isAmqpUrl('amqp://guest:guest@127.0.0.1:5672') // true; isAmqpUrl('notaurl') // false
 */
export function isAmqpUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return (url.protocol === 'amqp:' || url.protocol === 'amqps:') && url.hostname !== '';
}

/** pnpm sets this to the folder it was started from; relative --out/--baseline (and check-results' FILE) resolve there. */
const initCwd = { INIT_CWD: optionalText };

/** The compare CLI's environment; with readAuthSecret, the one place in load/ that parses process.env. */
const schema = z.object({
  /**
   * A RabbitMQ URL enables microservices-amqp; empty or unset: no broker. Checked here, so a
   * malformed one is a usage error before anything starts (the message never shows it: it may
   * hold a password).
   */
  AMQP_URL: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z
      .string()
      .refine(isAmqpUrl, { message: 'must be an amqp:// or amqps:// URL with a host, e.g. amqp://guest:guest@127.0.0.1:5672 (empty or unset: no broker)' })
      .optional(),
  ),
  GITHUB_STEP_SUMMARY: optionalText,
  ...initCwd,
  PATH: z.string().default(''),
});
export type CompareEnv = z.infer<typeof schema>;

/** check-results reads one file: of the environment only INIT_CWD. */
const checkResultsSchema = z.object(initCwd);

function invalid(error: z.ZodError): EnvError {
  return new EnvError(`invalid environment: ${error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
}

/** The environment of `pnpm compare` (AUTH_SECRET apart: see readAuthSecret). */
export function loadCompareEnv(source: NodeJS.ProcessEnv = process.env): CompareEnv {
  const result = schema.safeParse(source);
  if (!result.success) throw invalid(result.error);
  return result.data;
}

/** The environment of `check-results`: INIT_CWD only (a bad AMQP_URL or AUTH_SECRET does not matter to it). */
export function loadCheckResultsEnv(source: NodeJS.ProcessEnv = process.env): z.infer<typeof checkResultsSchema> {
  const result = checkResultsSchema.safeParse(source);
  if (!result.success) throw invalid(result.error);
  return result.data;
}

/**
 * The servers' secret from AUTH_SECRET, else the development one. Read only when it is used (to
 * mint tokens, or to start servers with it): with `--auth-secret`, or `--token-file` against
 * targets, a bad AUTH_SECRET does not matter. Throws EnvError for one shorter than 16 characters,
 * as the servers refuse it.
 */
export function readAuthSecret(source: NodeJS.ProcessEnv = process.env): string {
  const value = source.AUTH_SECRET;
  if (value === undefined) return DEV_AUTH_SECRET;
  if (value.length < 16)
    throw new EnvError(
      `invalid environment: AUTH_SECRET must be at least 16 characters (it has ${value.length}); set the servers' secret, unset it for the development one, or pass --auth-secret SECRET`,
    );
  return value;
}

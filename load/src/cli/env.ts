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

/** The compare CLI's environment; with readAuthSecret, the one place in load/ that parses process.env. */
const schema = z.object({
  /** A RabbitMQ URL enables microservices-amqp; empty or unset: no broker. */
  AMQP_URL: optionalText,
  GITHUB_STEP_SUMMARY: optionalText,
  /** pnpm sets this to the folder it was started from; relative --out/--baseline resolve there. */
  INIT_CWD: optionalText,
  PATH: z.string().default(''),
});
export type CompareEnv = z.infer<typeof schema>;

function invalid(error: z.ZodError): EnvError {
  return new EnvError(`invalid environment: ${error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
}

/** The environment of `pnpm compare` and `check-results` (AUTH_SECRET apart: see readAuthSecret). */
export function loadCompareEnv(source: NodeJS.ProcessEnv = process.env): CompareEnv {
  const result = schema.safeParse(source);
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

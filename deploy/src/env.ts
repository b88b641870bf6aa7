import { z } from 'zod';

/** The deploy scripts' environment; the only place in deploy/ that reads process.env. */
const schema = z.object({
  /** pnpm sets this to the folder it was started from; a relative --out resolves there. */
  INIT_CWD: z.string().min(1).optional(),
  PATH: z.string().default(''),
  /** Seconds of load per topology in `pnpm --filter @archbench/deploy measure`. */
  MEASURE_SECONDS: z.coerce.number().int().min(3).max(600).default(20),
});
export type DeployEnv = z.infer<typeof schema>;

/** Reads and validates the environment; throws naming every bad variable. */
export function loadDeployEnv(source: NodeJS.ProcessEnv = process.env): DeployEnv {
  const result = schema.safeParse(source);
  if (!result.success) throw new Error(`invalid environment: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return result.data;
}

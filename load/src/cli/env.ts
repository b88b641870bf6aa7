import { z } from 'zod';
import { DEV_AUTH_SECRET } from '@archbench/contracts/tokens';

/** The compare CLI's environment; the only place in load/ that reads process.env. */
const schema = z.object({
  AUTH_SECRET: z.string().min(16, 'AUTH_SECRET must be at least 16 characters').default(DEV_AUTH_SECRET),
  AMQP_URL: z.string().min(1).optional(),
  GITHUB_STEP_SUMMARY: z.string().min(1).optional(),
  /** pnpm sets this to the folder it was started from; relative --out/--baseline resolve there. */
  INIT_CWD: z.string().min(1).optional(),
  PATH: z.string().default(''),
});
export type CompareEnv = z.infer<typeof schema>;

export function loadCompareEnv(source: NodeJS.ProcessEnv = process.env): CompareEnv {
  const result = schema.safeParse(source);
  if (!result.success) throw new Error(`invalid environment: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return result.data;
}

import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);

/**
 * The launcher's configuration (`pnpm start:<topology>`), the only place this package reads
 * process.env. Everything else in the environment passes through to the children unchanged
 * (AUTH_SECRET, DATABASE_URL, AMQP_URL, TRANSPORT, PAYMENT_*, OTEL_* …).
 */
const launcherEnvSchema = z.object({
  /** Public port; the other processes take PORT+1..PORT+4. Default: the topology's own. */
  PORT: port.optional(),
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Databases (SQLite files); default `data/<topology>` under the directory you started from. */
  DATA_DIR: z.string().min(1).optional(),
  /** The supervisor's GET /metrics and /processes; default PORT+9, `off` for none. */
  SUPERVISOR_PORT: z.union([z.literal('off'), port]).optional(),
  RUNNER: z.enum(['bundle', 'tsx']).default('bundle'),
  /** Where `pnpm` was started from (pnpm sets it), so a relative DATA_DIR means what the user meant. */
  INIT_CWD: z.string().optional(),
});
export type LauncherEnv = z.infer<typeof launcherEnvSchema>;

export class LauncherConfigError extends Error {
  override readonly name = 'LauncherConfigError';
}

/** Parses the launcher's environment; throws LauncherConfigError naming every bad variable. */
export function loadLauncherEnv(source: NodeJS.ProcessEnv = process.env): LauncherEnv {
  const result = launcherEnvSchema.safeParse(source);
  if (!result.success) {
    throw new LauncherConfigError(`invalid environment: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return result.data;
}

/** The variable that moves a process off PORT+offset. @example portVariable('payments') // 'PAYMENTS_PORT' */
export function portVariable(processName: string): string {
  return `${processName.toUpperCase().replace(/-/g, '_')}_PORT`;
}

/**
 * `<PROCESS>_PORT` (INVENTORY_PORT, PAYMENTS_PORT …) for each non-public process that has one:
 * a port instead of PORT+offset.
 * @example processPorts(['inventory'], { INVENTORY_PORT: '4001' }) // { inventory: 4001 }
 */
export function processPorts(names: readonly string[], source: NodeJS.ProcessEnv = process.env): Record<string, number> {
  const ports: Record<string, number> = {};
  for (const name of names) {
    const variable = portVariable(name);
    if (source[variable] === undefined || source[variable] === '') continue;
    const parsed = port.safeParse(source[variable]);
    if (!parsed.success) throw new LauncherConfigError(`invalid environment: ${variable} must be a port number, got ${JSON.stringify(source[variable])}`);
    ports[name] = parsed.data;
  }
  return ports;
}

/** The environment the children start from (everything, unchanged). */
export function childEnvironment(): NodeJS.ProcessEnv {
  return { ...process.env };
}

/**
 * The command the user typed, as pnpm tells its scripts (`npm_lifecycle_event`,
 * `npm_package_name`): `pnpm start:monolith` from the root, `pnpm --filter @archbench/monolith
 * start` from an app; undefined when the bin was run directly.
 * @example invokedAs({ npm_lifecycle_event: 'start:monolith', npm_package_name: 'archbench' }) // 'pnpm start:monolith'
 */
export function invokedAs(source: NodeJS.ProcessEnv = process.env): string | undefined {
  const script = source.npm_lifecycle_event;
  if (!script) return undefined;
  const name = source.npm_package_name;
  return !name || name === 'archbench' ? `pnpm ${script}` : `pnpm --filter ${name} ${script}`;
}

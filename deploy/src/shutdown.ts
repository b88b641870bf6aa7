import { DEFAULT_SHUTDOWN_DRAIN_MS, baseEnvSchema } from '@archbench/server-kit/env';
import { DEPLOYABLES } from './deployables';

/** Deployables that run a server-kit server (serveWithShutdown, SHUTDOWN_DRAIN_MS): every server image. */
export const SERVER_KIT_DEPLOYABLES: ReadonlySet<string> = new Set(DEPLOYABLES.filter((d) => d.dockerfile === 'server.Dockerfile').map((d) => d.name));

/**
 * Seconds a server takes after its drain to close what it holds before it exits: the database,
 * the broker, spans still to export; the microservices' orders service waits up to 5 s for the
 * sagas it drives. A grace period before SIGKILL must leave this on top of the drain.
 */
export const SHUTDOWN_CLOSE_SECONDS = 5;

/**
 * A server's drain in seconds, from its SHUTDOWN_DRAIN_MS as the server itself parses it (its
 * 10 s default when `value` is undefined), or the reason the server would refuse it at start.
 * @example drainSeconds('35000') // { seconds: 35 }
 */
export function drainSeconds(value: string | undefined): { seconds: number } | { refused: string } {
  const drain = baseEnvSchema.shape.SHUTDOWN_DRAIN_MS.safeParse(value);
  if (!drain.success) return { refused: `SHUTDOWN_DRAIN_MS=${JSON.stringify(value)} is refused by the server (${drain.error.issues[0]?.message})` };
  return { seconds: drain.data / 1000 };
}

/**
 * How long a local runner (runStandalone) waits after SIGTERM before SIGKILL for a server started
 * with `env`, ms: its drain (10 s when SHUTDOWN_DRAIN_MS is unset or refused), the
 * SHUTDOWN_CLOSE_SECONDS a grace period leaves to close, and 5 s more for a busy machine; the
 * same as the `pnpm start` supervisor's wait (childStopTimeoutMs in @archbench/topologies).
 * @example stopTimeoutMs({ SHUTDOWN_DRAIN_MS: '35000' }) // 45000
 */
export function stopTimeoutMs(env: Record<string, string | undefined>): number {
  const drain = drainSeconds(env.SHUTDOWN_DRAIN_MS);
  const seconds = 'seconds' in drain ? drain.seconds : DEFAULT_SHUTDOWN_DRAIN_MS / 1000;
  return (seconds + SHUTDOWN_CLOSE_SECONDS + 5) * 1000;
}

import { randomBytes } from 'node:crypto';
import { deleteAmqpTopology } from '@archbench/microservices/transport';
import { AMQP_TEST_URL, createTestDatabase, dropDatabases, skipUnlessReachable, testTokens } from '@archbench/server-kit/testing';
import { startTopology } from '@archbench/topologies';
import type { RunningTopology, StartTopologyOptions } from '@archbench/topologies';

export const AUTH_SECRET = `hybrid-test-${randomBytes(12).toString('hex')}`;

export interface Setup {
  transport: 'http' | 'amqp';
  database: 'sqlite' | 'postgres';
  /** Extra environment of both processes (PAYMENT_*, …). */
  env?: Record<string, string>;
  restart?: StartTopologyOptions['restart'];
}

export interface RunningHybrid {
  topology: RunningTopology;
  baseUrl: string;
  stop(): Promise<void>;
}

export { api } from '@archbench/server-kit/testing';
/** True (after saying why) when the setup needs a server that is not there. */
export const skipSetup = (setup: Pick<Setup, 'transport' | 'database'>) => skipUnlessReachable(setup);

/**
 * Starts the hybrid topology (core + shipping) through @archbench/topologies on free ports, with
 * a fresh temp DATA_DIR, a fresh PostgreSQL database (the shipping service derives
 * `<name>_shipping` from it) and a fresh AMQP prefix when asked. `stop()` removes all of it.
 */
export async function startHybrid(setup: Setup): Promise<RunningHybrid> {
  const prefix = `archbench-hybrid-test-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const database = setup.database === 'postgres' ? await createTestDatabase('archbench_hybrid') : undefined;
  const cleanup = async () => {
    if (setup.transport === 'amqp') await deleteAmqpTopology(AMQP_TEST_URL, prefix).catch(() => undefined);
    if (database) {
      await dropDatabases([`${new URL(database.url).pathname.slice(1)}_shipping`]);
      await database.drop();
    }
  };
  let topology: RunningTopology;
  try {
    topology = await startTopology('hybrid', {
      port: 0,
      authSecret: AUTH_SECRET,
      logLevel: process.env.TEST_LOG_LEVEL ?? 'warn',
      databaseUrl: database?.url,
      amqpUrl: setup.transport === 'amqp' ? AMQP_TEST_URL : undefined,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        TRANSPORT: setup.transport,
        ...(setup.transport === 'amqp' ? { AMQP_PREFIX: prefix } : {}),
        ...setup.env,
      },
      output: process.env.TEST_LOG_LEVEL ? 'inherit' : 'capture',
      restart: setup.restart,
    });
  } catch (error) {
    await cleanup();
    throw error;
  }
  return {
    topology,
    baseUrl: topology.baseUrl,
    async stop() {
      await topology.stop();
      await cleanup();
    },
  };
}

export const { customerToken, adminToken } = testTokens(AUTH_SECRET);

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { AMQP_TEST_URL, createTestDatabase, dropDatabases, skipUnlessReachable, testTokens } from '@archbench/server-kit/testing';
import { startTopology } from '@archbench/topologies';
import type { RunningTopology } from '@archbench/topologies';
import { SERVICE_NAMES } from '../src/env';
import type { ServiceName } from '../src/env';
import { deleteAmqpTopology } from '../src/shared/transport';
import { internalToken } from '../src/shared/service-app';

export const AUTH_SECRET = 'microservices-test-secret-0123456789';

export interface Setup {
  transport: 'http' | 'amqp';
  database: 'sqlite' | 'postgres';
  /** Extra environment for every process (PAYMENT_*, breaker settings ...). */
  env?: Record<string, string>;
  /**
   * Restart a process that exits, as the launcher does (default true); false leaves a killed
   * process down until the test calls `topology.start(name)`.
   */
  supervise?: boolean;
}

/** The supervised microservices: `urls.<process>`, `kill(name, signal)`, `start(name)`, `processes` (restarts). */
export type MicroservicesTopology = RunningTopology & { readonly urls: Readonly<Record<'gateway' | ServiceName, string>> };

export interface Running {
  topology: MicroservicesTopology;
  gateway: string;
  dataDir: string;
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export { api } from '@archbench/server-kit/testing';
/** True (after saying why) when the setup needs a server that is not there. */
export const skipSetup = (setup: Pick<Setup, 'transport' | 'database'>) => skipUnlessReachable(setup);

/**
 * Starts gateway + services through @archbench/topologies (the launcher's own definition and
 * supervisor) on free ports with a temp DATA_DIR (and a fresh PostgreSQL database / AMQP prefix when asked).
 */
export async function startSystem(setup: Setup): Promise<Running> {
  const dataDir = mkdtempSync(join(tmpdir(), 'archbench-ms-'));
  const prefix = `archbench-test-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const database = setup.database === 'postgres' ? await createTestDatabase('archbench_ms') : undefined;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    AUTH_SECRET,
    DATA_DIR: dataDir,
    TRANSPORT: setup.transport,
    ...(setup.transport === 'amqp' ? { AMQP_URL: AMQP_TEST_URL, AMQP_PREFIX: prefix } : {}),
    ...(database ? { DATABASE_URL: database.url } : {}),
    ...setup.env,
  };
  let topology: MicroservicesTopology;
  try {
    topology = (await startTopology(`microservices-${setup.transport}`, {
      env,
      port: 0,
      dataDir,
      output: process.env.TEST_LOG_LEVEL ? 'inherit' : 'capture',
      restart: setup.supervise === false ? false : undefined,
    })) as MicroservicesTopology;
  } catch (error) {
    await cleanup();
    throw error;
  }
  async function cleanup() {
    rmSync(dataDir, { recursive: true, force: true });
    if (setup.transport === 'amqp') await deleteAmqpTopology(AMQP_TEST_URL, prefix).catch(() => undefined);
    if (database) {
      const base = new URL(database.url).pathname.slice(1);
      await dropDatabases(SERVICE_NAMES.map((service) => `${base}_${service}`));
      await database.drop();
    }
  }
  return {
    topology,
    gateway: topology.baseUrl,
    dataDir,
    env,
    async stop() {
      await topology.stop();
      await cleanup();
    },
  };
}

export const { customerToken, adminToken } = testTokens(AUTH_SECRET);

/**
 * Starts the system for the suite (unless its servers are missing) and stops it after; `system()`
 * is the running system inside a test.
 * @example const { skip, system } = await useSystem(setup); it.skipIf(skip)('…', async () => system().gateway)
 */
export async function useSystem(setup: Setup): Promise<{ skip: boolean; system: () => Running }> {
  const skip = await skipSetup(setup);
  let running: Running | undefined;
  beforeAll(async () => {
    if (!skip) running = await startSystem(setup);
  });
  afterAll(async () => {
    await running?.stop();
  });
  return {
    skip,
    system: () => {
      if (!running) throw new Error('the system is not running (skipped, or beforeAll failed)');
      return running;
    },
  };
}

/** A call straight to a service, as another service would make it. */
export function internalHeaders(): Record<string, string> {
  return { 'x-archbench-internal': internalToken(AUTH_SECRET) };
}

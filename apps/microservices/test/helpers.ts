import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { mintToken } from '@archbench/contracts/tokens';
import { AMQP_TEST_URL, PG_ADMIN_URL, createTestDatabase, postgresReachable, shouldSkip } from '@archbench/server-kit/testing';
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

export async function amqpReachable(): Promise<boolean> {
  const { connect } = await import('amqplib');
  try {
    const connection = await connect(AMQP_TEST_URL);
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

/** True (after saying why) when the setup needs a server that is not there. */
export async function skipSetup(setup: Setup): Promise<boolean> {
  if (setup.database === 'postgres' && (await shouldSkip('PostgreSQL', postgresReachable))) return true;
  if (setup.transport === 'amqp' && (await shouldSkip('RabbitMQ', amqpReachable))) return true;
  return false;
}

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
      await dropDerivedDatabases(new URL(database.url).pathname.slice(1));
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

async function dropDerivedDatabases(base: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    for (const service of SERVICE_NAMES) await client.query(`drop database if exists "${base}_${service}" with (force)`);
  } finally {
    await client.end();
  }
}

export const customerToken = (sub = `c-${randomBytes(4).toString('hex')}`) => mintToken(AUTH_SECRET, { sub });
export const adminToken = () => mintToken(AUTH_SECRET, { sub: 'ops', role: 'admin' });

/** A JSON call with a bearer token; returns status, headers and parsed body. */
export async function api<T = unknown>(
  base: string,
  method: string,
  path: string,
  options: { token?: string; json?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.json !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    body: options.json === undefined ? undefined : JSON.stringify(options.json),
    signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as T };
}

/** A call straight to a service, as another service would make it. */
export function internalHeaders(): Record<string, string> {
  return { 'x-archbench-internal': internalToken(AUTH_SECRET) };
}

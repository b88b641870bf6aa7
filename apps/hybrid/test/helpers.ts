import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { mintToken } from '@archbench/contracts/tokens';
import { deleteAmqpTopology } from '@archbench/microservices/transport';
import { AMQP_TEST_URL, PG_ADMIN_URL, createTestDatabase, postgresReachable, shouldSkip } from '@archbench/server-kit/testing';
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
export async function skipSetup(setup: Pick<Setup, 'transport' | 'database'>): Promise<boolean> {
  if (setup.database === 'postgres' && (await shouldSkip('PostgreSQL', postgresReachable))) return true;
  if (setup.transport === 'amqp' && (await shouldSkip('RabbitMQ', amqpReachable))) return true;
  return false;
}

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
      await dropDatabase(`${new URL(database.url).pathname.slice(1)}_shipping`);
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

async function dropDatabase(name: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(`drop database if exists "${name}" with (force)`);
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

import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * Test helpers for real servers. Tests that need PostgreSQL or RabbitMQ skip with a clear
 * message when the server is unreachable, unless ARCHBENCH_REQUIRE_SERVICES=1 (CI), where an
 * unreachable server fails the run instead.
 */
// Tests are the one place besides env.ts that read the environment: they configure themselves.
// eslint-disable-next-line no-restricted-properties -- test-only module, imported by tests alone
const env = process.env;

export const PG_ADMIN_URL = env.PG_TEST_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const AMQP_TEST_URL = env.AMQP_TEST_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
export const servicesRequired = env.ARCHBENCH_REQUIRE_SERVICES === '1';

export async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

/**
 * Decides whether a suite that needs a server runs. Returns true to skip (and says why), throws
 * when services are required but unreachable.
 */
export async function shouldSkip(name: string, reachable: () => Promise<boolean>): Promise<boolean> {
  if (await reachable()) return false;
  const message = `${name} is unreachable; set ARCHBENCH_REQUIRE_SERVICES=1 to make this a failure`;
  if (servicesRequired) throw new Error(`${name} is required (ARCHBENCH_REQUIRE_SERVICES=1) but unreachable`);
  process.stderr.write(`SKIP: ${message}\n`);
  return true;
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Creates a fresh, uniquely named PostgreSQL database; `drop()` removes it. */
export async function createTestDatabase(prefix = 'archbench'): Promise<TestDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`drop database if exists "${name}" with (force)`);
      await c.end();
    },
  };
}

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { conformanceChecks } from '@archbench/contracts/conformance';
import type { ConformanceCheck } from '@archbench/contracts/conformance';
import { createLogger } from '@archbench/observability/logging';
import { listen } from '@archbench/server-kit/serve';
import { createTestDatabase, postgresReachable, shouldSkip } from '@archbench/server-kit/testing';
import type { TestDatabase } from '@archbench/server-kit/testing';
import { createApp } from '../src/app';
import { openMonolithDatabase } from '../src/db';
import { loadEnv } from '../src/env';

/**
 * The API conformance suite against the real monolith over real HTTP (ephemeral port, fresh
 * SQLite file or fresh PostgreSQL database), one vitest case per check.
 */

// The names are known at collection time; the base URL only once the server listens.
const CHECK_NAMES = conformanceChecks({ baseUrl: 'http://127.0.0.1:9', authSecret: 'unused' }).map((c) => c.name);

interface RunningMonolith {
  baseUrl: string;
  authSecret: string;
  stop(): Promise<void>;
}

async function startMonolith(databaseUrl?: string): Promise<RunningMonolith> {
  const dataDir = mkdtempSync(join(tmpdir(), 'archbench-conformance-'));
  // A non-default secret proves the suite signs with the secret it is given.
  const authSecret = `conformance-${randomBytes(16).toString('hex')}`;
  const env = loadEnv({
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    AUTH_SECRET: authSecret,
    LOG_LEVEL: 'silent',
    // orders.slow relies on tok_slow outlasting `Prefer: wait=1`.
    PAYMENT_SLOW_MS: '1500',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  });
  const logger = createLogger({ service: 'monolith-conformance', level: 'silent' });
  const database = await openMonolithDatabase(env);
  const { app, catalog, orders } = createApp({ env, db: database.db, logger });
  await catalog.seed();
  // As main.ts serves it (serveWithShutdown without the signal handling).
  const { server, port } = await listen(app, { port: 0, host: '127.0.0.1' });
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    authSecret,
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await orders.drain();
      await database.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function conformanceSuite(label: string, start: () => Promise<RunningMonolith>) {
  describe(`monolith conformance (${label})`, () => {
    let monolith: RunningMonolith | undefined;
    let checks = new Map<string, ConformanceCheck>();

    beforeAll(async () => {
      monolith = await start();
      checks = new Map(conformanceChecks({ baseUrl: monolith.baseUrl, authSecret: monolith.authSecret }).map((c) => [c.name, c]));
    });
    afterAll(async () => {
      await monolith?.stop();
    });

    for (const name of CHECK_NAMES) {
      it(name, async () => {
        const check = checks.get(name);
        if (!check) throw new Error(`check ${name} was not built; did the server start?`);
        await check.run();
      });
    }
  });
}

conformanceSuite('SQLite', () => startMonolith());

const skipPostgres = await shouldSkip('PostgreSQL', postgresReachable);
describe.skipIf(skipPostgres)('on PostgreSQL', () => {
  let database: TestDatabase | undefined;
  afterAll(async () => {
    await database?.drop();
  });
  conformanceSuite('PostgreSQL', async () => {
    database = await createTestDatabase('archbench_conformance');
    return startMonolith(database.url);
  });
});

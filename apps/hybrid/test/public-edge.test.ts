import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InternalHttpClient } from '@archbench/microservices/http-client';
import { createLogger } from '@archbench/observability/logging';
import { publicEdgeMismatches } from '@archbench/server-kit/edge-conformance';
import { createApp } from '../src/app';
import { openCoreDatabase } from '../src/db';
import { loadEnv } from '../src/env';

// The shared public-edge table (server-kit/edge-conformance), as the monolith and the gateway run it.
const ORIGIN = 'http://console.test';
const dataDir = mkdtempSync(join(tmpdir(), 'archbench-edge-'));

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('hybrid core public edge', () => {
  it('answers the shared security headers, CORS exposed headers and 413 rule', async () => {
    const env = loadEnv({ NODE_ENV: 'test', DATA_DIR: dataDir, LOG_LEVEL: 'silent', CORS_ORIGINS: ORIGIN });
    const database = await openCoreDatabase(env);
    try {
      // No shipping service runs: the edge answers every case before shipping is asked anything.
      const client = new InternalHttpClient({ peers: {}, timeoutMs: 100, attempts: 1, internalToken: 'unused' });
      const { app } = createApp({
        env,
        db: database.db,
        logger: createLogger({ service: 'edge-test', level: 'silent' }),
        publisher: { publish: async () => {} },
        client,
      });
      expect(await publicEdgeMismatches((path, init) => app.request(path, init), ORIGIN)).toEqual([]);
    } finally {
      await database.close();
    }
  });
});

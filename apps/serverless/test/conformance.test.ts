import { afterAll, beforeAll, describe, it } from 'vitest';
import { conformanceChecks } from '@archbench/contracts/conformance';
import type { ConformanceCheck } from '@archbench/contracts/conformance';
import { startTopology } from '@archbench/topologies';
import type { RunningTopology } from '@archbench/topologies';
import { AUTH_SECRET } from './helpers';

/**
 * The API conformance suite against the serverless app as `pnpm start:serverless` runs it:
 * started through @archbench/topologies (the launcher bundled, one workerd process running the
 * three workers, D1 and queue state in a fresh DATA_DIR), one vitest case per check.
 */
const CHECK_NAMES = conformanceChecks({ baseUrl: 'http://127.0.0.1:9', authSecret: 'unused' }).map((c) => c.name);

describe('serverless conformance (workerd, D1, Queues)', () => {
  let topology: RunningTopology | undefined;
  let checks = new Map<string, ConformanceCheck>();

  beforeAll(async () => {
    // orders.slow relies on tok_slow outlasting `Prefer: wait=1`.
    topology = await startTopology('serverless', { port: 0, authSecret: AUTH_SECRET, logLevel: 'warn', output: 'capture', env: { PAYMENT_SLOW_MS: '1500' } });
    checks = new Map(conformanceChecks({ baseUrl: topology.baseUrl, authSecret: AUTH_SECRET }).map((c) => [c.name, c]));
  }, 180_000);
  afterAll(async () => {
    await topology?.stop();
  });

  for (const name of CHECK_NAMES) {
    it(name, async () => {
      const check = checks.get(name);
      if (!check) throw new Error(`check ${name} was not built; did the serverless app start?`);
      await check.run();
    });
  }
});

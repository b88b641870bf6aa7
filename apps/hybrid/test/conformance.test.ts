import { afterAll, beforeAll, describe, it } from 'vitest';
import { conformanceChecks } from '@archbench/contracts/conformance';
import type { ConformanceCheck } from '@archbench/contracts/conformance';
import { AUTH_SECRET, skipSetup, startHybrid } from './helpers';
import type { RunningHybrid, Setup } from './helpers';

/**
 * The API conformance suite against the real hybrid (core + shipping processes, started through
 * @archbench/topologies) on SQLite and PostgreSQL, with events over HTTP and RabbitMQ.
 */
const CHECK_NAMES = conformanceChecks({ baseUrl: 'http://127.0.0.1:9', authSecret: 'unused' }).map((c) => c.name);

const setups: Array<Pick<Setup, 'transport' | 'database'>> = [
  { transport: 'http', database: 'sqlite' },
  { transport: 'amqp', database: 'sqlite' },
  { transport: 'http', database: 'postgres' },
  { transport: 'amqp', database: 'postgres' },
];

for (const setup of setups) {
  describe(`hybrid conformance (${setup.database} + ${setup.transport})`, async () => {
    const skip = await skipSetup(setup);
    let hybrid: RunningHybrid | undefined;
    let checks = new Map<string, ConformanceCheck>();
    beforeAll(async () => {
      if (skip) return;
      // orders.slow relies on tok_slow outlasting `Prefer: wait=1`.
      hybrid = await startHybrid({ ...setup, env: { PAYMENT_SLOW_MS: '1500' } });
      checks = new Map(conformanceChecks({ baseUrl: hybrid.baseUrl, authSecret: AUTH_SECRET }).map((c) => [c.name, c]));
    });
    afterAll(async () => {
      await hybrid?.stop();
    });
    for (const name of CHECK_NAMES) {
      it.skipIf(skip)(name, async () => {
        const check = checks.get(name);
        if (!check) throw new Error(`check ${name} was not built; did the hybrid start?`);
        await check.run();
      });
    }
  });
}

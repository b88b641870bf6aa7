import { afterAll, beforeAll, describe, it } from 'vitest';
import { conformanceChecks } from '@archbench/contracts/conformance';
import { AUTH_SECRET, skipSetup, startSystem } from './helpers';
import type { Running, Setup } from './helpers';

/**
 * The contract suite both reference apps must pass, against the gateway, once per transport and
 * database: the comparison should see the architecture only, never a behaviour difference.
 */
const setups: Setup[] = [
  { transport: 'http', database: 'sqlite' },
  { transport: 'amqp', database: 'sqlite' },
  { transport: 'http', database: 'postgres' },
  { transport: 'amqp', database: 'postgres' },
];

for (const setup of setups) {
  describe(`conformance: ${setup.transport} + ${setup.database}`, async () => {
    const skip = await skipSetup(setup);
    let system: Running | undefined;
    let baseUrl = '';
    beforeAll(async () => {
      if (skip) return;
      system = await startSystem(setup);
      baseUrl = system.gateway;
    });
    afterAll(async () => {
      await system?.stop();
    });
    // The checks read baseUrl when they run, after beforeAll started the system.
    const checks = conformanceChecks({ baseUrl: 'http://placeholder.invalid', authSecret: AUTH_SECRET });
    for (const check of checks) {
      it.skipIf(skip)(check.name, async () => {
        const bound = conformanceChecks({ baseUrl, authSecret: AUTH_SECRET, only: [check.name] });
        for (const c of bound) await c.run();
      });
    }
  });
}

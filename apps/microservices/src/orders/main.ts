import { openServiceDatabase } from '../shared/database';
import { runProcess } from '../shared/run';
import { createOrdersApp } from './app';
import { migrations } from './schema';
import type { OrdersTables } from './schema';

runProcess('orders', async ({ env, obs, transport, internalToken }) => {
  const database = await openServiceDatabase<OrdersTables>(env, 'orders', migrations);
  const service = createOrdersApp({
    db: database.db,
    obs,
    dialect: database.dialect,
    transport: transport!,
    internalToken,
    sweepMs: env.SAGA_SWEEP_MS,
    deadlineMs: env.SAGA_DEADLINE_MS,
  });
  return {
    app: service.app,
    start: service.start,
    stop: async () => {
      await service.stop();
      await database.close();
    },
  };
});

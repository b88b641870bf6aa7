import { openServiceDatabase } from '../shared/database';
import { runProcess } from '../shared/run';
import { createPaymentsApp } from './app';
import { migrations } from './schema';
import type { PaymentsTables } from './schema';

runProcess('payments', async ({ env, obs, transport, internalToken }) => {
  const database = await openServiceDatabase<PaymentsTables>(env, 'payments', migrations);
  const service = createPaymentsApp({ env, db: database.db, obs, dialect: database.dialect, transport: transport!, internalToken });
  return {
    app: service.app,
    start: service.start,
    stop: async () => {
      await service.payments.drain();
      await database.close();
    },
  };
});

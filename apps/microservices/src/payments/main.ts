import { openServiceDatabase } from '../shared/database';
import { runProcess } from '../shared/run';
import { createPaymentsApp } from './app';
import { migrations } from './schema';
import type { PaymentsTables } from './schema';

runProcess('payments', async ({ env, logger, transport, internalToken }) => {
  const database = await openServiceDatabase<PaymentsTables>(env, 'payments', migrations);
  const service = createPaymentsApp({ env, db: database.db, logger, transport: transport!, internalToken });
  return {
    app: service.app,
    start: service.start,
    stop: async () => {
      await service.payments.drain();
      await database.close();
    },
  };
});

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
    start: async () => {
      await service.start();
      // Refunds of late captures a stopped process left PENDING: no saga asks for them again.
      service.payments.resumeLateCaptureRefunds().catch((error: unknown) => obs.logger.error({ err: error }, "resuming late captures' refunds failed"));
    },
    stop: async () => {
      await service.stop();
      await database.close();
    },
  };
});

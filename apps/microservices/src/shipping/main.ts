import { openServiceDatabase } from '../shared/database';
import { runProcess } from '../shared/run';
import { createShippingApp } from './app';
import { migrations } from './schema';
import type { ShippingTables } from './schema';

runProcess('shipping', async ({ env, obs, transport, internalToken }) => {
  const database = await openServiceDatabase<ShippingTables>(env, 'shipping', migrations);
  const service = createShippingApp({ db: database.db, obs, dialect: database.dialect, transport: transport!, internalToken });
  return { app: service.app, start: service.start, stop: () => database.close() };
});

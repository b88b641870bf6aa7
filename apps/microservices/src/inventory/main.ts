import { openServiceDatabase } from '../shared/database';
import { runProcess } from '../shared/run';
import { createInventoryApp } from './app';
import { migrations } from './schema';
import type { InventoryTables } from './schema';

runProcess('inventory', async ({ env, obs, transport, internalToken }) => {
  const database = await openServiceDatabase<InventoryTables>(env, 'inventory', migrations);
  const service = createInventoryApp({ db: database.db, obs, dialect: database.dialect, transport: transport!, internalToken });
  await service.inventory.seed();
  return { app: service.app, start: service.start, stop: () => database.close() };
});

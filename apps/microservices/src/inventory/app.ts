import type { Kysely } from 'kysely';
import { ping } from '@archbench/server-kit/db';
import { unroutedHandler } from '@archbench/server-kit/http';
import { createServiceApp } from '../shared/service-app';
import type { Observability } from '../shared/service-app';
import { observedDb } from '../shared/database';
import { bindService } from '../shared/transport';
import type { Transport } from '../shared/transport';
import { createInventoryRepository } from './repository';
import { inventoryRoutes } from './routes';
import type { InventoryTables } from './schema';
import { createInventory } from './service';

export interface InventoryAppDeps {
  db: Kysely<InventoryTables>;
  obs: Observability;
  dialect: 'sqlite' | 'postgres';
  transport: Transport;
  internalToken: string;
}

/** The inventory service: catalog routes, reserve/release commands (bound once: HTTP routes and AMQP consumers). */
export function createInventoryApp({ db: rawDb, obs, dialect, transport, internalToken }: InventoryAppDeps) {
  const inventory = createInventory(createInventoryRepository(observedDb(rawDb, obs, dialect)));
  const app = createServiceApp({ service: 'inventory', ...obs, internalToken, checks: { database: () => ping(rawDb), transport: () => transport.healthy() } });
  app.route('/', inventoryRoutes(inventory));
  // A wrong method on one of its routes (admin, internal): 405 with Allow, as on the public API.
  app.notFound(unroutedHandler(app, obs));
  return { app, inventory, start: bindService(app, transport, 'inventory', { command: (command) => inventory.handle(command) }) };
}

import type { Kysely } from 'kysely';
import type { Logger } from '@archbench/observability/logging';
import { ping } from '@archbench/server-kit/db';
import { createServiceApp } from '../shared/service-app';
import { internalRoutes } from '../shared/transport';
import type { Transport } from '../shared/transport';
import { createInventoryRepository } from './repository';
import { inventoryRoutes } from './routes';
import type { InventoryTables } from './schema';
import { createInventory } from './service';

export interface InventoryAppDeps {
  db: Kysely<InventoryTables>;
  logger: Logger;
  transport: Transport;
  internalToken: string;
}

/** The inventory service: catalog routes, reserve/release commands (HTTP routes; AMQP via transport.listen). */
export function createInventoryApp({ db, logger, transport, internalToken }: InventoryAppDeps) {
  const inventory = createInventory(createInventoryRepository(db));
  const app = createServiceApp({ service: 'inventory', logger, internalToken, checks: { database: () => ping(db), transport: () => transport.healthy() } });
  app.route('/', inventoryRoutes(inventory));
  app.route('/', internalRoutes({ command: (command) => inventory.handle(command) }));
  return { app, inventory, start: () => transport.listen('inventory', { command: (command) => inventory.handle(command) }) };
}

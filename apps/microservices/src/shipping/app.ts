import type { Kysely } from 'kysely';
import { ping } from '@archbench/server-kit/db';
import { unroutedHandler } from '@archbench/server-kit/http';
import { PoisonMessageError } from '../shared/messages';
import type { ServiceEvent } from '../shared/messages';
import { createServiceApp } from '../shared/service-app';
import type { Observability } from '../shared/service-app';
import { observedDb } from '../shared/database';
import { bindService } from '../shared/transport';
import type { Transport } from '../shared/transport';
import { shippingRoutes } from './routes';
import type { ShippingTables } from './schema';
import { createShipping } from './service';

export interface ShippingAppDeps {
  db: Kysely<ShippingTables>;
  obs: Observability;
  dialect: 'sqlite' | 'postgres';
  transport: Transport;
  internalToken: string;
}

/** The shipping service: consumes OrderConfirmed / OrderCancelled, serves shipments by order. */
export function createShippingApp({ db: rawDb, obs, dialect, transport, internalToken }: ShippingAppDeps) {
  const { logger } = obs;
  const shipping = createShipping(observedDb(rawDb, obs, dialect));
  const onEvent = async (event: ServiceEvent) => {
    // Only the orders service's events are routed here (EVENT_SUBSCRIBERS).
    if (event.type !== 'OrderConfirmed' && event.type !== 'OrderCancelled') throw new PoisonMessageError(`shipping does not take ${event.type}`);
    const applied = await shipping.apply(event);
    if (!applied) logger.debug({ eventId: event.id, type: event.type }, 'duplicate event ignored');
  };
  const app = createServiceApp({ service: 'shipping', ...obs, internalToken, checks: { database: () => ping(rawDb), transport: () => transport.healthy() } });
  app.route('/', shippingRoutes(shipping));
  // A wrong method on one of its routes (admin, internal): 405 with Allow, as on the public API.
  app.notFound(unroutedHandler(app, obs));
  return { app, shipping, start: bindService(app, transport, 'shipping', { event: onEvent }) };
}

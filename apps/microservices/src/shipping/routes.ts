import { Hono } from 'hono';
import { AppError } from '@archbench/domain/errors';
import type { Shipping } from './service';

/** Internal read of a shipment by order id (the gateway checks ownership first). */
export function shippingRoutes(shipping: Shipping) {
  return new Hono().get('/shipments/:orderId', async (c) => {
    const shipment = await shipping.get(c.req.param('orderId'));
    if (!shipment) throw new AppError('not-found', `no shipment for order ${c.req.param('orderId').slice(0, 60)}`);
    return c.json(shipment);
  });
}

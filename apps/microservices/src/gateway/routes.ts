import { setTimeout as sleep } from 'node:timers/promises';
import { Hono } from 'hono';
import type { Context } from 'hono';
import { CreateOrderRequest, LIMITS, ProviderSettingsPatch, RestockRequest, parsePreferWait } from '@archbench/contracts/schemas';
import type { Order, ProviderSettings, Shipment } from '@archbench/contracts/schemas';
import { AppError } from '@archbench/domain/errors';
import type { AuthVariables } from '@archbench/server-kit/auth';
import { readIdempotencyKey, readJson } from '@archbench/server-kit/http';
import type { ServiceName } from '../env';
import type { InternalHttpClient, InternalRequest, InternalResponse } from '../shared/http-client';
import { CUSTOMER_HEADER, customerHeader } from '../shared/service-app';

/** Response headers of a service that the public answer carries. */
const FORWARDED = ['content-type', 'location', 'preference-applied', 'idempotent-replayed', 'retry-after', 'www-authenticate'];
/** How long the gateway lets shipping catch up with an order event it has not applied yet, ms. */
const SHIPMENT_CATCH_UP_MS = 3000;

export interface GatewayRoutesOptions {
  /** Knows every service's URL; keep-alive pools, retries, trace context. */
  client: InternalHttpClient;
}

type Ctx = Context<{ Variables: AuthVariables }>;

/**
 * The public API, routed to the services. Tokens and bodies are checked here; the services answer
 * with the public shapes (and problem+json), which are passed through with the headers clients see.
 */
export function gatewayRoutes({ client }: GatewayRoutesOptions) {
  const call = (service: ServiceName, request: InternalRequest) => client.request(service, request);
  const pass = (c: Ctx | Context, response: InternalResponse) => {
    const headers: Record<string, string> = {};
    for (const name of FORWARDED) if (response.headers[name] !== undefined) headers[name] = response.headers[name]!;
    return c.body(response.text, response.status as 200, headers);
  };
  /**
   * The provider switch of fault drills (`/admin/payments/provider`, as the other topologies have
   * it) answers the settings in force, flat; the patch is checked here like every body (a bad one
   * is 422 with this path as `instance` and never reaches payments), and payments' own answer's
   * circuit breaker state stays internal.
   */
  const providerAnswer = (c: Ctx, response: InternalResponse) => {
    if (response.status !== 200) return pass(c, response);
    const { latencyMs, slowMs, failureRate } = (JSON.parse(response.text) as { provider: ProviderSettings }).provider;
    return c.json({ latencyMs, slowMs, failureRate });
  };
  const waitTimeout = (c: Context) => ((parsePreferWait(c.req.header('prefer')) ?? 0) + 10) * 1000;

  return new Hono<{ Variables: AuthVariables }>()
    .get('/products', async (c) => pass(c, await call('inventory', { method: 'GET', path: '/products', query: c.req.query(), retry: 'always' })))
    .get('/products/:sku', async (c) =>
      pass(c, await call('inventory', { method: 'GET', path: '/products/:sku', params: { sku: c.req.param('sku') }, retry: 'always' })),
    )
    .post('/orders', async (c) => {
      const key = readIdempotencyKey(c);
      const body = await readJson(c, CreateOrderRequest);
      const response = await call('orders', {
        method: 'POST',
        path: '/orders',
        body: JSON.stringify(body),
        headers: { [CUSTOMER_HEADER]: customerHeader(c.var.auth.sub), 'idempotency-key': key, prefer: c.req.header('prefer') },
        // Only retried when it never left, key or not. Once orders has it, the first attempt may
        // still be placing the order when a resend (after a timeout or a dropped connection)
        // arrives: the client's one request would come back as a replay, an
        // idempotency-in-progress, or a second order without a key. The client's own retry with
        // its key is the safe one.
        retry: 'connect',
        timeoutMs: waitTimeout(c),
      });
      return pass(c, response);
    })
    .get('/orders', async (c) =>
      pass(
        c,
        await call('orders', {
          method: 'GET',
          path: '/orders',
          query: c.req.query(),
          headers: { [CUSTOMER_HEADER]: customerHeader(c.var.auth.sub) },
          retry: 'always',
        }),
      ),
    )
    .get('/orders/:id', async (c) =>
      pass(
        c,
        await call('orders', {
          method: 'GET',
          path: '/orders/:id',
          params: { id: c.req.param('id') },
          headers: { [CUSTOMER_HEADER]: customerHeader(c.var.auth.sub), prefer: c.req.header('prefer') },
          retry: 'always',
          timeoutMs: waitTimeout(c),
        }),
      ),
    )
    .post('/orders/:id/cancel', async (c) =>
      pass(
        c,
        await call('orders', {
          method: 'POST',
          path: '/orders/:id/cancel',
          params: { id: c.req.param('id') },
          headers: { [CUSTOMER_HEADER]: customerHeader(c.var.auth.sub) },
          retry: 'connect',
          timeoutMs: 20_000,
        }),
      ),
    )
    .get('/orders/:id/shipment', async (c) => {
      const id = c.req.param('id');
      const orderResponse = await call('orders', {
        method: 'GET',
        path: '/orders/:id',
        params: { id },
        headers: { [CUSTOMER_HEADER]: customerHeader(c.var.auth.sub) },
        retry: 'always',
      });
      if (orderResponse.status !== 200) return pass(c, orderResponse);
      const order = JSON.parse(orderResponse.text) as Order;
      // Shipping learns about the order from an event; give it a moment to catch up with what the customer already sees.
      const deadline = Date.now() + (order.status === 'CONFIRMED' || order.status === 'CANCELLED' ? SHIPMENT_CATCH_UP_MS : 0);
      for (;;) {
        const response = await call('shipping', { method: 'GET', path: '/shipments/:orderId', params: { orderId: order.id }, retry: 'always' });
        if (response.status !== 200 && response.status !== 404) return pass(c, response);
        const shipment = response.status === 200 ? (JSON.parse(response.text) as Shipment) : undefined;
        const caughtUp = shipment !== undefined && (order.status !== 'CANCELLED' || shipment.status === 'CANCELLED');
        if (caughtUp || Date.now() >= deadline) {
          if (!shipment) throw new AppError('not-found', `order ${order.id} has no shipment (it is ${order.status})`);
          return c.json(shipment);
        }
        await sleep(25);
      }
    })
    .post('/admin/seed', async (c) => pass(c, await call('inventory', { method: 'POST', path: '/admin/seed', retry: 'always', timeoutMs: 60_000 })))
    .post('/admin/products/:sku/restock', async (c) => {
      const body = await readJson(c, RestockRequest, LIMITS.maxBodyBytes);
      return pass(
        c,
        await call('inventory', {
          method: 'POST',
          path: '/admin/products/:sku/restock',
          params: { sku: c.req.param('sku') },
          body: JSON.stringify(body),
          retry: 'connect',
        }),
      );
    })
    .get('/admin/orders/:id/payments', async (c) =>
      pass(c, await call('payments', { method: 'GET', path: '/admin/orders/:id/payments', params: { id: c.req.param('id') }, retry: 'always' })),
    )
    .get('/admin/payments/provider', async (c) => providerAnswer(c, await call('payments', { method: 'GET', path: '/admin/provider', retry: 'always' })))
    .put('/admin/payments/provider', async (c) => {
      const patch = await readJson(c, ProviderSettingsPatch, LIMITS.maxBodyBytes);
      return providerAnswer(c, await call('payments', { method: 'PUT', path: '/admin/provider', body: JSON.stringify(patch), retry: 'always' }));
    })
    .delete('/admin/payments/provider', async (c) => providerAnswer(c, await call('payments', { method: 'DELETE', path: '/admin/provider', retry: 'always' })));
}

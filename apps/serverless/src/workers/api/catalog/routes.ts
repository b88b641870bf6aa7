import { Hono } from 'hono';
import { PageQuery, RestockRequest, Sku } from '@archbench/contracts/schemas';
import { encodeCursor } from '@archbench/domain/orders';
import { AppError } from '@archbench/domain/errors';
import { readCursor, readJson, validate } from '../../../shared/http';
import type { ApiBindings } from '../../../shared/bindings';
import { createCatalog } from './service';

/** Public catalog routes: GET /products, GET /products/:sku. */
export function catalogRoutes() {
  return new Hono<{ Bindings: ApiBindings }>()
    .get('/products', async (c) => {
      const query = validate(PageQuery, c.req.query(), 'invalid-query');
      const after = readCursor(query.cursor);
      const page = await createCatalog(c.env.DB).list(query.limit, after);
      return c.json({ items: page.items, nextCursor: page.next ? encodeCursor(page.next) : null });
    })
    .get('/products/:sku', async (c) => {
      const sku = c.req.param('sku');
      const product = Sku.safeParse(sku).success ? await createCatalog(c.env.DB).get(sku) : undefined;
      if (!product) throw new AppError('not-found', `no product with SKU ${JSON.stringify(sku.slice(0, 40))}`);
      return c.json(product);
    });
}

/** Admin catalog routes (mounted behind authenticate + requireAdmin). */
export function catalogAdminRoutes() {
  return new Hono<{ Bindings: ApiBindings }>()
    .post('/seed', async (c) => c.json({ products: await createCatalog(c.env.DB).seed() }))
    .post('/products/:sku/restock', async (c) => {
      const body = await readJson(c, RestockRequest);
      return c.json(await createCatalog(c.env.DB).restock(c.req.param('sku'), body.quantity));
    });
}

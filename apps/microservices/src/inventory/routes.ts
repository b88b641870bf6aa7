import { Hono } from 'hono';
import { PageQuery, RestockRequest, Sku } from '@archbench/contracts/schemas';
import { encodeCursor } from '@archbench/domain/orders';
import { AppError } from '@archbench/domain/errors';
import { readCursor, readJson, validate } from '@archbench/server-kit/http';
import type { Inventory } from './service';

/** Catalog routes with the public shapes (the gateway forwards /products here). */
export function inventoryRoutes(inventory: Inventory) {
  return new Hono()
    .get('/products', async (c) => {
      const query = validate(PageQuery, c.req.query(), 'invalid-query');
      const after = readCursor(query.cursor);
      const page = await inventory.list(query.limit, after);
      return c.json({ items: page.items, nextCursor: page.next ? encodeCursor(page.next) : null });
    })
    .get('/products/:sku', async (c) => {
      const sku = c.req.param('sku');
      const product = Sku.safeParse(sku).success ? await inventory.get(sku) : undefined;
      if (!product) throw new AppError('not-found', `no product with SKU ${JSON.stringify(sku.slice(0, 40))}`);
      return c.json(product);
    })
    .post('/admin/seed', async (c) => c.json({ products: await inventory.seed() }))
    .post('/admin/products/:sku/restock', async (c) => {
      const body = await readJson(c, RestockRequest);
      return c.json(await inventory.restock(c.req.param('sku'), body.quantity));
    });
}

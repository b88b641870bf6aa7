import { Product, ProductPage } from '../../schemas';
import { SEED_SKU_COUNT, skuOf } from '../context';
import { check, expectBody, expectProblem } from '../expect';
import type { CheckDefinition } from './types';

export const productChecks: CheckDefinition[] = [
  {
    name: 'products.paging',
    async run({ api, log }) {
      const skus: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const path: string = `/products?limit=100${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
        const page = expectBody(await api.get(path), 200, ProductPage);
        pages++;
        check(page.items.length <= 100, `GET ${path}: ${page.items.length} items on a page of limit 100`);
        check(page.nextCursor === null || page.items.length > 0, `GET ${path}: an empty page must not have a nextCursor`);
        skus.push(...page.items.map((p) => p.sku));
        cursor = page.nextCursor;
        check(pages <= 200, 'GET /products: paging did not end after 200 pages of 100');
      } while (cursor !== null);
      const seen = new Set<string>();
      const duplicates = skus.filter((sku) => (seen.has(sku) ? true : (seen.add(sku), false)));
      check(duplicates.length === 0, `paging /products returned duplicates: ${[...new Set(duplicates)].slice(0, 5).join(', ')}`);
      const outOfOrder = skus.findIndex((sku, i) => i > 0 && sku <= skus[i - 1]!);
      check(outOfOrder === -1, `paging /products is not in SKU order: ${skus[outOfOrder - 1]} came before ${skus[outOfOrder]}`);
      const missing = Array.from({ length: SEED_SKU_COUNT }, (_, i) => skuOf(i)).filter((sku) => !seen.has(sku));
      check(missing.length === 0, `paging /products missed ${missing.length} seeded SKUs, e.g. ${missing.slice(0, 5).join(', ')}`);
      log(`${skus.length} products in ${pages} pages`);
    },
  },
  {
    name: 'products.get',
    async run({ api }) {
      const page = expectBody(await api.get('/products?limit=50'), 200, ProductPage);
      check(page.items.length === 50, `GET /products?limit=50: expected 50 items, got ${page.items.length}`);
      const fromList = page.items[42]!;
      const one = expectBody(await api.get(`/products/${fromList.sku}`), 200, Product);
      check(one.sku === fromList.sku, `GET /products/${fromList.sku}: returned SKU ${one.sku}`);
      check(one.name === fromList.name && one.priceCents === fromList.priceCents, `GET /products/${fromList.sku}: name or price differ from the list`);
      const defaults = expectBody(await api.get('/products'), 200, ProductPage);
      check(defaults.items.length === 20, `GET /products without limit: the default page size is 20, got ${defaults.items.length}`);
    },
  },
  {
    name: 'products.unknown-sku',
    async run({ api }) {
      expectProblem(await api.get('/products/SKU-9999'), 404, { code: 'not-found' });
      expectProblem(await api.get('/products/not-a-sku'), 404, { code: 'not-found' });
      expectProblem(await api.get(`/products/${'x'.repeat(500)}`), 404, { code: 'not-found' });
    },
  },
  {
    name: 'products.bad-limit',
    async run({ api }) {
      for (const limit of ['0', '101', 'abc', '-1', '1.5', '1.0', '0x10', '1e1', '']) {
        expectProblem(await api.get(`/products?limit=${limit}`), 400, { code: 'invalid-query' });
      }
    },
  },
  {
    name: 'products.bad-cursor',
    async run({ api }) {
      for (const cursor of ['!!!', '%%%', 'x'.repeat(300)]) {
        expectProblem(await api.get(`/products?cursor=${encodeURIComponent(cursor)}`), 400, { code: 'invalid-query' });
      }
    },
  },
];

import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PaymentToken } from '../schemas';
import { Order, OrderPage, PaymentList, Product, TERMINAL_STATUSES } from '../schemas';
import type { ApiResponse, Customer, RequestOptions } from './client';
import type { ApiClient } from './client';
import { check, eventually, expectBody, fail } from './expect';

/** SKUs of the seed catalog: SKU-0000 .. SKU-0999; the last ten start with stock 5. */
export const SEED_SKU_COUNT = 1000;
const SCARCE_SKU_FROM = 990;
export const skuOf = (index: number): string => `SKU-${String(index).padStart(4, '0')}`;

export interface OrderItemInput {
  sku: string;
  quantity: number;
}

export interface PlaceOptions {
  token?: PaymentToken;
  /** Seconds for `Prefer: wait=N`; omitted sends no Prefer header. */
  wait?: number;
  idempotencyKey?: string;
  headers?: Record<string, string>;
}

/**
 * What every check gets: the client plus the domain-level steps checks are written in
 * (place an order, wait for it, read stock, read payments).
 */
export class CheckContext {
  readonly api: ApiClient;
  readonly log: (line: string) => void;

  constructor(api: ApiClient, log: (line: string) => void) {
    this.api = api;
    this.log = log;
  }

  /** A random SKU with plentiful stock; random so repeated or parallel runs rarely share one. */
  plentifulSku(exclude: readonly string[] = []): string {
    for (;;) {
      const sku = skuOf(randomInt(100, SCARCE_SKU_FROM));
      if (!exclude.includes(sku)) return sku;
    }
  }

  async product(sku: string): Promise<Product> {
    return expectBody(await this.api.get(`/products/${sku}`), 200, Product);
  }

  async stock(sku: string): Promise<number> {
    return (await this.product(sku)).stock;
  }

  /** Waits until the SKU's stock is `expected` (a distributed implementation may settle later). */
  async expectStock(sku: string, expected: number, why: string): Promise<void> {
    await eventually(async () => {
      const actual = await this.stock(sku);
      check(actual === expected, `stock of ${sku} should be ${expected} ${why}, is ${actual}`);
    });
  }

  placeRaw(customer: Customer, items: readonly OrderItemInput[], options: PlaceOptions = {}): Promise<ApiResponse> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.wait !== undefined) headers.prefer = `wait=${options.wait}`;
    if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
    const request: RequestOptions = { token: customer.token, json: { items, payment: { token: options.token ?? 'tok_ok' } }, headers };
    return this.api.post('/orders', request);
  }

  /** Places an order and asserts it was accepted (201 or 202); returns the order. */
  async place(customer: Customer, items: readonly OrderItemInput[], options: PlaceOptions = {}): Promise<Order> {
    return expectBody(await this.placeRaw(customer, items, options), [201, 202], Order);
  }

  /** Places an order with `Prefer: wait` and follows it until it is terminal. */
  async placeTerminal(customer: Customer, items: readonly OrderItemInput[], token: PaymentToken = 'tok_ok'): Promise<Order> {
    const order = await this.place(customer, items, { token, wait: 5 });
    return this.awaitTerminal(customer, order.id);
  }

  async getOrder(customer: Customer, id: string, wait?: number): Promise<Order> {
    const headers: Record<string, string> = wait === undefined ? {} : { prefer: `wait=${wait}` };
    return expectBody(await this.api.get(`/orders/${encodeURIComponent(id)}`, { token: customer.token, headers }), 200, Order);
  }

  /** Polls an order (with `Prefer: wait`) until it reaches a terminal status. */
  async awaitTerminal(customer: Customer, id: string, timeoutMs = 20_000): Promise<Order> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const order = await this.getOrder(customer, id, 5);
      if (TERMINAL_STATUSES.includes(order.status)) return order;
      if (Date.now() >= deadline) fail(`order ${id} is still ${order.status} after ${timeoutMs} ms; every order must reach a terminal status`);
      await sleep(100);
    }
  }

  /** Every order of a customer, following cursors (newest first). */
  async listOrders(customer: Customer, query: { status?: string; limit?: number } = {}): Promise<Order[]> {
    const all: Order[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 1000; page++) {
      const params = new URLSearchParams();
      if (query.limit !== undefined) params.set('limit', String(query.limit));
      if (query.status !== undefined) params.set('status', query.status);
      if (cursor !== null) params.set('cursor', cursor);
      const body = expectBody(await this.api.get(`/orders?${params}`, { token: customer.token }), 200, OrderPage);
      if (query.limit !== undefined)
        check(body.items.length <= query.limit, `GET /orders?${params}: ${body.items.length} items on a page of limit ${query.limit}`);
      all.push(...body.items);
      if (body.nextCursor === null) return all;
      check(body.items.length > 0, `GET /orders?${params}: an empty page must not have a nextCursor`);
      cursor = body.nextCursor;
    }
    fail('GET /orders did not end after 1000 pages');
  }

  async payments(orderId: string): Promise<PaymentList['items']> {
    const res = await this.api.get(`/admin/orders/${encodeURIComponent(orderId)}/payments`, { token: this.api.adminToken() });
    return expectBody(res, 200, PaymentList).items;
  }

  async restock(sku: string, quantity: number): Promise<Product> {
    const res = await this.api.post(`/admin/products/${sku}/restock`, { token: this.api.adminToken(), json: { quantity } });
    return expectBody(res, 200, Product);
  }

  /** A random scarce SKU (SKU-0990 .. SKU-0999, seeded with stock 5), for checks that run stock out. */
  scarceSku(): string {
    return skuOf(randomInt(SCARCE_SKU_FROM, SEED_SKU_COUNT));
  }

  /** Brings a SKU's stock to `level`: restocks up, or buys the surplus away with confirmed orders. */
  async bringStockTo(sku: string, level: number): Promise<void> {
    let stock = await this.stock(sku);
    if (stock < level) stock = (await this.restock(sku, level - stock)).stock;
    while (stock > level) {
      const drain = await this.placeTerminal(this.api.newCustomer('drain'), [{ sku, quantity: Math.min(stock - level, 1000) }]);
      check(drain.status === 'CONFIRMED', `draining ${sku} to ${level}: order ended ${drain.status}`);
      stock = await this.stock(sku);
    }
    check(stock === level, `could not bring ${sku} to stock ${level} (it is ${stock}); is another client ordering it?`);
  }
}

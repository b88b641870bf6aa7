import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { D1Database } from '@cloudflare/workers-types';
import type { Order, PaymentRecord, Product } from '@archbench/contracts/schemas';
import { mintToken } from '@archbench/contracts/tokens';
import { startServerless } from '../src/runtime';
import type { RunningServerless, ServerlessOptions } from '../src/runtime';

/** A non-default secret, so the tests prove the workers verify with the secret they were given. */
export const AUTH_SECRET = `serverless-test-${randomBytes(12).toString('hex')}`;

/** The app on a real workerd (miniflare), free port, fresh in-memory state, quick retries. */
export function startTestServerless(options: Partial<ServerlessOptions> = {}): Promise<RunningServerless> {
  return startServerless({ port: 0, authSecret: AUTH_SECRET, logLevel: 'silent', retryDelaySeconds: 0, ...options });
}

/** A started test app with a client for it and its D1 database (the API worker's binding). */
export interface TestServerless {
  app: RunningServerless;
  api: Client;
  db: D1Database;
}

/** startTestServerless, plus a client and the D1 database: what most test files start in their beforeAll. */
export async function startWithClient(options: Partial<ServerlessOptions> = {}): Promise<TestServerless> {
  const app = await startTestServerless(options);
  return { app, api: client(app.url), db: (await app.miniflare.getD1Database('DB', 'api')) as unknown as D1Database };
}

/** Fires one Cron Trigger of the payments worker by hand (tests start the app with no timer sweep, or race it). */
export async function firePaymentsCron(app: RunningServerless, cron: string, scheduledTime?: Date) {
  return (await app.miniflare.getWorker('payments')).scheduled(scheduledTime ? { cron, scheduledTime } : { cron });
}

export interface Client {
  baseUrl: string;
  customer(label?: string): { id: string; token: string };
  admin: string;
  request(
    method: string,
    path: string,
    options?: { token?: string; json?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; body: unknown; headers: Headers }>;
  place(
    token: string,
    items: Array<{ sku: string; quantity: number }>,
    options?: { payment?: string; wait?: number; key?: string },
  ): Promise<{ status: number; body: unknown; headers: Headers }>;
  product(sku: string): Promise<Product>;
  order(token: string, id: string, wait?: number): Promise<Order>;
  payments(orderId: string): Promise<PaymentRecord[]>;
  metrics(): Promise<string>;
}

export function client(baseUrl: string): Client {
  const request: Client['request'] = async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.json !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${baseUrl}${path}`, { method, headers, body: options.json === undefined ? undefined : JSON.stringify(options.json) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON (metrics)
    }
    return { status: res.status, body, headers: res.headers };
  };
  const admin = mintToken(AUTH_SECRET, { sub: 'test-admin', role: 'admin' });
  return {
    baseUrl,
    admin,
    request,
    customer(label = 'c') {
      const id = `${label}-${randomUUID()}`;
      return { id, token: mintToken(AUTH_SECRET, { sub: id }) };
    },
    place(token, items, options = {}) {
      const headers: Record<string, string> = {};
      if (options.wait !== undefined) headers.prefer = `wait=${options.wait}`;
      if (options.key !== undefined) headers['idempotency-key'] = options.key;
      return request('POST', '/orders', { token, headers, json: { items, payment: { token: options.payment ?? 'tok_ok' } } });
    },
    async product(sku) {
      return (await request('GET', `/products/${sku}`)).body as Product;
    },
    async order(token, id, wait) {
      return (await request('GET', `/orders/${id}`, { token, headers: wait ? { prefer: `wait=${wait}` } : {} })).body as Order;
    },
    async payments(orderId) {
      return ((await request('GET', `/admin/orders/${orderId}/payments`, { token: admin })).body as { items: PaymentRecord[] }).items;
    },
    async metrics() {
      return (await request('GET', '/metrics')).body as string;
    },
  };
}

/** Retries an assertion until it passes or `timeoutMs` ends (the saga settles after the answer). */
export async function eventually<T>(assertion: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await assertion();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(100);
    }
  }
}

/** Sum of a Prometheus counter over the series whose labels include `labels`. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line.trim());
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-zA-Z_]+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) sum += Number(match[3]);
  }
  return sum;
}

import { setTimeout as sleep } from 'node:timers/promises';
import { TERMINAL_STATUSES } from '@archbench/contracts/schemas';
import type { OrderStatus } from '@archbench/contracts/schemas';
import type { RequestEvent } from '../engine/run-scenario';

/** A minimal view of an order as GET /orders returns it. */
export interface AuditedOrder {
  id: string;
  customerId?: string;
  status: string;
  items: { sku: string; quantity: number }[];
}

export interface AuditOptions {
  baseUrl: string;
  /** Bearer tokens of the customers the experiment's load acted as (their orders are audited). */
  customerTokens: readonly string[];
  /** Bearer token with role admin (payment records). */
  adminToken: string;
  /** Parallel requests while auditing. */
  concurrency?: number;
  requestTimeoutMs?: number;
}

export interface StateAudit {
  /** Final status of every order of the audited customers, by id. */
  finalStatus: Map<string, string>;
  ordersLost: number;
  ordersStuck: number;
  duplicateCharges: number;
  stockDrift: number;
  accepted: number;
  confirmed: number;
  /** Failed provider calls recorded in the payment records (proof of a provider outage). */
  failedCharges: number;
  /** Ids behind the counts, for the log. */
  lostIds: string[];
  stuckIds: string[];
  duplicateIds: string[];
}

class AuditError extends Error {
  override readonly name = 'AuditError';
}

async function getJson(url: string, token: string | undefined, timeoutMs: number): Promise<{ status: number; body: unknown }> {
  let lastError: unknown;
  // A read right after a fault may meet a process that is still restarting: retry a few times.
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const response = await fetch(url, {
        headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      if (response.status >= 500) {
        lastError = new AuditError(`GET ${url}: ${response.status}`);
        await sleep(500 * (attempt + 1));
        continue;
      }
      return { status: response.status, body: text.length > 0 ? (JSON.parse(text) as unknown) : null };
    } catch (error) {
      lastError = error;
      await sleep(500 * (attempt + 1));
    }
  }
  throw new AuditError(`GET ${url} failed: ${lastError instanceof Error ? lastError.message : String(lastError)}`);
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await fn(items[index]!);
      }
    }),
  );
  return results;
}

/**
 * Units available per SKU (GET /products, every page).
 * @example const before = await readStock('http://127.0.0.1:3000')
 */
export async function readStock(baseUrl: string, timeoutMs = 10_000): Promise<Map<string, number>> {
  const stock = new Map<string, number>();
  let cursor: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const url = `${baseUrl}/products?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const { status, body } = await getJson(url, undefined, timeoutMs);
    if (status !== 200) throw new AuditError(`GET ${url}: ${status}`);
    const pageBody = body as { items: { sku: string; stock: number }[]; nextCursor: string | null };
    for (const p of pageBody.items) stock.set(p.sku, p.stock);
    cursor = pageBody.nextCursor;
    if (!cursor) break;
  }
  return stock;
}

/** Every order of one customer (GET /orders, every page). */
export async function listOrders(baseUrl: string, token: string, timeoutMs = 10_000): Promise<AuditedOrder[]> {
  const orders: AuditedOrder[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 10_000; page++) {
    const url = `${baseUrl}/orders?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const { status, body } = await getJson(url, token, timeoutMs);
    if (status !== 200) throw new AuditError(`GET ${url}: ${status}`);
    const pageBody = body as { items: AuditedOrder[]; nextCursor: string | null };
    orders.push(...pageBody.items);
    cursor = pageBody.nextCursor;
    if (!cursor) break;
  }
  return orders;
}

const TERMINAL: ReadonlySet<string> = new Set<OrderStatus>(TERMINAL_STATUSES);

/**
 * Waits until every order of the audited customers is terminal and every confirmed one has its
 * shipment, or the deadline passes: the state is then read as it is ("until the system is quiet").
 * Returns the seconds waited.
 */
export async function waitUntilQuiet(
  options: AuditOptions,
  deadlineMs: number,
  pollMs = 1000,
  preexisting: ReadonlySet<string> = new Set(),
  onPoll?: (waitedSeconds: number, notTerminal: number | undefined) => void,
): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < deadlineMs) {
    let notTerminal: number | undefined;
    try {
      const orders = (await Promise.all(options.customerTokens.map((t) => listOrders(options.baseUrl, t, options.requestTimeoutMs))))
        .flat()
        .filter((o) => !preexisting.has(o.id));
      notTerminal = orders.filter((o) => !TERMINAL.has(o.status)).length;
      if (notTerminal === 0) return (Date.now() - started) / 1000;
    } catch {
      // still recovering: keep polling until the deadline
    }
    onPoll?.((Date.now() - started) / 1000, notTerminal);
    await sleep(pollMs);
  }
  return (Date.now() - started) / 1000;
}

/**
 * Reads the real state after an experiment and counts what went wrong, through the public API
 * and the admin payment records (so it works for `--target` deployments too):
 * - lost: orders the client got an id for that are missing or still not terminal;
 * - stuck: orders the client got no id for that are not terminal, and CONFIRMED orders without
 *   a shipment;
 * - duplicate charges: orders with more than one successful charge;
 * - stock drift: per SKU, |units taken − units held by CONFIRMED or PENDING orders|, summed.
 * @example const audit = await auditState(options, events, stockBefore)
 */
export async function auditState(
  options: AuditOptions,
  events: readonly RequestEvent[],
  stockBefore: ReadonlyMap<string, number>,
  preexisting: ReadonlySet<string> = new Set(),
): Promise<StateAudit> {
  const concurrency = options.concurrency ?? 8;
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  // Orders the customers had before the experiment are not part of it (a --token-file may reuse customers).
  const orders = (await Promise.all(options.customerTokens.map((t) => listOrders(options.baseUrl, t, timeoutMs)))).flat().filter((o) => !preexisting.has(o.id));
  const byId = new Map(orders.map((o) => [o.id, o]));
  const acceptedIds = new Set(events.filter((e) => e.kind === 'order' && e.orderId !== undefined).map((e) => e.orderId!));

  const lostIds = [...acceptedIds].filter((id) => !TERMINAL.has(byId.get(id)?.status ?? 'MISSING'));
  const stuckIds = orders.filter((o) => !acceptedIds.has(o.id) && !TERMINAL.has(o.status)).map((o) => o.id);
  const confirmed = orders.filter((o) => o.status === 'CONFIRMED');
  const withoutShipment = await mapLimit(confirmed, concurrency, async (o) => {
    const { status, body } = await getJson(`${options.baseUrl}/orders/${encodeURIComponent(o.id)}/shipment`, tokenOf(o, options), timeoutMs);
    return status === 200 && (body as { status?: string } | null)?.status === 'PREPARING' ? undefined : o.id;
  });
  for (const id of withoutShipment) if (id !== undefined) stuckIds.push(id);

  let failedCharges = 0;
  const duplicateIds: string[] = [];
  await mapLimit(orders, concurrency, async (o) => {
    const { status, body } = await getJson(`${options.baseUrl}/admin/orders/${encodeURIComponent(o.id)}/payments`, options.adminToken, timeoutMs);
    if (status !== 200) throw new AuditError(`GET /admin/orders/${o.id}/payments: ${status} (is the admin token signed with the servers' AUTH_SECRET?)`);
    const items = (body as { items: { kind: string; status: string }[] }).items;
    const charges = items.filter((p) => p.kind === 'charge');
    failedCharges += charges.filter((p) => p.status === 'FAILED').length;
    if (charges.filter((p) => p.status === 'SUCCEEDED').length > 1) duplicateIds.push(o.id);
  });

  const stockAfter = await readStock(options.baseUrl, timeoutMs);
  const held = new Map<string, number>();
  for (const o of orders) {
    if (o.status !== 'CONFIRMED' && o.status !== 'PENDING') continue;
    for (const item of o.items) held.set(item.sku, (held.get(item.sku) ?? 0) + item.quantity);
  }
  let stockDrift = 0;
  for (const [sku, before] of stockBefore) {
    const after = stockAfter.get(sku);
    if (after === undefined) continue;
    stockDrift += Math.abs(before - after - (held.get(sku) ?? 0));
  }

  return {
    finalStatus: new Map(orders.map((o) => [o.id, o.status])),
    ordersLost: lostIds.length,
    ordersStuck: stuckIds.length,
    duplicateCharges: duplicateIds.length,
    stockDrift,
    accepted: acceptedIds.size,
    confirmed: confirmed.length,
    failedCharges,
    lostIds,
    stuckIds,
    duplicateIds,
  };
}

const tokenByCustomer = new WeakMap<AuditOptions, Map<string, string>>();

/** The token of the customer who owns an order (shipments are only visible to their owner). */
function tokenOf(order: AuditedOrder, options: AuditOptions): string {
  let map = tokenByCustomer.get(options);
  if (!map) {
    map = new Map();
    for (const token of options.customerTokens) {
      try {
        const sub = (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub?: string }).sub;
        if (sub) map.set(sub, token);
      } catch {
        // not a JWT: cannot map it
      }
    }
    tokenByCustomer.set(options, map);
  }
  return (order.customerId ? map.get(order.customerId) : undefined) ?? options.customerTokens[0]!;
}

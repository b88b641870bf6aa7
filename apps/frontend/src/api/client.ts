import type { z } from 'zod';
import { Health, Order, OrderPage, Product, ProductPage } from '@archbench/contracts/schemas';
import { LIMITS } from '@archbench/contracts/schemas';
import type { CreateOrderRequest } from '@archbench/contracts/schemas';
import { DevTokenResponse, FrontendConfig } from './config-schema';
import type { BackendId } from './config-schema';
import { ApiError, networkProblem, readProblem } from './problem';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

const defaultFetch: FetchLike = (input, init) => globalThis.fetch(input, init);

/**
 * How long a placement may go unanswered before the console gives up on it, ms: longer than the
 * longest wait a server may take (Prefer: wait, at most LIMITS.maxWaitSeconds = 30 s) and than
 * the console server's own upstream timeout (45 s), so a slow answer still arrives; but a stalled
 * connection (the laptop slept, the Wi-Fi dropped; Vite's dev proxy has no timeout) ends, and
 * Place order is not kept waiting in every view until a reload.
 */
export const PLACE_ORDER_TIMEOUT_MS = (LIMITS.maxWaitSeconds + 30) * 1000;

/** A placement given up after PLACE_ORDER_TIMEOUT_MS: the order may have been placed (uncertain, like a network error). */
export function placementTimedOut(timeoutMs: number): ApiError {
  return new ApiError({
    title: 'No answer to the order',
    detail: `The server did not answer within ${Math.round(timeoutMs / 1000)} s. The order may have been placed: press Place order again, without changing the cart, to learn its fate (the same order is asked for, not a second one).`,
    status: 0,
    code: 'timeout',
  });
}

async function call<S extends z.ZodType>(
  fetchFn: FetchLike,
  url: string,
  schema: S,
  init: RequestInit = {},
  timeout?: { signal: AbortSignal; ms: number },
): Promise<z.infer<S>> {
  let response: Response;
  try {
    response = await fetchFn(url, init);
  } catch (error) {
    if (timeout?.signal.aborted) throw placementTimedOut(timeout.ms);
    if (init.signal?.aborted) throw error;
    throw new ApiError(networkProblem(error));
  }
  if (!response.ok) throw new ApiError(await readProblem(response));
  const body: unknown = await response.json().catch(() => undefined);
  // The body stalled after the headers: as uncertain as no answer at all.
  if (timeout?.signal.aborted) throw placementTimedOut(timeout.ms);
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    throw new ApiError({
      title: 'Unexpected answer from the server',
      detail: `${url} answered with a body that does not match the API contract (${parsed.error.issues[0]?.message ?? 'unknown'})`,
      status: response.status,
      code: 'contract-mismatch',
    });
  }
  return parsed.data;
}

/** Loads the console's configuration from its server. */
export function loadConfig(fetchFn: FetchLike = defaultFetch): Promise<FrontendConfig> {
  return call(fetchFn, '/config.json', FrontendConfig);
}

/**
 * Asks the console's server for a demo customer token (the server holds the AUTH_SECRET).
 * @example const { token } = await requestDevToken('alice')
 */
export function requestDevToken(customerId: string, fetchFn: FetchLike = defaultFetch): Promise<DevTokenResponse> {
  return call(fetchFn, '/dev/token', DevTokenResponse, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customerId }),
  });
}

export interface PlaceOrderOptions {
  /** The same key on a retry returns the first result instead of a second order. */
  idempotencyKey: string;
  signal?: AbortSignal;
  /** Gives up (an uncertain outcome, ApiError code 'timeout') after this many ms; default PLACE_ORDER_TIMEOUT_MS. */
  timeoutMs?: number;
}

/**
 * The public order API of one backend, through the console's proxy at `/api/<backend>`.
 * @example const api = createApiClient({ backend: 'monolith', token }); await api.listProducts()
 */
export function createApiClient({ backend, token, fetch: fetchFn = defaultFetch }: { backend: BackendId; token: string | null; fetch?: FetchLike }) {
  const base = `/api/${backend}`;
  const auth = (): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});
  return {
    backend,
    health: (signal?: AbortSignal) => call(fetchFn, `${base}/health`, Health, { signal }),
    listProducts: (cursor?: string | null, limit = 100, signal?: AbortSignal) =>
      call(fetchFn, `${base}/products?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, ProductPage, { signal }),
    getProduct: (sku: string, signal?: AbortSignal) => call(fetchFn, `${base}/products/${encodeURIComponent(sku)}`, Product, { signal }),
    /** One page of the customer's orders, newest first: the first without a cursor, older ones with the previous page's nextCursor. */
    listOrders: (cursor?: string | null, signal?: AbortSignal) =>
      call(fetchFn, `${base}/orders?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, OrderPage, { headers: auth(), signal }),
    placeOrder: (body: CreateOrderRequest, { idempotencyKey, signal, timeoutMs = PLACE_ORDER_TIMEOUT_MS }: PlaceOrderOptions) => {
      const timeout = AbortSignal.timeout(timeoutMs);
      return call(
        fetchFn,
        `${base}/orders`,
        Order,
        {
          method: 'POST',
          headers: { ...auth(), 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
          body: JSON.stringify(body),
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        },
        { signal: timeout, ms: timeoutMs },
      );
    },
    /** With waitSeconds the server holds the answer until the order is terminal (RFC 7240 Prefer: wait). */
    getOrder: (id: string, waitSeconds?: number, signal?: AbortSignal) =>
      call(fetchFn, `${base}/orders/${encodeURIComponent(id)}`, Order, {
        headers: { ...auth(), ...(waitSeconds ? { prefer: `wait=${waitSeconds}` } : {}) },
        signal,
      }),
    cancelOrder: (id: string) => call(fetchFn, `${base}/orders/${encodeURIComponent(id)}/cancel`, Order, { method: 'POST', headers: auth() }),
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;

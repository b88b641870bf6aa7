import type { RequestKind, WeightedRequest } from './types.ts';

/**
 * Orders draw from the seed's ordinary SKUs (SKU-0000..SKU-0899, 100,000 units each), never the
 * scarce tail, so long runs do not fail on stock. A test checks these against the seed catalog.
 */
export const ORDER_SKU_COUNT = 900;
/** Customers the load is spread over; tokens are minted for `load-customer-0..N-1` at setup. */
export const LOAD_CUSTOMERS = 50;
export const PRODUCTS_PAGE_SIZE = 20;
/** How long POST /orders may wait for a terminal status, so latency covers the whole order. */
export const ORDER_WAIT_SECONDS = 5;
/**
 * How long either engine waits for one request before counting it a transport error (status 0):
 * the embedded engine's default, the k6 scripts' `timeout` (k6's own default is 60 s), and the
 * floor of k6's `gracefulStop`, so a request in flight at the end of a run is waited for too.
 */
export const REQUEST_TIMEOUT_SECONDS = 30;
/**
 * Statuses that count as success, per request kind. For `place-order` the status is not enough:
 * POST /orders answers 201 for every terminal order, REJECTED too, so a 201 is a placed order only
 * when the answered order is CONFIRMED (see orderFailure). A 202 (still PENDING when
 * `Prefer: wait` ran out) is a failure.
 */
export const EXPECTED_STATUSES: Record<RequestKind, number[]> = {
  'list-products': [200],
  'get-product': [200],
  'place-order': [201],
};

/**
 * What an order answered 201 can be other than placed, as both engines name it: the key it is
 * counted under in `statusCounts` is `201 <failure>` (`201 rejected: payment_provider_error`).
 * The rejection reasons are the contract's `RejectionReason` (a test keeps them equal; k6 cannot
 * import @archbench/contracts); `rejected` is a rejection with no or another reason, `not confirmed`
 * any other status (CANCELLED, or a body without one).
 */
export const ORDER_FAILURES = [
  'rejected: payment_declined',
  'rejected: payment_provider_error',
  'rejected: payment_provider_unavailable',
  'rejected',
  'not confirmed',
] as const;
export type OrderFailure = (typeof ORDER_FAILURES)[number];

// The order's own fields, read without parsing the whole body (a regex costs ~0.1 µs a response,
// JSON.parse ~2.5 µs): every order body is one object whose items carry no `status` or `id`.
const STATUS_FIELD = /"status"\s*:\s*"([^"\\]*)"/;
const REASON_FIELD = /"rejectionReason"\s*:\s*"([^"\\]*)"/;
const ID_FIELD = /"id"\s*:\s*"([^"\\]*)"/;

/**
 * The `id` and `status` of an order body (POST /orders' answer), without parsing the rest.
 * @example orderFields('{"id":"ord_1","status":"PENDING"}') // { id: 'ord_1', status: 'PENDING' }
 */
export function orderFields(body: string): { id: string | undefined; status: string | undefined } {
  return { id: ID_FIELD.exec(body)?.[1], status: STATUS_FIELD.exec(body)?.[1] };
}

/**
 * Why an order answered 201 (terminal) is not a placed order, or undefined when it is: it must be
 * CONFIRMED, as an order paid with `tok_ok` is. Reads only `status`, and `rejectionReason` of a
 * rejected one.
 * @example orderFailure('{"status":"REJECTED","rejectionReason":"payment_provider_error"}') // 'rejected: payment_provider_error'
 */
export function orderFailure(body: string): OrderFailure | undefined {
  const status = STATUS_FIELD.exec(body)?.[1];
  if (status === 'CONFIRMED') return undefined;
  if (status !== 'REJECTED') return 'not confirmed';
  const named = `rejected: ${REASON_FIELD.exec(body)?.[1] ?? ''}`;
  return (ORDER_FAILURES as readonly string[]).includes(named) ? (named as OrderFailure) : 'rejected';
}

/**
 * How one response counts, the same in both engines: undefined when it succeeded (the kind's
 * expected status and, for an order, CONFIRMED), else why it failed: an order's OrderFailure, or
 * `status` for an unexpected status (`0`: transport error). `body` is needed only for
 * `place-order` answered 201.
 * @example responseFailure('place-order', 201, rejectedBody) // 'rejected: payment_provider_error'
 */
export function responseFailure(kind: RequestKind, status: number, body: string | null): OrderFailure | 'status' | undefined {
  if (!EXPECTED_STATUSES[kind].includes(status)) return 'status';
  if (kind !== 'place-order') return undefined;
  return body === null ? 'not confirmed' : orderFailure(body);
}

/**
 * The `statusCounts` key of a response: its HTTP status, or `<status> <failure>` for an order
 * answered with the expected status that was not placed.
 * @example statusKey(201, 'rejected: payment_provider_error') // '201 rejected: payment_provider_error'
 */
export function statusKey(status: number, failure: OrderFailure | 'status' | undefined): string {
  return failure === undefined || failure === 'status' ? String(status) : `${status} ${failure}`;
}

/**
 * The k6 counter an order failure is counted in (k6 metric names allow letters, digits and `_`).
 * @example k6OrderFailureMetric('rejected: payment_declined') // 'archbench_order_rejected_payment_declined'
 */
export function k6OrderFailureMetric(failure: OrderFailure): string {
  return `archbench_order_${failure.replace(/[^A-Za-z0-9]+/g, '_')}`;
}

/**
 * The k6 rate metric of failed requests as archbench counts them (an order answered 201 that is not
 * CONFIRMED included). k6's own `http_req_failed` only sees the status, so the scripts' thresholds
 * on `http_req_failed` are set on this metric instead (toK6Options).
 */
export const K6_FAILED_METRIC = 'archbench_req_failed';

/** The request one iteration sends; both engines turn this into their HTTP call. */
export interface RequestSpec {
  kind: RequestKind;
  method: 'GET' | 'POST';
  /** Path and query, starting with `/`. */
  path: string;
  headers: Record<string, string>;
  body?: string;
  expectedStatuses: number[];
}

/** Per virtual-user state: a deterministic random source and the catalog paging cursor. */
export interface VuState {
  vuId: number;
  random: () => number;
  cursor: string | null;
  /** Bearer token of the customer this VU acts as. */
  token: string;
}

/**
 * A small deterministic PRNG (mulberry32) so both engines send the same request sequence per VU.
 * @example const next = seededRandom(1); next() // 0.627...
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function customerId(index: number): string {
  return `load-customer-${index}`;
}

/** Creates the state of virtual user `vuId` (1-based, as in k6). */
export function createVuState(vuId: number, tokens: readonly string[]): VuState {
  if (tokens.length === 0) throw new Error('at least one customer token is needed');
  return { vuId, random: seededRandom(0x9e3779b1 ^ vuId), cursor: null, token: tokens[vuId % tokens.length]! };
}

/** Picks a request kind by weight. */
export function pickRequest(mix: readonly WeightedRequest[], random: () => number): RequestKind {
  const total = mix.reduce((sum, m) => sum + m.weight, 0);
  let point = random() * total;
  for (const m of mix) {
    point -= m.weight;
    if (point < 0) return m.kind;
  }
  return mix[mix.length - 1]!.kind;
}

function sku(index: number): string {
  return `SKU-${String(index).padStart(4, '0')}`;
}

/** Builds the request of one iteration of a VU. */
export function buildRequest(kind: RequestKind, vu: VuState): RequestSpec {
  switch (kind) {
    case 'list-products': {
      const query = `limit=${PRODUCTS_PAGE_SIZE}${vu.cursor ? `&cursor=${encodeURIComponent(vu.cursor)}` : ''}`;
      return { kind, method: 'GET', path: `/products?${query}`, headers: { accept: 'application/json' }, expectedStatuses: EXPECTED_STATUSES[kind] };
    }
    case 'get-product':
      return {
        kind,
        method: 'GET',
        path: `/products/${sku(Math.floor(vu.random() * ORDER_SKU_COUNT))}`,
        headers: { accept: 'application/json' },
        expectedStatuses: EXPECTED_STATUSES[kind],
      };
    case 'place-order': {
      const first = Math.floor(vu.random() * ORDER_SKU_COUNT);
      const skus = [first];
      if (vu.random() < 0.5) skus.push((first + 1 + Math.floor(vu.random() * (ORDER_SKU_COUNT - 1))) % ORDER_SKU_COUNT);
      const body = JSON.stringify({ items: skus.map((i) => ({ sku: sku(i), quantity: 1 })), payment: { token: 'tok_ok' } });
      return {
        kind,
        method: 'POST',
        path: '/orders',
        headers: {
          accept: 'application/json',
          'content-type': 'application/json',
          authorization: `Bearer ${vu.token}`,
          prefer: `wait=${ORDER_WAIT_SECONDS}`,
        },
        body,
        expectedStatuses: EXPECTED_STATUSES[kind],
      };
    }
  }
}

/** True when the kind's response body is needed after the response (catalog paging). */
export function needsBody(kind: RequestKind): boolean {
  return kind === 'list-products';
}

/** Updates VU state from a response: follow `nextCursor`, start over at the end of the catalog. */
export function afterResponse(kind: RequestKind, vu: VuState, status: number, body: string | null): void {
  if (kind !== 'list-products') return;
  if (status !== 200 || body === null) {
    vu.cursor = null;
    return;
  }
  try {
    const next = (JSON.parse(body) as { nextCursor?: unknown }).nextCursor;
    vu.cursor = typeof next === 'string' && next.length > 0 ? next : null;
  } catch {
    vu.cursor = null;
  }
}

/**
 * The servers' development AUTH_SECRET, repeated here because k6 scripts cannot import
 * @archbench/contracts (node:crypto); a test keeps the two equal.
 */
export const DEV_AUTH_SECRET_FOR_K6 = 'archbench-dev-secret-change-me';

/**
 * Status-count buckets the k6 scripts keep as counters (`archbench_status_<bucket>`): every status
 * the API can answer (a test checks them against the OpenAPI document and the problem codes of
 * @archbench/contracts), Node's 408 (request timeout) and what a proxy in front may answer (429,
 * 504). k6 metrics must be declared before the run, so any other status is counted in
 * `archbench_status_other`, which the results show as `other`; the embedded engine keeps every code.
 */
export const K6_STATUS_BUCKETS = [200, 201, 202, 400, 401, 403, 404, 405, 408, 409, 413, 415, 422, 429, 431, 500, 502, 503, 504] as const;

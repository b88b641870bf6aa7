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
/** Statuses that count as success, per request kind. */
export const EXPECTED_STATUSES: Record<RequestKind, number[]> = {
  'list-products': [200],
  'get-product': [200],
  'place-order': [201],
};

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

/** Status-count buckets the k6 scripts keep as counters (`archbench_status_<bucket>`). */
export const K6_STATUS_BUCKETS = [200, 201, 202, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 504] as const;

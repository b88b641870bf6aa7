/**
 * The stable error codes of the public API, with the HTTP status each one is sent with.
 * A problem's `type` is `${PROBLEM_BASE}${code}`.
 */
export const PROBLEM_BASE = 'https://archbench.dev/problems/';

export const PROBLEM_CODES = {
  'malformed-json': 400,
  'invalid-query': 400,
  /** A request HTTP cannot take as it is: a control character in a header value, say. */
  'malformed-request': 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  /** A path of the API with a method it does not serve; sent with an `Allow` header listing those it does. */
  'method-not-allowed': 405,
  'insufficient-stock': 409,
  'order-not-cancellable': 409,
  'idempotency-in-progress': 409,
  'payload-too-large': 413,
  'unsupported-media-type': 415,
  /** The request line and headers together are over 16 KiB (Node's limit, held in every topology). */
  'headers-too-large': 431,
  'validation-failed': 422,
  'unknown-sku': 422,
  'idempotency-key-reused': 422,
  'internal-error': 500,
  'dependency-failed': 502,
  overloaded: 503,
  'not-ready': 503,
} as const;

export type ProblemCode = keyof typeof PROBLEM_CODES;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

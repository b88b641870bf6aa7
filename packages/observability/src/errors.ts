import { PROBLEM_BASE, PROBLEM_CONTENT_TYPE } from '@archbench/contracts/problems';
import { AppError } from '@archbench/domain/errors';
import type { ErrorKind } from '@archbench/domain/errors';
import type { ProblemCode } from '@archbench/contracts/problems';
import type { Problem } from '@archbench/contracts/schemas';

/**
 * Classification and problem+json mapping of the shared error model; the business errors
 * themselves (`AppError`, `DependencyError`) live in `@archbench/domain/errors`.
 */
export interface Classification {
  kind: ErrorKind;
  code: ProblemCode;
  status: number;
}

/** Classifies any thrown value; unknown errors are server errors. */
export function classifyError(error: unknown): Classification {
  if (error instanceof AppError) return { kind: error.kind, code: error.code, status: error.status };
  return { kind: 'server', code: 'internal-error', status: 500 };
}

const TITLES: Partial<Record<ProblemCode, string>> = {
  'malformed-json': 'Malformed JSON',
  'invalid-query': 'Invalid query parameters',
  'malformed-request': 'Malformed request',
  unauthorized: 'Unauthorized',
  forbidden: 'Forbidden',
  'not-found': 'Not found',
  'method-not-allowed': 'Method not allowed',
  'insufficient-stock': 'Insufficient stock',
  'order-not-cancellable': 'Order cannot be cancelled',
  'idempotency-in-progress': 'A request with this Idempotency-Key is in progress',
  'payload-too-large': 'Payload too large',
  'unsupported-media-type': 'Unsupported media type',
  'headers-too-large': 'Request header fields too large',
  'validation-failed': 'Validation failed',
  'unknown-sku': 'Unknown SKU',
  'idempotency-key-reused': 'Idempotency-Key reused with a different request',
  'internal-error': 'Internal server error',
  'dependency-failed': 'A dependency failed',
  overloaded: 'Server overloaded',
  'not-ready': 'Not ready',
};

export interface ProblemResponse {
  status: number;
  body: Problem;
  headers: Record<string, string>;
}

/**
 * Maps any thrown value to a problem+json response. Unknown errors become a generic 500 whose
 * detail never contains the message or stack of the cause.
 * @example const { status, body, headers } = toProblem(err, c.req.path)
 */
export function toProblem(error: unknown, instance?: string): ProblemResponse {
  const { code, status } = classifyError(error);
  const known = error instanceof AppError;
  const body: Problem = {
    type: `${PROBLEM_BASE}${code}`,
    title: TITLES[code] ?? code,
    status,
    detail: known ? error.message : 'An unexpected error occurred; it has been logged.',
    code,
    ...(instance ? { instance } : {}),
    ...(known && error.errors ? { errors: error.errors } : {}),
  };
  return { status, body, headers: { 'content-type': PROBLEM_CONTENT_TYPE, ...(known ? error.headers : {}) } };
}

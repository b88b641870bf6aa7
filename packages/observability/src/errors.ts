import { PROBLEM_BASE, PROBLEM_CODES, PROBLEM_CONTENT_TYPE } from '@archbench/contracts/problems';
import type { ProblemCode } from '@archbench/contracts/problems';
import type { FieldError, Problem } from '@archbench/contracts/schemas';

/**
 * The shared error model of every archbench server. Each error is one of three kinds:
 * - `client`: the caller sent something wrong (4xx); nothing to page anyone about.
 * - `server`: our own bug or broken state (5xx).
 * - `dependency`: a third party or another service failed (the payment provider, a peer).
 * Each carries a stable code from the contract; `toProblem` turns any thrown value into
 * problem+json without leaking internals.
 */
export type ErrorKind = 'client' | 'server' | 'dependency';

export interface AppErrorOptions {
  detail?: string;
  errors?: FieldError[];
  /** Extra response headers, e.g. Retry-After. */
  headers?: Record<string, string>;
  cause?: unknown;
}

/** A typed error with a stable code; throw it anywhere in a request and `onError` maps it. */
export class AppError extends Error {
  readonly code: ProblemCode;
  readonly status: number;
  readonly kind: ErrorKind;
  readonly errors?: FieldError[];
  readonly headers?: Record<string, string>;

  constructor(code: ProblemCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = PROBLEM_CODES[code];
    this.kind = code === 'dependency-failed' ? 'dependency' : this.status >= 500 ? 'server' : 'client';
    this.errors = options.errors;
    this.headers = options.headers;
  }
}

/**
 * A failure of something we depend on (payment provider, another service, the broker).
 * @example throw new DependencyError('payments', 'payment provider answered 503')
 */
export class DependencyError extends AppError {
  readonly dependency: string;
  constructor(dependency: string, message: string, options: AppErrorOptions = {}) {
    super('dependency-failed', message, options);
    this.name = 'DependencyError';
    this.dependency = dependency;
  }
}

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
  unauthorized: 'Unauthorized',
  forbidden: 'Forbidden',
  'not-found': 'Not found',
  'insufficient-stock': 'Insufficient stock',
  'order-not-cancellable': 'Order cannot be cancelled',
  'idempotency-in-progress': 'A request with this Idempotency-Key is in progress',
  'payload-too-large': 'Payload too large',
  'unsupported-media-type': 'Unsupported media type',
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

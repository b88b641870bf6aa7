import { PROBLEM_CODES } from '@archbench/contracts/problems';
import type { ProblemCode } from '@archbench/contracts/problems';
import type { FieldError } from '@archbench/contracts/schemas';

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

import type { Context, Hono, NotFoundHandler } from 'hono';
import type { Order } from '@archbench/contracts/schemas';
import { problemHandler, setResponseHeaders } from '@archbench/observability/hono';
import type { Logger } from '@archbench/observability/logging';
import type { Metrics } from '@archbench/observability/metrics';
import { placedOrderResponse as portablePlacedOrderResponse } from './portable';
import { unroutedError } from './unrouted';

// The contract helpers live in ./portable (no Node dependencies, shared with workerd); the
// public edge (security headers, CORS, body limit, overload guard) in ./edge.
export { MAX_IDEMPOTENCY_KEY_LENGTH, readCursor, readIdempotencyKey, readJson, validate, within } from './portable';

/**
 * The not-found handler of a Node server: 405 `method-not-allowed` with `Allow` for a path some
 * route of `app` serves, asked with a method none does; 404 `not-found` otherwise (`unroutedError`),
 * through problemHandler, so counted in `archbench_errors_total{kind,code}` like any client error.
 * Public, admin and internal routes alike, read off the app's own routes: a route the app did not
 * mount (`/metrics` with metrics off) is 404 for every method. Install it after observe(), whose
 * not-found handler (a 404 for every unrouted request) it replaces. Runs only for requests no
 * route took.
 * @example observe(app, { ... }); app.notFound(unroutedHandler(app, { logger, metrics }))
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any app: only its routes are read
export function unroutedHandler(app: Hono<any, any, any>, options: { logger: Logger; metrics?: Pick<Metrics, 'errorsTotal'> }): NotFoundHandler {
  const answer = problemHandler(options);
  return (c) => answer(unroutedError(app, c), c);
}

/**
 * Answers POST /orders as the contract says: 200 for an idempotent replay, 201 when the order
 * reached a terminal status, else 202; with Location, Preference-Applied and Idempotent-Replayed.
 */
export function placedOrderResponse(c: Context, placed: { order: Order; replayed: boolean }, waitSeconds: number | undefined) {
  return portablePlacedOrderResponse(c, placed, waitSeconds, setResponseHeaders);
}

import type { Context, NotFoundHandler } from 'hono';
import type { Order } from '@archbench/contracts/schemas';
import { problemHandler, setResponseHeaders } from '@archbench/observability/hono';
import type { Logger } from '@archbench/observability/logging';
import type { Metrics } from '@archbench/observability/metrics';
import { placedOrderResponse as portablePlacedOrderResponse, unrouted } from './portable';

// The contract helpers live in ./portable (no Node dependencies, shared with workerd); the
// public edge (security headers, CORS, body limit, overload guard) in ./edge.
export { MAX_IDEMPOTENCY_KEY_LENGTH, readCursor, readIdempotencyKey, readJson, unrouted, validate, within } from './portable';

/**
 * The not-found handler of a public Node server: 405 `method-not-allowed` with `Allow` for a path
 * of the public API asked with a method it does not serve, 404 `not-found` otherwise (`unrouted`),
 * through problemHandler, so counted in `archbench_errors_total{kind,code}` like any client error.
 * Install it after observe(), whose not-found handler (a 404 for every unrouted request, right for
 * internal services) it replaces. Runs only for requests no route took.
 * @example observe(app, { ... }); app.notFound(publicNotFound({ logger, metrics }))
 */
export function publicNotFound(options: { logger: Logger; metrics?: Pick<Metrics, 'errorsTotal'> }): NotFoundHandler {
  const answer = problemHandler(options);
  return (c) => answer(unrouted(c), c);
}

/**
 * Answers POST /orders as the contract says: 200 for an idempotent replay, 201 when the order
 * reached a terminal status, else 202; with Location, Preference-Applied and Idempotent-Replayed.
 */
export function placedOrderResponse(c: Context, placed: { order: Order; replayed: boolean }, waitSeconds: number | undefined) {
  return portablePlacedOrderResponse(c, placed, waitSeconds, setResponseHeaders);
}

// The public edge of the Node servers: ./portable's edge with response headers written straight
// onto node:http's response (see setResponseHeaders), so the answer keeps the adapter's fast path,
// and request headers read from node's own (see requestHeader).
import type { MiddlewareHandler } from 'hono';
import { requestHeader, setResponseHeaders } from '@archbench/observability/hono';
import { publicEdge as portableEdge } from './portable';
import type { PublicEdgeOptions } from './portable';

export { EXPOSED_HEADERS, SECURITY_HEADERS, openApiHandler } from './portable';
export type { PublicEdgeOptions } from './portable';

/**
 * Security headers, CORS (one exposed-header list), body limit (only requests with a body) and
 * overload guard as one middleware, for every public Node server. Pass it in observe()'s `use`
 * (observe installs the problem handler), then mount `/openapi.json` with openApiHandler.
 * @example
 * observe(app, { service, logger, metrics, use: [publicEdge({ corsOrigins: env.CORS_ORIGINS, maxInFlight: env.MAX_IN_FLIGHT })] });
 * app.get('/openapi.json', openApiHandler('archbench order API (monolith)'));
 */
export function publicEdge(options: PublicEdgeOptions): MiddlewareHandler {
  return portableEdge(options, setResponseHeaders, requestHeader);
}

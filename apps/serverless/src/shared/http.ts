/**
 * The workers' HTTP helpers. The contract helpers and the public edge come from
 * @archbench/server-kit/portable, the runtime-neutral part of server-kit (Fetch API, Hono and
 * the error model only; its Node part loads prom-client, pino and OpenTelemetry's Node context
 * manager, none of which load on workerd), so workerd and the Node servers run the same code.
 */
export { nodeHeaderRules, placedOrderResponse, publicEdge, readCursor, readIdempotencyKey, readJson, validate } from '@archbench/server-kit/portable';

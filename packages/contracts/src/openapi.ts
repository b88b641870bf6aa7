import { z } from 'zod';
import {
  CreateOrderRequest,
  Health,
  Order,
  OrderPage,
  OrderStatus,
  PaymentList,
  PaymentRecord,
  PaymentStatus,
  PaymentToken,
  Problem,
  Product,
  ProductPage,
  ProviderSettings,
  ProviderSettingsPatch,
  RejectionReason,
  RestockRequest,
  SeedResult,
  Shipment,
  Sku,
} from './schemas';
import { LIMITS } from './schemas';

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});
const json = (ref: string, description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } },
});
const pageParams = [
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: LIMITS.maxPageSize, default: LIMITS.defaultPageSize } },
  { name: 'cursor', in: 'query', schema: { type: 'string' }, description: 'nextCursor of the previous page' },
];
const orderId = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const bearer = [{ bearerAuth: [] }];
const common = {
  '401': problem('Missing, forged or expired token'),
  '431': problem('Request line and headers over 16 KiB (headers-too-large)'),
  '503': problem('Overloaded; retry after the Retry-After header'),
};

/** The component schemas, generated from the zod schemas (JSON Schema 2020-12, as OpenAPI 3.1 uses). */
function componentSchemas(): Record<string, unknown> {
  // Every schema with an id is listed: one left out lands in a `__shared` bucket that $refs cannot address.
  const schemas = [
    Sku,
    OrderStatus,
    PaymentStatus,
    RejectionReason,
    PaymentToken,
    PaymentRecord,
    Product,
    ProductPage,
    Order,
    OrderPage,
    CreateOrderRequest,
    Shipment,
    PaymentList,
    Problem,
    Health,
    RestockRequest,
    SeedResult,
    ProviderSettings,
    ProviderSettingsPatch,
  ];
  const registry = z.registry<{ id: string }>();
  for (const schema of schemas) {
    const id = (schema.meta() as { id?: string } | undefined)?.id;
    if (id) registry.add(schema, { id });
  }
  const out = z.toJSONSchema(registry, { uri: (id) => `#/components/schemas/${id}`, io: 'output', unrepresentable: 'any' });
  const result: Record<string, unknown> = {};
  for (const [id, schema] of Object.entries(out.schemas)) {
    // $id is dropped too: a fragment-only $id is not allowed in JSON Schema 2020-12.
    const { $schema: _drop, $id: _id, ...rest } = schema as Record<string, unknown>;
    result[id] = rest;
  }
  return result;
}

/**
 * The `paths` of the OpenAPI document: every public path and the operations (methods) it serves.
 * A fresh object per call, so no caller can change another's document. The route table
 * (./routes) is read off it, and the conformance suite holds every topology to it: another
 * method of a path is 405 with that `Allow`, whoever asks.
 * @example Object.keys(openApiPaths()['/orders']) // ['post', 'get']
 */
export function openApiPaths() {
  return {
    '/health': { get: { summary: 'Liveness', responses: { '200': json('Health', 'The process is up') } } },
    '/ready': {
      get: {
        summary: 'Readiness (database and, where used, broker reachable)',
        responses: { '200': json('Health', 'Ready'), '503': problem('Not ready') },
      },
    },
    '/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' } } } },
    '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'text/plain exposition format' } } } },
    '/products': {
      get: {
        summary: 'List products by SKU',
        parameters: pageParams,
        responses: { '200': json('ProductPage', 'A page of products'), '400': problem('Bad query') },
      },
    },
    '/products/{sku}': {
      get: {
        summary: 'One product',
        parameters: [{ name: 'sku', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': json('Product', 'The product'), '404': problem('Unknown SKU') },
      },
    },
    '/orders': {
      post: {
        summary: 'Place an order',
        description:
          'Reserves stock and creates the order atomically, then takes payment. Without `Prefer: wait` the answer is 202 with the PENDING order; with `Prefer: wait=N` the server waits up to N seconds for a terminal status (201) before answering 202.',
        security: bearer,
        parameters: [
          {
            name: 'Idempotency-Key',
            in: 'header',
            schema: { type: 'string', minLength: 1, maxLength: LIMITS.maxIdempotencyKeyLength, pattern: '^[\\x20-\\x2B\\x2D-\\x7E]+$' },
            description:
              'A retry with the same key returns the first order (200) and never charges twice. One value of printable ASCII but the comma (a UUID, say): two Idempotency-Key headers reach the server joined into one value with a comma, so a key holding a comma, like any other byte, is refused with 422 validation-failed.',
          },
          { name: 'Prefer', in: 'header', schema: { type: 'string', example: 'wait=5' } },
        ],
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/CreateOrderRequest' } } } },
        responses: {
          '200': json('Order', 'Idempotent replay: the order first created with this key'),
          '201': json('Order', 'The order reached a terminal status while waiting'),
          '202': json('Order', 'The order is accepted and still PENDING'),
          '400': problem('Malformed JSON, or a control character in a header value (malformed-request)'),
          ...common,
          '409': problem('Insufficient stock, or a request with the same Idempotency-Key is in progress'),
          '413': problem('Body too large'),
          '415': problem('Content type is not application/json, or the body has a Content-Encoding'),
          '422': problem('Validation failed, unknown SKU, or Idempotency-Key reused with another body'),
        },
      },
      get: {
        summary: "The caller's orders, newest first",
        security: bearer,
        parameters: [...pageParams, { name: 'status', in: 'query', schema: { $ref: '#/components/schemas/OrderStatus' } }],
        responses: { '200': json('OrderPage', 'A page of orders'), '400': problem('Bad query'), ...common },
      },
    },
    '/orders/{id}': {
      get: {
        summary: 'One order of the caller',
        security: bearer,
        parameters: [orderId, { name: 'Prefer', in: 'header', schema: { type: 'string', example: 'wait=5' } }],
        responses: { '200': json('Order', 'The order'), ...common, '404': problem("No such order (or another customer's)") },
      },
    },
    '/orders/{id}/cancel': {
      post: {
        summary: 'Cancel a confirmed order: refund and restock',
        security: bearer,
        parameters: [orderId],
        responses: {
          '200': json('Order', 'The cancelled order'),
          ...common,
          '404': problem('No such order'),
          '409': problem('Not cancellable in its status'),
        },
      },
    },
    '/orders/{id}/shipment': {
      get: {
        summary: 'The shipment created for a confirmed order',
        security: bearer,
        parameters: [orderId],
        responses: { '200': json('Shipment', 'The shipment'), ...common, '404': problem('No such order or no shipment yet') },
      },
    },
    '/admin/seed': {
      post: {
        summary: 'Insert the deterministic catalog where missing (admin)',
        security: bearer,
        responses: { '200': json('SeedResult', 'Seeded'), ...common, '403': problem('Not an admin') },
      },
    },
    '/admin/products/{sku}/restock': {
      post: {
        summary: 'Add stock (admin)',
        security: bearer,
        parameters: [{ name: 'sku', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/RestockRequest' } } } },
        responses: {
          '200': json('Product', 'The product after restock'),
          ...common,
          '403': problem('Not an admin'),
          '404': problem('Unknown SKU'),
          '422': problem('Validation failed'),
        },
      },
    },
    '/admin/orders/{id}/payments': {
      get: {
        summary: 'Payment records of an order (admin; used to prove at-most-once capture)',
        security: bearer,
        parameters: [orderId],
        responses: { '200': json('PaymentList', 'Charges and refunds'), ...common, '403': problem('Not an admin') },
      },
    },
    '/admin/payments/provider': {
      get: {
        summary: 'The simulated payment provider settings in force (admin; fault drills)',
        security: bearer,
        responses: { '200': json('ProviderSettings', 'The settings in force'), ...common, '403': problem('Not an admin') },
      },
      put: {
        summary: 'Switch the simulated payment provider at run time (admin; fault drills): any subset of the settings',
        security: bearer,
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/ProviderSettingsPatch' } } } },
        responses: {
          '200': json('ProviderSettings', 'The settings in force after the switch'),
          ...common,
          '403': problem('Not an admin'),
          '422': problem('Validation failed; nothing changed'),
        },
      },
      delete: {
        summary: "Switch the simulated payment provider back to the deployment's configured settings (admin; fault drills)",
        security: bearer,
        responses: { '200': json('ProviderSettings', 'The configured settings, now in force'), ...common, '403': problem('Not an admin') },
      },
    },
  };
}

/**
 * Builds the OpenAPI 3.1 document of the public API; every topology serves it at `/openapi.json`.
 * @example app.get('/openapi.json', (c) => c.json(buildOpenApiDocument({ title: 'monolith' })))
 */
export function buildOpenApiDocument(options: { title?: string; version?: string; serverUrl?: string } = {}) {
  return {
    openapi: '3.1.0',
    info: {
      title: options.title ?? 'archbench order API',
      version: options.version ?? '1.0.0',
      description:
        'The order-processing API that every archbench reference app (modular monolith, microservices, hybrid, serverless) implements identically. ' +
        'A method a path below does not list is answered 405 method-not-allowed with an Allow header naming the methods it serves (HEAD wherever GET); a path not below is 404 not-found.',
    },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: componentSchemas(),
      responses: {
        MethodNotAllowed: {
          ...problem('A method the path does not serve (method-not-allowed); nothing was done'),
          headers: { Allow: { description: 'The methods the path serves, e.g. `GET, HEAD, POST`', schema: { type: 'string' } } },
        },
      },
    },
    paths: openApiPaths(),
  };
}

import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from './openapi';
import { publicRoutes } from './routes';

describe('publicRoutes', () => {
  it('lists every path of the OpenAPI document with its operations, and HEAD wherever GET', () => {
    const paths = buildOpenApiDocument().paths as Record<string, Record<string, unknown>>;
    const fromDocument = Object.entries(paths).map(([template, item]) => {
      const methods = Object.keys(item).map((m) => m.toUpperCase());
      return [template, (methods.includes('GET') ? [...methods, 'HEAD'] : methods).sort()];
    });
    expect(publicRoutes().map((r) => [r.template, [...r.methods].sort()])).toEqual(fromDocument);
  });

  it('writes the Allow value in one order: GET, HEAD, POST', () => {
    const allow = Object.fromEntries(publicRoutes().map((r) => [r.template, r.allow]));
    expect(allow['/orders']).toBe('GET, HEAD, POST');
    expect(allow['/orders/{id}/cancel']).toBe('POST');
    expect(allow['/products/{sku}']).toBe('GET, HEAD');
  });
});

import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { observe } from '@archbench/observability/hono';
import { createLogger } from '@archbench/observability/logging';
import { buildOpenApiDocument } from '@archbench/contracts/openapi';
import { readIdempotencyKey } from './http';
import { ALLOWED_METHODS } from './portable';

const logger = createLogger({ service: 'portable-test', level: 'silent' });

describe('readIdempotencyKey', () => {
  const app = new Hono();
  observe(app, { service: 'portable-test', logger });
  app.post('/orders', (c) => c.json({ key: readIdempotencyKey(c) ?? null }));
  const send = (headers: Headers | Record<string, string>) => app.request('/orders', { method: 'POST', headers });

  it('takes one key of printable ASCII', async () => {
    expect(await (await send({ 'idempotency-key': 'a b:c;d' })).json()).toEqual({ key: 'a b:c;d' });
    expect(await (await send({})).json()).toEqual({ key: null });
  });

  it('refuses two Idempotency-Key headers, which arrive joined with a comma, and says why', async () => {
    const headers = new Headers();
    headers.append('idempotency-key', 'a');
    headers.append('idempotency-key', 'b');
    for (const res of [await send(headers), await send({ 'idempotency-key': 'a,b' })]) {
      expect(res.status).toBe(422);
      expect(await res.json()).toMatchObject({
        code: 'validation-failed',
        detail: 'Idempotency-Key must be one value without a comma (duplicate Idempotency-Key headers are joined with commas)',
        errors: [{ path: 'header.Idempotency-Key' }],
      });
    }
  });

  it('refuses an empty, a too long and a not-ASCII key with the length and charset rule', async () => {
    for (const key of ['', 'k'.repeat(201), 'k\u00e9']) {
      const res = await send({ 'idempotency-key': key });
      expect(res.status, JSON.stringify(key)).toBe(422);
      expect(((await res.json()) as { detail: string }).detail).toBe('Idempotency-Key must be 1 to 200 printable ASCII characters');
    }
  });
});

describe('CORS preflight methods', () => {
  it('allows every method the OpenAPI document has a route for, so a browser on another origin can call each (DELETE /admin/payments/provider)', () => {
    const document = buildOpenApiDocument() as { paths: Record<string, Record<string, unknown>> };
    const methods = new Set(Object.values(document.paths).flatMap((item) => Object.keys(item).filter((k) => /^(get|head|post|put|delete|patch)$/.test(k))));
    expect([...methods]).toContain('delete');
    for (const method of methods) expect(ALLOWED_METHODS.split(','), method).toContain(method.toUpperCase());
  });
});

import { describe, expect, it } from 'vitest';
import type { ApiResponse } from './client';
import { eventually, expectBody, expectProblem } from './expect';
import { Product } from '../schemas';

const response = (status: number, body: unknown, contentType = 'application/problem+json'): ApiResponse => ({
  method: 'POST',
  path: '/orders',
  status,
  headers: new Headers({ 'content-type': contentType }),
  text: typeof body === 'string' ? body : JSON.stringify(body),
});

const problem = (overrides: Record<string, unknown> = {}) => ({
  type: 'https://archbench.dev/problems/validation-failed',
  title: 'Validation failed',
  status: 422,
  detail: 'items.0.quantity: must be at most 1000',
  code: 'validation-failed',
  instance: '/orders',
  ...overrides,
});

describe('expectProblem', () => {
  it('accepts a contract problem (no false alarms on ordinary details and instances)', () => {
    expect(expectProblem(response(422, problem()), [400, 422], { code: 'validation-failed' }).code).toBe('validation-failed');
    expectProblem(
      response(
        404,
        problem({
          type: 'https://archbench.dev/problems/not-found',
          title: 'Not found',
          status: 404,
          code: 'not-found',
          detail: 'no order ord_01a2',
          instance: '/orders/ord_01a2',
        }),
      ),
      404,
    );
  });

  it.each([
    ['a wrong status', response(500, problem()), 'expected a 422 problem, got 500'],
    ['plain JSON', response(422, problem(), 'application/json'), 'must be application/problem+json'],
    ['a body that is not JSON', response(422, '<html>oops</html>'), 'not JSON'],
    ['a missing detail', response(422, { ...problem(), detail: undefined }), 'detail'],
    ['a status mismatch', response(422, problem({ status: 400 })), 'problem.status 400 differs from the HTTP status 422'],
    ['an unknown code', response(422, problem({ code: 'oops', type: 'https://archbench.dev/problems/oops' })), 'is not one of the contract'],
    [
      'a code of another status',
      response(422, problem({ code: 'malformed-json', type: 'https://archbench.dev/problems/malformed-json' })),
      'belongs with status 400',
    ],
    ['a wrong type', response(422, problem({ type: 'about:blank' })), 'problem type should be https://archbench.dev/problems/validation-failed'],
    ['a stack frame', response(422, problem({ detail: 'TypeError: x\n    at readJson (/app/dist/http.js:20:11)' })), 'leaks a stack frame'],
    ['a file path', response(422, problem({ detail: "ENOENT: open '/home/app/data/monolith.db'" })), 'leaks a server file path'],
  ])('rejects %s', (_what, res, message) => {
    expect(() => expectProblem(res, 422)).toThrow(message);
  });

  it('rejects a code other than the prescribed one', () => {
    expect(() => expectProblem(response(422, problem()), 422, { code: 'unknown-sku' })).toThrow('expected problem code unknown-sku, got validation-failed');
  });
});

describe('expectBody', () => {
  it('validates with the contract schema and names the bad field', () => {
    const res = response(200, { sku: 'SKU-0001', name: 'x', priceCents: 1, currency: 'USD', stock: -1 }, 'application/json');
    expect(() => expectBody(res, 200, Product)).toThrow(/body does not match the contract schema: currency: .*; stock: /);
  });
});

describe('eventually', () => {
  it('retries until the assertion holds', async () => {
    let calls = 0;
    await expect(eventually(async () => ++calls >= 3 || Promise.reject(new Error('not yet')), { intervalMs: 1 })).resolves.toBe(true);
    expect(calls).toBe(3);
  });

  it('gives up with the last message and the time waited', async () => {
    await expect(eventually(() => Promise.reject(new Error('stock is 4')), { timeoutMs: 30, intervalMs: 5 })).rejects.toThrow(
      'stock is 4 (still so after 30 ms)',
    );
  });
});
